-- Triggers, history and alerts (SPEC §3): existing tables keep their loan
-- scores current.
--
-- Per table, credit.enable_scoring attaches
--   credit_scoring_score            BEFORE INSERT OR UPDATE OF <inputs>, scored_at
--                                   FOR EACH ROW: credit.score_row() (Rust) fills
--                                   credit_score, default_probability, segment, scored_at;
--   credit_scoring_history_insert,  AFTER INSERT / AFTER UPDATE FOR EACH STATEMENT,
--   credit_scoring_history_update   with transition tables: credit.record_scores()
--                                   appends history and raises alerts in one
--                                   set-based INSERT per statement;
-- and, in the customers + loans layout, on customers
--   credit_scoring_rescore_<oid>    AFTER UPDATE FOR EACH STATEMENT:
--                                   credit.rescore_customers() asks the loans of
--                                   customers whose income or assets changed to
--                                   be rescored (by setting scored_at to NULL).

-- Application roles call the scoring functions; tables stay private.
GRANT USAGE ON SCHEMA credit TO PUBLIC;

CREATE TABLE credit.scored_tables (
    relid             regclass PRIMARY KEY,
    table_name        text NOT NULL UNIQUE,
    key_column        text NOT NULL,
    income_column     text NOT NULL,
    assets_column     text NOT NULL,
    amount_column     text NOT NULL,
    tenor_column      text NOT NULL,
    customers         regclass,
    customer_ref      text,
    customers_key     text,
    scorecard         text NOT NULL DEFAULT 'reference',
    alert_drop_points integer CHECK (alert_drop_points > 0),
    alert_window      interval,
    dsr_alert_ratio   numeric CHECK (dsr_alert_ratio > 0),
    enabled_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE credit.scored_tables IS
    'Tables with scoring enabled (credit.enable_scoring) and their configuration; alert_* and dsr_alert_ratio override the settings for one table when not NULL';

CREATE TABLE credit.score_history (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name          text NOT NULL,
    row_key             text NOT NULL,
    monthly_income      numeric,
    assets              numeric,
    loan_amount         numeric,
    tenor_months        integer,
    credit_score        integer,
    default_probability numeric,
    segment             text,
    scorecard           text NOT NULL,
    scored_at           timestamptz NOT NULL,
    decision            text,
    decision_reasons    text[]
);
CREATE INDEX score_history_row ON credit.score_history (table_name, row_key, id);
COMMENT ON TABLE credit.score_history IS
    'Audit trail: every scoring of a row of a scored table, with the inputs used (NULL income or assets as 0) and the result; NULL score: the inputs were invalid';
COMMENT ON COLUMN credit.score_history.table_name IS 'The scored table, schema-qualified (public.loans)';
COMMENT ON COLUMN credit.score_history.row_key IS 'The scored row''s key column value, as text';
COMMENT ON COLUMN credit.score_history.decision IS 'The instant decision: approve, review or decline (SPEC §9)';
COMMENT ON COLUMN credit.score_history.decision_reasons IS 'The rules behind the decision';

CREATE TABLE credit.score_alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_name      text NOT NULL,
    row_key         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('score_drop', 'dsr_critical', 'invalid_input')),
    old_score       integer,
    new_score       integer,
    score_drop      integer,
    old_segment     text,
    new_segment     text,
    details         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    acknowledged_by text,
    note            text
);
CREATE INDEX score_alerts_row ON credit.score_alerts (table_name, row_key, id);
CREATE INDEX score_alerts_open ON credit.score_alerts (created_at) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE credit.score_alerts IS
    'Alerts raised by scoring triggers: score_drop (fell by alert_drop_points from the window''s peak), dsr_critical (DSR rose above dsr_alert_ratio), invalid_input (the row could not be scored; details.reason says why)';
COMMENT ON COLUMN credit.score_alerts.old_score IS 'score_drop: the highest score within the window the fall is measured from; otherwise the score before the change';

CREATE FUNCTION credit.score_row() RETURNS trigger
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_score_row';
COMMENT ON FUNCTION credit.score_row() IS
    'Row trigger attached by credit.enable_scoring: fills credit_score, default_probability, segment and scored_at from the row''s inputs';

