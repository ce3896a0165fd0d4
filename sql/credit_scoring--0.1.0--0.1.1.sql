-- credit_scoring 0.1.0 -> 0.1.1
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credit_scoring UPDATE TO '0.1.1'" to load this file. \quit

-- Trigger fixes found by the reliability suite: the trigger on a customers
-- table that rescores its loans is named after the scored table (its oid
-- changed on dump and restore), goes away with the scored table, and does
-- not fail once the scored table is gone; partitions get their history
-- triggers only while scoring is live (not during a pg_restore).
CREATE FUNCTION credit.rescore_trigger_name(scored_table text) RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    -- Named after the scored table (which survives dump and restore, unlike
    -- its oid), shortened with a hash to fit a name.
    SELECT (left('credit_scoring_rescore_' || replace(scored_table, '.', '_'), 54) || '_'
            || left(md5(scored_table), 8))::name
$$;
COMMENT ON FUNCTION credit.rescore_trigger_name(text) IS
    'Internal: the name of the trigger on a customers table that rescores the loans of the given scored table';

CREATE OR REPLACE FUNCTION credit.rescore_customers() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- SECURITY DEFINER: the role that updated customers needs no rights on
-- credit.* nor on the loans; all it can cause is a rescoring of the loans
-- of the customers it changed.
DECLARE
    cfg credit.scored_tables;
BEGIN
    -- (to_regclass: a dropped loans table leaves nothing to rescore)
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = to_regclass(TG_ARGV[0]);
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

CREATE OR REPLACE FUNCTION credit.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- A partition created or attached under a scored table gets the history
-- triggers (and its unscored rows scored). Cheap for all other DDL: one
-- lookup in credit.scored_tables.
DECLARE
    root   regclass;
    orphan record;
BEGIN
    FOR root IN
        SELECT DISTINCT t.relid
        FROM pg_event_trigger_ddl_commands() d
        JOIN credit.scored_tables t ON t.relid = coalesce(pg_partition_root(d.objid), d.objid)
        WHERE d.classid = 'pg_class'::regclass
          -- Scoring is live on the table (during a pg_restore it is not yet:
          -- the restore creates the triggers itself, after the tables).
          AND EXISTS (SELECT 1 FROM pg_trigger g
                      WHERE g.tgrelid = t.relid AND g.tgname = 'credit_scoring_score')
    LOOP
        PERFORM credit.attach_statement_triggers(root, true);
    END LOOP;
    -- A detached partition keeps no history triggers of its former parent.
    FOR orphan IN
        SELECT DISTINCT g.tgrelid::regclass AS rel
        FROM pg_trigger g
        WHERE g.tgname IN ('credit_scoring_history_insert', 'credit_scoring_history_update',
                           'credit_scoring_history_delete')
          AND NOT EXISTS (SELECT 1 FROM credit.scored_tables t
                          WHERE t.relid = coalesce(pg_partition_root(g.tgrelid), g.tgrelid))
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_insert ON %s', orphan.rel);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_update ON %s', orphan.rel);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_delete ON %s', orphan.rel);
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION credit.on_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- A dropped scored table leaves no configuration behind (its history
-- stays), nor a rescoring trigger on its customers table.
DECLARE
    gone record;
BEGIN
    FOR gone IN
        DELETE FROM credit.scored_tables t
        USING pg_event_trigger_dropped_objects() d
        WHERE d.object_type = 'table' AND t.relid::oid = d.objid
        RETURNING t.table_name, t.customers
    LOOP
        IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = gone.customers) THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', credit.rescore_trigger_name(gone.table_name),
                           gone.customers);
        END IF;
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION credit.enable_scoring(
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
    unchanged   boolean := false;
BEGIN
    SELECT c.relkind, format('%s.%s', n.nspname, c.relname) INTO t_kind, t_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF t_kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is not a table', target USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = target), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', (SELECT quote_ident(relname) FROM pg_class WHERE oid = target)
            USING ERRCODE = 'insufficient_privilege';
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
        IF NOT has_table_privilege(customers, 'SELECT') THEN
            RAISE EXCEPTION 'credit.enable_scoring: permission denied for table %', customers
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT a.attname INTO c_key
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = customers AND i.indisprimary AND i.indnkeyatts = 1;
        IF c_key IS NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: % has no single-column primary key', customers
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    -- Score columns, added when missing; existing ones must fit.
    FOR col IN
        SELECT r.name, r.type
        FROM (VALUES ('credit_score', 'integer'::regtype), ('default_probability', 'numeric'),
                     ('segment', 'text'), ('scored_at', 'timestamptz'), ('decision', 'text')) AS r(name, type)
        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                          WHERE a.attrelid = target AND a.attname = r.name AND NOT a.attisdropped)
    LOOP
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', target, col.name, col.type);
    END LOOP;
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

    -- Idempotent: whatever was attached before goes first. Unchanged
    -- configuration: rows already scored stay as they are.
    SELECT * INTO previous FROM credit.scored_tables WHERE relid = target;
    IF FOUND THEN
        unchanged := (previous.key_column, previous.income_column, previous.assets_column, previous.amount_column,
                      previous.tenor_column, previous.customers, previous.customer_ref, previous.scorecard)
                     IS NOT DISTINCT FROM
                     (key, income, assets, amount, tenor, customers,
                      CASE WHEN customers IS NOT NULL THEN customer_ref END, scorecard);
        PERFORM credit.disable_scoring(target);
    END IF;

    -- From now on the scorecard is in use: immutable.
    UPDATE credit.scorecards s SET first_used_at = now()
    WHERE s.name = enable_scoring.scorecard AND s.first_used_at IS NULL;

    INSERT INTO credit.scored_tables (relid, table_name, key_column, income_column, assets_column, amount_column,
                                      tenor_column, customers, customer_ref, customers_key, scorecard,
                                      alert_drop_points, alert_window, dsr_alert_ratio, on_invalid)
    VALUES (target, t_name, key, income, assets, amount, tenor, customers,
            CASE WHEN customers IS NOT NULL THEN customer_ref END, c_key, scorecard,
            previous.alert_drop_points, previous.alert_window, previous.dsr_alert_ratio, previous.on_invalid);

    update_cols := CASE WHEN customers IS NULL THEN format('%I, %I, %I, %I', income, assets, amount, tenor)
                        ELSE format('%I, %I, %I', customer_ref, amount, tenor) END;
    -- Writing a score column rescores too, so a stored score is never one
    -- the application wrote.
    EXECUTE format('CREATE TRIGGER credit_scoring_score
                    BEFORE INSERT OR UPDATE OF %s, credit_score, default_probability, segment, decision, scored_at
                    ON %s FOR EACH ROW EXECUTE FUNCTION credit.score_row(%L, %L, %L, %L, %L, %L, %L, %L, %L)',
                   update_cols, target, income, assets, amount, tenor, scorecard,
                   coalesce(customers::text, ''), coalesce(customer_ref, ''), coalesce(c_key, ''),
                   coalesce(previous.on_invalid, ''));
    PERFORM credit.attach_statement_triggers(target);
    IF customers IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s
                        REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.rescore_customers(%L)',
                       credit.rescore_trigger_name(t_name), customers, t_name);
    END IF;

    -- Score what is already there (history records it as a first scoring);
    -- with an unchanged configuration, only what is not scored yet.
    EXECUTE format('UPDATE %s SET scored_at = NULL %s', target,
                   CASE WHEN unchanged THEN 'WHERE scored_at IS NULL' ELSE '' END);