CREATE FUNCTION credit.record_scores() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- SECURITY DEFINER: application roles write scored rows but have no rights
-- on credit.*; the configuration comes from credit.scored_tables, never from
-- the caller, and every name is quoted with format(%I).
DECLARE
    cfg       credit.scored_tables;
    income    text;
    assets    text;
    sources   text;
    rescored  text;
    old_score text := 'NULL::integer';
    old_seg   text := 'NULL::text';
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = TG_RELID;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF cfg.customers IS NULL THEN
        income  := format('n.%I', cfg.income_column);
        assets  := format('n.%I', cfg.assets_column);
        sources := 'credit_new n';
    ELSE
        income  := format('c.%I', cfg.income_column);
        assets  := format('c.%I', cfg.assets_column);
        sources := format('credit_new n LEFT JOIN %s c ON c.%I = n.%I', cfg.customers, cfg.customers_key, cfg.customer_ref);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        sources   := sources || format(' JOIN credit_old o ON o.%I = n.%I', cfg.key_column, cfg.key_column);
        rescored  := 'n.scored_at IS DISTINCT FROM o.scored_at';
        old_score := 'o.credit_score';
        old_seg   := 'o.segment';
    ELSE
        rescored  := 'n.scored_at IS NOT NULL';
    END IF;

    EXECUTE format($q$
        WITH scored AS MATERIALIZED (
            SELECT n.%1$I::text AS row_key,
                   coalesce(%2$s, 0)::numeric AS monthly_income,
                   coalesce(%3$s, 0)::numeric AS assets,
                   n.%4$I::numeric AS loan_amount,
                   CASE WHEN n.%5$I::numeric BETWEEN -2147483648 AND 2147483647
                        THEN n.%5$I::numeric::integer END AS tenor_months,
                   n.%5$I::numeric AS tenor_value,
                   n.credit_score, n.default_probability, n.segment, n.scored_at, n.decision,
                   %6$s AS old_score, %7$s AS old_segment
            FROM %8$s
            WHERE %9$s
        ), history AS (
            INSERT INTO credit.score_history (table_name, row_key, monthly_income, assets, loan_amount,
                                              tenor_months, credit_score, default_probability, segment,
                                              scorecard, scored_at, decision, decision_reasons)
            SELECT $1, row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
                   default_probability, segment, $2, scored_at, decision,
                   CASE WHEN credit_score IS NOT NULL
                        THEN (credit.decide(monthly_income, assets, loan_amount, tenor_months, $2)).decision_reasons
                   END
            FROM scored
        )
        INSERT INTO credit.score_alerts (table_name, row_key, kind, old_score, new_score, score_drop,
                                         old_segment, new_segment, details)
        -- invalid_input: the row could not be scored; say why.
        SELECT $1, s.row_key, 'invalid_input', s.old_score, NULL::integer, NULL::integer, s.old_segment, NULL::text,
               jsonb_build_object(
                   'reason', coalesce(credit.validate_application(s.monthly_income, s.assets, s.loan_amount,
                                                                  s.tenor_months),
                                      CASE WHEN s.tenor_value IS NOT NULL AND s.tenor_months IS DISTINCT FROM s.tenor_value
                                           THEN 'tenor_months must be a whole number of months within integer range, got ' || s.tenor_value END,
                                      'invalid input'),
                   'monthly_income', s.monthly_income, 'assets', s.assets,
                   'loan_amount', s.loan_amount, 'tenor_months', s.tenor_value)
        FROM scored s
        WHERE s.credit_score IS NULL
        UNION ALL
        -- dsr_critical: installment / income rose above the ratio (exact:
        -- amount x (1 + margin) > ratio x income x tenor), from not above before.
        SELECT $1, s.row_key, 'dsr_critical', s.old_score, s.credit_score, NULL::integer, s.old_segment, s.segment,
               jsonb_build_object('dsr', round(s.loan_amount * (1 + $6) / s.tenor_months / s.monthly_income, 4),
                                  'dsr_alert_ratio', $3)
        FROM scored s
        WHERE s.credit_score IS NOT NULL AND s.monthly_income > 0
          AND s.loan_amount * (1 + $6) > $3 * s.monthly_income * s.tenor_months
          AND NOT coalesce((SELECT h.credit_score IS NOT NULL AND h.monthly_income > 0
                                   AND h.loan_amount * (1 + $6) > $3 * h.monthly_income * h.tenor_months
                            FROM credit.score_history h
                            WHERE h.table_name = $1 AND h.row_key = s.row_key
                            ORDER BY h.id DESC LIMIT 1), false)
        UNION ALL
        -- score_drop: fell by at least $4 points below the highest score
        -- within the window ($5; 0: the previous score only); a further alert
        -- needs a further fall of $4 below the last alert's score.
        SELECT $1, d.row_key, 'score_drop', d.peak, d.credit_score, d.peak - d.credit_score,
               d.old_segment, d.segment,
               jsonb_build_object('previous_score', d.old_score, 'alert_drop_points', $4,
                                  'alert_window', $5::text)
        FROM (SELECT s.*,
                     CASE WHEN $5 = interval '0' THEN s.old_score
                          ELSE greatest(s.old_score,
                                        (SELECT max(h.credit_score) FROM credit.score_history h
                                         WHERE h.table_name = $1 AND h.row_key = s.row_key
                                           AND h.scored_at >= now() - $5)) END AS peak,
                     CASE WHEN $5 > interval '0' THEN
                         (SELECT a.new_score FROM credit.score_alerts a
                          WHERE a.table_name = $1 AND a.row_key = s.row_key AND a.kind = 'score_drop'
                            AND a.created_at >= now() - $5
                          ORDER BY a.id DESC LIMIT 1) END AS last_alert
              FROM scored s
              WHERE s.credit_score < s.old_score) d
        WHERE d.peak - d.credit_score >= $4
          AND (d.last_alert IS NULL OR d.last_alert - d.credit_score >= $4)
        $q$,
        cfg.key_column, income, assets, cfg.amount_column, cfg.tenor_column,
        old_score, old_seg, sources, rescored)
    USING cfg.table_name,
          cfg.scorecard,
          coalesce(cfg.dsr_alert_ratio,
                   nullif(current_setting('credit_scoring.dsr_alert_ratio', true), '')::numeric, 0.60),
          coalesce(cfg.alert_drop_points,
                   nullif(current_setting('credit_scoring.alert_drop_points', true), '')::integer, 15),
          coalesce(cfg.alert_window,
                   nullif(current_setting('credit_scoring.alert_window', true), '')::interval, interval '30 days'),
          (SELECT (sc.definition->>'margin_rate')::numeric FROM credit.scorecards sc WHERE sc.name = cfg.scorecard);
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION credit.record_scores() IS
    'Statement trigger attached by credit.enable_scoring: appends the statement''s scorings to credit.score_history and raises alerts, set-based';