END
$fn$;

CREATE OR REPLACE FUNCTION credit.disable_scoring(target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    cfg  credit.scored_tables;
    part record;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
    EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_score ON %s', target);
    FOR part IN SELECT relid FROM pg_partition_tree(target) UNION SELECT target LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_insert ON %s', part.relid);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_update ON %s', part.relid);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_delete ON %s', part.relid);
    END LOOP;
    IF cfg.customers IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', credit.rescore_trigger_name(cfg.table_name), cfg.customers);
    END IF;
    DELETE FROM credit.scored_tables WHERE relid = target;
END
$fn$;

-- Existing rescoring triggers take their new names.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT s.relid, s.table_name, s.customers FROM credit.scored_tables s WHERE s.customers IS NOT NULL LOOP
        IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = t.customers
                   AND g.tgname = 'credit_scoring_rescore_' || t.relid::oid) THEN
            EXECUTE format('ALTER TRIGGER %I ON %s RENAME TO %I', 'credit_scoring_rescore_' || t.relid::oid,
                           t.customers, credit.rescore_trigger_name(t.table_name));
        END IF;
    END LOOP;
END
$$;

-- The early-warning list as a view: rows whose DSR is above the alert
-- ratio now, compared exactly (what dashboards showed from dsr_critical
-- alerts, which go stale when an income recovers).
CREATE VIEW credit.early_warnings AS
SELECT l.table_name,
       l.row_key,
       h.monthly_income,
       h.loan_amount,
       h.tenor_months,
       round(h.loan_amount * (1 + p.margin_rate) / h.tenor_months / h.monthly_income, 6) AS dsr,
       p.dsr_alert_ratio,
       l.credit_score,
       l.segment,
       l.decision,
       h.scored_at
FROM credit.latest_scores AS l
JOIN credit.score_history AS h ON h.id = l.history_id
LEFT JOIN credit.scored_tables AS t ON t.table_name = l.table_name
CROSS JOIN LATERAL (
    SELECT coalesce(t.dsr_alert_ratio,
                    nullif(current_setting('credit_scoring.dsr_alert_ratio', true), '')::numeric,
                    0.60) AS dsr_alert_ratio,
           (SELECT (sc.definition->>'margin_rate')::numeric
            FROM credit.scorecards AS sc WHERE sc.name = h.scorecard) AS margin_rate) AS p
WHERE h.credit_score IS NOT NULL
  AND h.monthly_income > 0
  -- exact: installment / income > ratio, cross-multiplied
  AND h.loan_amount * (1 + p.margin_rate) > p.dsr_alert_ratio * h.monthly_income * h.tenor_months;
COMMENT ON VIEW credit.early_warnings IS
    'Scored rows whose DSR is above the alert ratio now (the early-warning list), compared exactly with each table''s effective ratio';
COMMENT ON COLUMN credit.early_warnings.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.early_warnings.row_key IS 'Key of the scored row, as text';
COMMENT ON COLUMN credit.early_warnings.monthly_income IS 'Monthly income used';
COMMENT ON COLUMN credit.early_warnings.loan_amount IS 'Loan amount';
COMMENT ON COLUMN credit.early_warnings.tenor_months IS 'Tenor in months';
COMMENT ON COLUMN credit.early_warnings.dsr IS 'Debt service ratio, 6 decimals (the comparison itself is exact)';
COMMENT ON COLUMN credit.early_warnings.dsr_alert_ratio IS 'The ratio it is above (per table, else credit_scoring.dsr_alert_ratio)';
COMMENT ON COLUMN credit.early_warnings.credit_score IS 'Credit score';
COMMENT ON COLUMN credit.early_warnings.segment IS 'Risk segment';
COMMENT ON COLUMN credit.early_warnings.decision IS 'Instant decision';
COMMENT ON COLUMN credit.early_warnings.scored_at IS 'When the row was last scored';