CREATE FUNCTION credit.rescore_customers() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- Runs as the role that updated customers (it updates that role's loans).
DECLARE
    cfg credit.scored_tables;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = TG_ARGV[0]::regclass;
    IF NOT FOUND OR cfg.customers IS NULL THEN
        RETURN NULL;
    END IF;
    -- Setting scored_at asks the row trigger to rescore (it reads the
    -- customer's new income and assets) and writes a new scored_at.
    EXECUTE format(
        'UPDATE %s l SET scored_at = NULL
         FROM credit_new n JOIN credit_old o ON o.%I = n.%I
         WHERE l.%I = n.%I AND (n.%I IS DISTINCT FROM o.%I OR n.%I IS DISTINCT FROM o.%I)',
        cfg.relid, cfg.customers_key, cfg.customers_key, cfg.customer_ref, cfg.customers_key,
        cfg.income_column, cfg.income_column, cfg.assets_column, cfg.assets_column);
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION credit.rescore_customers() IS
    'Statement trigger on a customers table (layout 2): rescores the loans of customers whose income or assets changed';

REVOKE EXECUTE ON FUNCTION credit.record_scores() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION credit.rescore_customers() FROM PUBLIC;

CREATE FUNCTION credit.enable_scoring(
    target       regclass,
    income       text     DEFAULT 'monthly_income',
    assets       text     DEFAULT 'assets_value',
    amount       text     DEFAULT 'loan_amount',
    tenor        text     DEFAULT 'tenor_months',
    key          text     DEFAULT NULL,
    customers    regclass DEFAULT NULL,
    customer_ref text     DEFAULT 'customer_id',
    scorecard    text     DEFAULT 'reference')
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    t_kind      char;
    t_name      text;
    c_key       text;
    numeric_ok  regtype[] := ARRAY['numeric', 'smallint', 'integer', 'bigint', 'real', 'double precision']::regtype[];
    col         record;
    update_cols text;
    previous    credit.scored_tables;
BEGIN
    SELECT c.relkind, format('%s.%s', n.nspname, c.relname) INTO t_kind, t_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF t_kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is not a table', target USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM credit.scorecards s WHERE s.name = enable_scoring.scorecard) THEN
        RAISE EXCEPTION 'credit.enable_scoring: scorecard "%" does not exist', scorecard
            USING ERRCODE = 'undefined_object', HINT = 'See SELECT name FROM credit.scorecards.';
    END IF;

    -- The row key: the given column, else the single-column primary key.
    IF key IS NULL THEN
        SELECT a.attname INTO key
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = target AND i.indisprimary AND i.indnkeyatts = 1;
        IF key IS NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: % has no single-column primary key', target
                USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the row key column: key => ''id''.';
        END IF;
    END IF;

    -- Every named column must exist with a numeric type.
    FOR col IN
        SELECT r.rel, r.name, a.atttypid::regtype AS type, r.numeric
        FROM (VALUES (target, key, false), (target, amount, true), (target, tenor, true),
                     (coalesce(customers, target), income, true), (coalesce(customers, target), assets, true),
                     (CASE WHEN customers IS NOT NULL THEN target END, customer_ref, false))
             AS r(rel, name, numeric)
        LEFT JOIN pg_attribute a ON a.attrelid = r.rel AND a.attname = r.name AND a.attnum > 0 AND NOT a.attisdropped
        WHERE r.rel IS NOT NULL
    LOOP
        IF col.type IS NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: column "%" does not exist in %', col.name, col.rel
                USING ERRCODE = 'undefined_column';
        END IF;
        IF col.numeric AND NOT col.type = ANY (numeric_ok) THEN
            RAISE EXCEPTION 'credit.enable_scoring: column %.% is of type %, not a number', col.rel, col.name, col.type
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;

    IF customers IS NOT NULL THEN
        SELECT a.attname INTO c_key
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = customers AND i.indisprimary AND i.indnkeyatts = 1;
        IF c_key IS NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: % has no single-column primary key', customers
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- Score columns, added when missing; existing ones must fit.
    EXECUTE format('ALTER TABLE %s ADD COLUMN IF NOT EXISTS credit_score integer,
                                   ADD COLUMN IF NOT EXISTS default_probability numeric,
                                   ADD COLUMN IF NOT EXISTS segment text,
                                   ADD COLUMN IF NOT EXISTS scored_at timestamptz,
                                   ADD COLUMN IF NOT EXISTS decision text', target);
    FOR col IN
        SELECT r.name, r.type, a.atttypid::regtype AS actual
        FROM (VALUES ('credit_score', 'integer'::regtype), ('default_probability', 'numeric'),
                     ('segment', 'text'), ('scored_at', 'timestamptz'), ('decision', 'text')) AS r(name, type)
        JOIN pg_attribute a ON a.attrelid = target AND a.attname = r.name AND NOT a.attisdropped
        WHERE a.atttypid <> r.type
    LOOP
        RAISE EXCEPTION 'credit.enable_scoring: %.% is of type %, needs %', target, col.name, col.actual, col.type
            USING ERRCODE = 'datatype_mismatch';
    END LOOP;

    -- Idempotent: whatever was attached before goes first.
    SELECT * INTO previous FROM credit.scored_tables WHERE relid = target;
    IF FOUND THEN
        PERFORM credit.disable_scoring(target);
    END IF;

    -- From now on the scorecard is in use: immutable.
    UPDATE credit.scorecards s SET first_used_at = now()
    WHERE s.name = enable_scoring.scorecard AND s.first_used_at IS NULL;

    INSERT INTO credit.scored_tables (relid, table_name, key_column, income_column, assets_column, amount_column,
                                      tenor_column, customers, customer_ref, customers_key, scorecard,
                                      alert_drop_points, alert_window, dsr_alert_ratio)
    VALUES (target, t_name, key, income, assets, amount, tenor, customers,
            CASE WHEN customers IS NOT NULL THEN customer_ref END, c_key, scorecard,
            previous.alert_drop_points, previous.alert_window, previous.dsr_alert_ratio);

    update_cols := CASE WHEN customers IS NULL THEN format('%I, %I, %I, %I', income, assets, amount, tenor)
                        ELSE format('%I, %I, %I', customer_ref, amount, tenor) END;
    EXECUTE format('CREATE TRIGGER credit_scoring_score BEFORE INSERT OR UPDATE OF %s, scored_at ON %s
                    FOR EACH ROW EXECUTE FUNCTION credit.score_row(%L, %L, %L, %L, %L, %L, %L, %L, %L)',
                   update_cols, target, income, assets, amount, tenor, scorecard,
                   coalesce(customers::text, ''), coalesce(customer_ref, ''), coalesce(c_key, ''), '');
    EXECUTE format('CREATE TRIGGER credit_scoring_history_insert AFTER INSERT ON %s
                    REFERENCING NEW TABLE AS credit_new
                    FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores()', target);
    EXECUTE format('CREATE TRIGGER credit_scoring_history_update AFTER UPDATE ON %s
                    REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                    FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores()', target);
    IF customers IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s
                        REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.rescore_customers(%L)',
                       'credit_scoring_rescore_' || target::oid, customers, t_name);
    END IF;

    -- Score what is already there (history records it as a first scoring).
    EXECUTE format('UPDATE %s SET scored_at = NULL', target);
END
$fn$;
COMMENT ON FUNCTION credit.enable_scoring(regclass, text, text, text, text, text, regclass, text, text) IS
    'Attaches scoring to a table (idempotent): adds credit_score, default_probability, segment, scored_at and decision, keeps them current on INSERT and on UPDATE of an input, records history and alerts, and scores existing rows';

CREATE FUNCTION credit.disable_scoring(target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cfg credit.scored_tables;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
    EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_score ON %s', target);
    EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_insert ON %s', target);
    EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_update ON %s', target);
    IF cfg.customers IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'credit_scoring_rescore_' || target::oid, cfg.customers);
    END IF;
    DELETE FROM credit.scored_tables WHERE relid = target;
END
$fn$;
COMMENT ON FUNCTION credit.disable_scoring(regclass) IS
    'Detaches scoring from a table; its score columns and its history and alerts stay';

CREATE FUNCTION credit.verify(target regclass)
RETURNS TABLE (row_key text, stored_score integer, expected_score integer,
               stored_segment text, expected_segment text,
               stored_decision text, expected_decision text, problem text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
-- For operators: the rows whose stored score, segment or decision differ
-- from a recomputation from their current inputs (empty when healthy).
-- Runs with the caller's rights on the table.
DECLARE
    cfg     credit.scored_tables;
    income  text;
    assets  text;
    sources text;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables t WHERE t.relid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'credit.verify: scoring is not enabled on %', target USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cfg.customers IS NULL THEN
        income := format('n.%I', cfg.income_column);
        assets := format('n.%I', cfg.assets_column);
        sources := format('%s n', cfg.relid);
    ELSE
        income := format('c.%I', cfg.income_column);
        assets := format('c.%I', cfg.assets_column);
        sources := format('%s n LEFT JOIN %s c ON c.%I = n.%I', cfg.relid, cfg.customers, cfg.customers_key,
                          cfg.customer_ref);
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT n.%1$I::text, n.credit_score, s.credit_score, n.segment, s.segment, n.decision, d.decision,
               credit.validate_application(coalesce(%2$s, 0)::numeric, coalesce(%3$s, 0)::numeric,
                                           n.%4$I::numeric, n.%5$I::integer)
        FROM %6$s
        LEFT JOIN LATERAL credit.try_score_credit(coalesce(%2$s, 0)::numeric, coalesce(%3$s, 0)::numeric,
                                                  n.%4$I::numeric, n.%5$I::integer) AS p ON true
        LEFT JOIN LATERAL credit.score_credit(coalesce(%2$s, 0)::numeric, coalesce(%3$s, 0)::numeric,
                                              n.%4$I::numeric, n.%5$I::integer, $1) AS s ON p IS NOT NULL
        LEFT JOIN LATERAL credit.decide(coalesce(%2$s, 0)::numeric, coalesce(%3$s, 0)::numeric,
                                        n.%4$I::numeric, n.%5$I::integer, $1) AS d ON p IS NOT NULL
        WHERE n.credit_score IS DISTINCT FROM s.credit_score
           OR n.segment IS DISTINCT FROM s.segment
           OR n.decision IS DISTINCT FROM d.decision
        $q$, cfg.key_column, income, assets, cfg.amount_column, cfg.tenor_column, sources)
    USING cfg.scorecard;
END
$fn$;
COMMENT ON FUNCTION credit.verify(regclass) IS
    'Rows of a scored table whose stored score, segment or decision differ from a recomputation from their current inputs; empty when healthy';

-- pg_dump keeps what users put in the extension's tables.
SELECT pg_catalog.pg_extension_config_dump('credit.scored_tables', '');
SELECT pg_catalog.pg_extension_config_dump('credit.score_history', '');
SELECT pg_catalog.pg_extension_config_dump('credit.score_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('credit.score_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('credit.score_alerts_id_seq', '');
