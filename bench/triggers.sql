-- bench/triggers.sql — the trigger-cost phase of the benchmark (SPEC §7:
-- "INSERT of 200k rows into a scored table within 2.5x of the same table
-- unscored, and at least 3x faster than a PL/pgSQL trigger doing the same
-- work; UPDATE of 1M rows likewise").  Loaded by bench/run.sh after
-- peers.sql and harness.sql, only when the extension provides
-- credit.enable_scoring; safe to load again.
--
-- Three tables of the same shape, loan_applications(id bigint primary key,
-- monthly_income numeric, assets_value numeric, loan_amount numeric,
-- tenor_months int), ordinary (logged) tables like an application's:
--   bench.loan_applications_unscored  no triggers, no score columns
--   bench.loan_applications_scored    credit.enable_scoring (attached on
--                                     every load): the Rust row trigger plus
--                                     the set-based statement triggers writing
--                                     credit.score_history / score_alerts
--   bench.loan_applications_plpgsql   the peer: the same columns and the same
--                                     work written the way a DBA would write
--                                     it in PL/pgSQL, writing
--                                     bench.trig_history / trig_alerts (same
--                                     shape and indexes as credit.*)
--
-- The peer (what "the same work" means, SPEC §3 and §9):
--   bench.trig_score_row()   BEFORE INSERT OR UPDATE OF the inputs, scored_at
--                            FOR EACH ROW: credit_score, default_probability,
--                            segment (reference scorecard) and decision
--                            (reference policy), rules inlined: exact numeric,
--                            band edges cross-multiplied; only the stored
--                            outputs are computed (no reasons, persona), so the
--                            peer is as cheap as PL/pgSQL gets; scored_at =
--                            clock_timestamp(); NULL income/assets count as 0;
--                            invalid input (NULL amount or tenor, tenor < 1,
--                            negative, > 10^15, > 20 decimals): outputs NULL
--                            (on_invalid = flag).
--   bench.trig_record_row()  AFTER INSERT OR UPDATE OF the same columns FOR EACH
--                            ROW: one history row per scoring (with the
--                            decision's reasons), and the three alert rules as
--                            credit.record_scores applies them (threshold 15,
--                            window 30 days, DSR ratio 0.60: the defaults,
--                            which run.sh pins):
--                              invalid_input  the row could not be scored
--                              dsr_critical   DSR above 0.60 and the row's
--                                             previous history entry was not
--                              score_drop     score fell (vs OLD) and is >= 15
--                                             below the highest score of the
--                                             row in history within the window;
--                                             a further alert needs a further
--                                             fall of 15 below the last alert
--                            (the invalid_input reason is a constant: the
--                            benchmark data has no invalid rows).
-- The gate in bench/run.sh checks, before anything is timed, that both
-- scored tables hold score_credit's / decide's outputs, that both histories
-- got one row per scoring with the same content, and that both raised
-- identical alerts.

-- ---------------------------------------------------------------------------
-- Source rows (filled by run.sh from bench.generate_apps; UNLOGGED, only read)
-- ---------------------------------------------------------------------------
CREATE UNLOGGED TABLE IF NOT EXISTS bench.trig_insert_src (LIKE bench.apps INCLUDING ALL);
COMMENT ON TABLE bench.trig_insert_src IS 'Rows INSERTed by the trigger-cost case, ids after those of trig_update_src (bench/triggers.sql)';
CREATE UNLOGGED TABLE IF NOT EXISTS bench.trig_update_src (LIKE bench.apps INCLUDING ALL);
COMMENT ON TABLE bench.trig_update_src IS 'Rows every trigger-cost measurement starts from (bench/triggers.sql)';

-- ---------------------------------------------------------------------------
-- The three tables, and the peer's history, latest scores and alerts:
-- recreated on every load, so they always have the shape the installed
-- extension gives a scored table (enable_scoring adds credit_score,
-- default_probability, segment, scored_at, decision) and its
-- credit.score_history, credit.latest_scores and credit.score_alerts.  They
-- hold nothing worth keeping: every timed round starts from a reset.
-- ---------------------------------------------------------------------------
DO $do$
BEGIN
    -- (to_regclass: on a first load the table does not exist yet)
    IF EXISTS (SELECT 1 FROM credit.scored_tables
               WHERE relid = to_regclass('bench.loan_applications_scored')) THEN
        PERFORM credit.disable_scoring('bench.loan_applications_scored');
    END IF;
END
$do$;
DROP TABLE IF EXISTS bench.loan_applications_unscored, bench.loan_applications_scored,
                     bench.loan_applications_plpgsql, bench.trig_history, bench.trig_latest,
                     bench.trig_alerts;
CREATE TABLE bench.loan_applications_unscored (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
CREATE TABLE bench.loan_applications_scored (LIKE bench.loan_applications_unscored INCLUDING ALL);
DO $do$ BEGIN PERFORM credit.enable_scoring('bench.loan_applications_scored'); END $do$;
-- The peer table: the same columns as the scored one, without its triggers.
CREATE TABLE bench.loan_applications_plpgsql (LIKE bench.loan_applications_scored INCLUDING ALL);

-- The peer's history, latest scores and alerts: the same columns, defaults,
-- constraints and indexes as the extension's.
CREATE TABLE bench.trig_history (LIKE credit.score_history INCLUDING ALL);
CREATE TABLE bench.trig_latest (LIKE credit.latest_scores INCLUDING ALL);
CREATE TABLE bench.trig_alerts (LIKE credit.score_alerts INCLUDING ALL);

-- ---------------------------------------------------------------------------
-- The PL/pgSQL peer
-- ---------------------------------------------------------------------------

-- BEFORE ROW: the stored outputs.  Score rules of the reference scorecard
-- (SPEC §1), decision of the reference policy (SPEC §9): decline on no
-- income, installment / income > 0.60 or score < 450; else approve when
-- score >= 550 and installment / income <= 0.40; else review.  All
-- installment / income comparisons cross-multiplied, exact.
CREATE OR REPLACE FUNCTION bench.trig_score_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    income   numeric := coalesce(NEW.monthly_income, 0);
    assets   numeric := coalesce(NEW.assets_value, 0);
    amount   numeric := NEW.loan_amount;
    tenor    integer := NEW.tenor_months;
    gross    numeric;
    capacity numeric;
    score    integer;
BEGIN
    NEW.scored_at := clock_timestamp();
    IF amount IS NULL OR tenor IS NULL OR tenor < 1
       OR income < 0 OR assets < 0 OR amount < 0
       OR income > 1e15 OR assets > 1e15 OR amount > 1e15
       OR min_scale(income) > 20 OR min_scale(assets) > 20 OR min_scale(amount) > 20 THEN
        NEW.credit_score := NULL;
        NEW.default_probability := NULL;
        NEW.segment := NULL;
        NEW.decision := NULL;
        RETURN NEW;
    END IF;
    gross := amount * 1.15;
    capacity := income * tenor;
    score := greatest(300, least(850, 300
        + CASE WHEN income <= 0 THEN -200
               WHEN gross <= 0.30 * capacity THEN 150
               WHEN gross <= 0.40 * capacity THEN 100
               WHEN gross <= 0.50 * capacity THEN 0
               ELSE -150 END
        + CASE WHEN amount <= 0 THEN 0
               WHEN assets >= 1.2 * amount THEN 100
               WHEN assets >= 0.8 * amount THEN 50
               ELSE -50 END
        + CASE WHEN tenor <= 12 THEN 50
               WHEN tenor <= 24 THEN 20
               WHEN tenor <= 36 THEN -20
               ELSE -50 END));
    NEW.credit_score := score;
    NEW.default_probability := CASE WHEN score >= 750 THEN 0.01 WHEN score >= 650 THEN 0.05
                                    WHEN score >= 550 THEN 0.15 ELSE 0.40 END;
    NEW.segment := CASE WHEN score >= 700 THEN 'low' WHEN score >= 550 THEN 'medium' ELSE 'high' END;
    NEW.decision := CASE WHEN income <= 0 OR gross > 0.60 * capacity OR score < 450 THEN 'decline'
                         WHEN score >= 550 AND gross <= 0.40 * capacity THEN 'approve'
                         ELSE 'review' END;
    RETURN NEW;
END
$fn$;
COMMENT ON FUNCTION bench.trig_score_row() IS
    'Benchmark peer: BEFORE ROW trigger filling the score columns, in PL/pgSQL (bench/triggers.sql)';

-- AFTER ROW: alerts, then one history row (with the decision's reasons,
-- which the table does not store: recomputed here, as the extension does,
-- the previous segment and whether this is the row's first scoring), then
-- the row's entry in the latest-scores table.
CREATE OR REPLACE FUNCTION bench.trig_record_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    tbl          constant text     := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    ratio        constant numeric  := 0.60;
    drop_points  constant integer  := 15;
    win          constant interval := interval '30 days';
    key          text    := NEW.id::text;
    income       numeric := coalesce(NEW.monthly_income, 0);
    assets       numeric := coalesce(NEW.assets_value, 0);
    score        integer := NEW.credit_score;
    gross        numeric := NEW.loan_amount * 1.15;
    capacity     numeric := income * NEW.tenor_months;
    old_score    integer;
    old_segment  text;
    first        boolean := true;
    was_critical boolean;
    peak         integer;
    last_alert   integer;
    reasons      text[];
    hid          bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        old_score := OLD.credit_score;
        old_segment := OLD.segment;
        first := OLD.scored_at IS NULL;
    END IF;
    -- Alerts first: their history look-ups must not see this scoring.
    IF score IS NULL THEN
        INSERT INTO bench.trig_alerts (table_name, row_key, kind, old_score, new_score, score_drop,
                                       old_segment, new_segment, details)
        VALUES (tbl, key, 'invalid_input', old_score, NULL, NULL, old_segment, NULL,
                jsonb_build_object('reason', 'invalid input', 'monthly_income', income, 'assets', assets,
                                   'loan_amount', NEW.loan_amount, 'tenor_months', NEW.tenor_months));
    ELSE
        IF income > 0 AND gross > ratio * capacity THEN
            SELECT h.credit_score IS NOT NULL AND h.monthly_income > 0
                   AND h.loan_amount * 1.15 > ratio * h.monthly_income * h.tenor_months
              INTO was_critical
              FROM bench.trig_history h
             WHERE h.table_name = tbl AND h.row_key = key
             ORDER BY h.id DESC LIMIT 1;
            IF NOT coalesce(was_critical, false) THEN
                INSERT INTO bench.trig_alerts (table_name, row_key, kind, old_score, new_score, score_drop,
                                               old_segment, new_segment, details)
                VALUES (tbl, key, 'dsr_critical', old_score, score, NULL, old_segment, NEW.segment,
                        jsonb_build_object('dsr', round(gross / NEW.tenor_months / income, 6),
                                           'dsr_alert_ratio', ratio));
            END IF;
        END IF;
        IF score < old_score THEN
            SELECT greatest(old_score, max(h.credit_score)) INTO peak
              FROM bench.trig_history h
             WHERE h.table_name = tbl AND h.row_key = key AND h.scored_at >= now() - win;
            IF peak - score >= drop_points THEN
                SELECT a.new_score INTO last_alert
                  FROM bench.trig_alerts a
                 WHERE a.table_name = tbl AND a.row_key = key AND a.kind = 'score_drop'
                   AND a.created_at >= now() - win
                 ORDER BY a.id DESC LIMIT 1;
                IF last_alert IS NULL OR last_alert - score >= drop_points THEN
                    INSERT INTO bench.trig_alerts (table_name, row_key, kind, old_score, new_score, score_drop,
                                                   old_segment, new_segment, details)
                    VALUES (tbl, key, 'score_drop', peak, score, peak - score,
                            old_segment, NEW.segment,
                            jsonb_build_object('previous_score', old_score, 'alert_drop_points', drop_points,
                                               'alert_window', '30 days'));
                END IF;
            END IF;
        END IF;
        -- decision reasons (SPEC §9): every decline rule that applies, in
        -- order; else what stood in the way of approval; approve: none
        reasons := '{}';
        IF income <= 0 THEN
            reasons := reasons || 'no_income'::text;
        ELSIF gross > 0.60 * capacity THEN
            reasons := reasons || 'dsr_over_60'::text;
        END IF;
        IF score < 450 THEN
            reasons := reasons || 'score_under_450'::text;
        END IF;
        IF reasons = '{}' THEN
            IF score < 550 THEN
                reasons := reasons || 'score_under_550'::text;
            END IF;
            IF gross > 0.40 * capacity THEN
                reasons := reasons || 'dsr_over_40'::text;
            END IF;
        END IF;
    END IF;
    INSERT INTO bench.trig_history (table_name, row_key, monthly_income, assets, loan_amount, tenor_months,
                                    credit_score, default_probability, segment, scorecard, scored_at,
                                    decision, decision_reasons, previous_segment, first_scoring)
    VALUES (tbl, key, income, assets, NEW.loan_amount, NEW.tenor_months,
            score, NEW.default_probability, NEW.segment, 'reference', NEW.scored_at,
            NEW.decision, reasons, old_segment, first)
    RETURNING id INTO hid;
    INSERT INTO bench.trig_latest AS l (table_name, row_key, history_id, credit_score, default_probability,
                                        segment, loan_amount, decision)
    VALUES (tbl, key, hid, score, NEW.default_probability, NEW.segment, NEW.loan_amount, NEW.decision)
    ON CONFLICT (table_name, row_key) DO UPDATE
    SET history_id = excluded.history_id, credit_score = excluded.credit_score,
        default_probability = excluded.default_probability, segment = excluded.segment,
        loan_amount = excluded.loan_amount, decision = excluded.decision;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION bench.trig_record_row() IS
    'Benchmark peer: AFTER ROW trigger writing history, latest scores and alerts, in PL/pgSQL (bench/triggers.sql)';

-- The same firing columns as the extension's row trigger: the inputs and
-- the outputs (so a write to a score column is overwritten by a rescoring).
CREATE TRIGGER trig_score
    BEFORE INSERT OR UPDATE OF monthly_income, assets_value, loan_amount, tenor_months,
                               credit_score, default_probability, segment, decision, scored_at
    ON bench.loan_applications_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.trig_score_row();
CREATE TRIGGER trig_record
    AFTER INSERT OR UPDATE OF monthly_income, assets_value, loan_amount, tenor_months,
                              credit_score, default_probability, segment, decision, scored_at
    ON bench.loan_applications_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.trig_record_row();

-- ---------------------------------------------------------------------------
-- Phase helpers
-- ---------------------------------------------------------------------------

-- The timed statements, one per case and operation.  The INSERT adds new ids
-- (after those of the starting state) from pre-generated rows, not from
-- bench.generate_apps itself: the generator costs several times an
-- unscored INSERT, which would pad the denominator of scored / unscored.
CREATE OR REPLACE FUNCTION bench.trig_statement(tcase text, op text) RETURNS text
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE op
        WHEN 'insert' THEN format(
            'INSERT INTO bench.loan_applications_%s (id, monthly_income, assets_value, loan_amount, tenor_months) '
            'SELECT id, monthly_income, assets, loan_amount, tenor_months FROM bench.trig_insert_src', tcase)
        -- income cut by 20 %: DSR rises by a quarter, many rows change band
        WHEN 'update' THEN format(
            'UPDATE bench.loan_applications_%s SET monthly_income = monthly_income * 0.8', tcase)
    END
$fn$;

-- Where each case keeps its history, latest scores and alerts.
CREATE OR REPLACE FUNCTION bench.trig_tables(tcase text, OUT history text, OUT latest text, OUT alerts text)
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT CASE tcase WHEN 'scored' THEN 'credit.score_history' WHEN 'plpgsql' THEN 'bench.trig_history' END,
           CASE tcase WHEN 'scored' THEN 'credit.latest_scores' WHEN 'plpgsql' THEN 'bench.trig_latest' END,
           CASE tcase WHEN 'scored' THEN 'credit.score_alerts' WHEN 'plpgsql' THEN 'bench.trig_alerts' END
$fn$;

-- The starting state of each case: how many history and alert rows the
-- reset left (ids 1..n: the reset restarts the identities), so what a timed
-- statement added is told apart.
CREATE TABLE IF NOT EXISTS bench.trig_base (
    tcase   text PRIMARY KEY,
    history bigint NOT NULL,
    alerts  bigint NOT NULL
);

-- Brings one case's table (and its history, latest scores and alerts) to a
-- known state:
--   empty: all empty (clean-up after a measurement);
--   base:  what every timed statement starts from: the rows of
--          bench.trig_update_src, scored (by score_credit and decide, with
--          triggers off), one history row each (their first scoring,
--          scored_at = now(), inside the alert window), their latest-scores
--          entries, and the dsr_critical alerts that first scoring raised:
--          the state right after INSERTing those rows into a scored table.
--          The unscored table gets the same rows.  (Not empty tables: after
--          ANALYZE an empty history or alerts table is planned as empty, and
--          row-by-row look-ups then scan a table growing under them.)
-- credit.score_history, credit.latest_scores and credit.score_alerts are
-- TRUNCATEd for the scored case (run.sh refuses to run the phase when they
-- hold rows of other tables).
DROP FUNCTION IF EXISTS bench.trig_reset(text, text);
CREATE FUNCTION bench.trig_reset(tcase text, state text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    tbl text := 'bench.loan_applications_' || tcase;
    t   record := bench.trig_tables(tcase);
    nh  bigint := 0;
    na  bigint := 0;
BEGIN
    EXECUTE format('TRUNCATE %s', tbl);
    IF tcase <> 'unscored' THEN
        EXECUTE format('TRUNCATE %s, %s, %s RESTART IDENTITY', t.history, t.latest, t.alerts);
    END IF;
    IF state = 'base' THEN
        -- no user triggers fire while the starting state is loaded
        PERFORM set_config('session_replication_role', 'replica', true);
        IF tcase = 'unscored' THEN
            INSERT INTO bench.loan_applications_unscored
            SELECT id, monthly_income, assets, loan_amount, tenor_months FROM bench.trig_update_src ORDER BY id;
        ELSE
            EXECUTE format($q$
                INSERT INTO %s (id, monthly_income, assets_value, loan_amount, tenor_months,
                                credit_score, default_probability, segment, scored_at, decision)
                SELECT id, monthly_income, assets, loan_amount, tenor_months,
                       (r).credit_score, (r).default_probability, (r).segment, now(), (d).decision
                FROM (SELECT s.*,
                             credit.score_credit(s.monthly_income, s.assets, s.loan_amount, s.tenor_months) AS r,
                             credit.decide(s.monthly_income, s.assets, s.loan_amount, s.tenor_months) AS d
                      FROM bench.trig_update_src s ORDER BY id OFFSET 0) x$q$, tbl);
            EXECUTE format($q$
                INSERT INTO %s (table_name, row_key, monthly_income, assets, loan_amount, tenor_months,
                                credit_score, default_probability, segment, scorecard, scored_at,
                                decision, decision_reasons, previous_segment, first_scoring)
                SELECT %L, id::text, monthly_income, assets_value, loan_amount, tenor_months,
                       credit_score, default_probability, segment, 'reference', scored_at, decision,
                       (credit.decide(monthly_income, assets_value, loan_amount, tenor_months)).decision_reasons,
                       NULL, true
                FROM %s ORDER BY id$q$, t.history, tbl, tbl);
            EXECUTE format($q$
                INSERT INTO %s (table_name, row_key, history_id, credit_score, default_probability,
                                segment, loan_amount, decision)
                SELECT table_name, row_key, id, credit_score, default_probability, segment, loan_amount, decision
                FROM %s ORDER BY id$q$, t.latest, t.history);
            -- the dsr_critical alerts that scoring these rows raised
            EXECUTE format($q$
                INSERT INTO %s (table_name, row_key, kind, old_score, new_score, score_drop,
                                old_segment, new_segment, details)
                SELECT %L, id::text, 'dsr_critical', NULL, credit_score, NULL, NULL, segment,
                       jsonb_build_object('dsr', round(loan_amount * 1.15 / tenor_months / monthly_income, 6),
                                          'dsr_alert_ratio', 0.60)
                FROM %s
                WHERE credit_score IS NOT NULL AND monthly_income > 0
                  AND loan_amount * 1.15 > 0.60 * monthly_income * tenor_months
                ORDER BY id$q$, t.alerts, tbl, tbl);
            EXECUTE format('SELECT count(*) FROM %s', t.history) INTO nh;
            EXECUTE format('SELECT count(*) FROM %s', t.alerts) INTO na;
        END IF;
        PERFORM set_config('session_replication_role', 'origin', true);
    END IF;
    INSERT INTO bench.trig_base AS b VALUES (trig_reset.tcase, nh, na)
    ON CONFLICT ON CONSTRAINT trig_base_pkey DO UPDATE SET history = excluded.history, alerts = excluded.alerts;
END
$fn$;

-- What a case's statement left behind, as "key value" pairs: table rows,
-- history rows added by the statement, alerts it raised by kind.
CREATE OR REPLACE FUNCTION bench.trig_summary(tcase text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    tbl   text := 'bench.loan_applications_' || tcase;
    t     record := bench.trig_tables(tcase);
    b     bench.trig_base;
    n     bigint;
    hist  bigint;
    drops bigint;
    dsr   bigint;
    inval bigint;
BEGIN
    SELECT * INTO STRICT b FROM bench.trig_base WHERE trig_base.tcase = trig_summary.tcase;
    EXECUTE format('SELECT count(*) FROM %s', tbl) INTO n;
    IF tcase = 'unscored' THEN
        RETURN format('rows %s', n);
    END IF;
    EXECUTE format('SELECT count(*) FROM %s WHERE id > $1', t.history) INTO hist USING b.history;
    EXECUTE format($q$SELECT count(*) FILTER (WHERE kind = 'score_drop'), count(*) FILTER (WHERE kind = 'dsr_critical'),
                             count(*) FILTER (WHERE kind = 'invalid_input')
                      FROM %s WHERE id > $1$q$, t.alerts)
        INTO drops, dsr, inval USING b.alerts;
    RETURN format('rows %s history %s score_drop %s dsr_critical %s invalid_input %s', n, hist, drops, dsr, inval);
END
$fn$;

-- The column list of a table for comparing the extension's rows with the
-- peer's: every column but the given ones, as text (so a scale difference
-- counts).  Built from the catalog, so a column the extension adds is
-- compared too, and the gate fails until the peer fills it the same way.
CREATE OR REPLACE FUNCTION bench.trig_columns(rel regclass, skip text[]) RETURNS text
LANGUAGE sql STABLE AS $fn$
    SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum)
    FROM pg_attribute
    WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped AND NOT attname = ANY (skip)
$fn$;

-- The correctness gate, after one run of each case of an operation: one line
-- of "key value" pairs.
--   *_bad_scores      rows whose credit_score, default_probability (as text)
--                     or segment differ from credit.score_credit of the row's
--                     inputs, or decision from credit.decide, or that have no
--                     scored_at
--   *_history         history rows the statement added (must equal the rows
--                     it inserted or updated: one per scoring)
--   *_history_bad     table rows without an identical newest history row
--                     (inputs, outputs, decision, scored_at)
--   *_latest_bad      table rows without an identical latest-scores entry
--                     pointing at that newest history row
--   history_diff      history rows the statement added, of one side without a
--                     twin on the other (every column but id, table_name,
--                     scored_at), both directions
--   latest_diff       the same for the latest-scores tables (every column but
--                     table_name, history_id)
--   alerts_diff       the same for all alerts (every column but id,
--                     table_name, created_at)
--   *_alerts          alerts the statement raised
--   score_changed     rows whose credit_score differs from the starting state
CREATE OR REPLACE FUNCTION bench.trig_check(op text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    bs   bench.trig_base := (SELECT b FROM bench.trig_base b WHERE b.tcase = 'scored');
    bp   bench.trig_base := (SELECT b FROM bench.trig_base b WHERE b.tcase = 'plpgsql');
    out  text := '';
    c    text;
    t    record;
    v    bigint;
    w    bigint;
    cols text;
BEGIN
    SELECT count(*) INTO v FROM bench.loan_applications_unscored;
    out := out || format('unscored_rows %s ', v);
    FOREACH c IN ARRAY ARRAY['scored', 'plpgsql'] LOOP
        t := bench.trig_tables(c);
        EXECUTE format($q$
            SELECT count(*),
                   count(*) FILTER (WHERE x.credit_score IS DISTINCT FROM (x.r).credit_score
                                       OR x.default_probability::text IS DISTINCT FROM (x.r).default_probability::text
                                       OR x.segment IS DISTINCT FROM (x.r).segment
                                       OR x.decision IS DISTINCT FROM
                                          CASE WHEN x.r IS NOT NULL THEN
                                              (credit.decide(coalesce(x.monthly_income, 0), coalesce(x.assets_value, 0),
                                                             x.loan_amount, x.tenor_months)).decision END
                                       OR x.scored_at IS NULL)
            FROM (SELECT l.*, credit.try_score_credit(coalesce(l.monthly_income, 0), coalesce(l.assets_value, 0),
                                                      l.loan_amount, l.tenor_months) AS r
                  FROM bench.loan_applications_%s l OFFSET 0) x$q$, c) INTO v, w;
        out := out || format('%s_rows %s %s_bad_scores %s ', c, v, c, w);
        EXECUTE format('SELECT count(*) FROM %s WHERE id > $1', t.history)
            INTO v USING CASE c WHEN 'scored' THEN bs.history ELSE bp.history END;
        out := out || format('%s_history %s ', c, v);
        EXECUTE format($q$
            SELECT count(*) FILTER (WHERE h.id IS NULL
                                       OR h.monthly_income IS DISTINCT FROM coalesce(l.monthly_income, 0)
                                       OR h.assets IS DISTINCT FROM coalesce(l.assets_value, 0)
                                       OR h.loan_amount IS DISTINCT FROM l.loan_amount
                                       OR h.tenor_months IS DISTINCT FROM l.tenor_months
                                       OR h.credit_score IS DISTINCT FROM l.credit_score
                                       OR h.default_probability::text IS DISTINCT FROM l.default_probability::text
                                       OR h.segment IS DISTINCT FROM l.segment
                                       OR h.decision IS DISTINCT FROM l.decision
                                       OR h.scored_at IS DISTINCT FROM l.scored_at),
                   count(*) FILTER (WHERE s.history_id IS DISTINCT FROM h.id
                                       OR s.credit_score IS DISTINCT FROM l.credit_score
                                       OR s.default_probability::text IS DISTINCT FROM l.default_probability::text
                                       OR s.segment IS DISTINCT FROM l.segment
                                       OR s.loan_amount IS DISTINCT FROM l.loan_amount
                                       OR s.decision IS DISTINCT FROM l.decision)
            FROM bench.loan_applications_%1$s l
            LEFT JOIN LATERAL (SELECT h.* FROM %2$s h
                               WHERE h.table_name = 'bench.loan_applications_%1$s' AND h.row_key = l.id::text
                               ORDER BY h.id DESC LIMIT 1) h ON true
            LEFT JOIN %3$s s ON s.table_name = 'bench.loan_applications_%1$s' AND s.row_key = l.id::text$q$,
            c, t.history, t.latest) INTO v, w;
        out := out || format('%s_history_bad %s %s_latest_bad %s ', c, v, c, w);
    END LOOP;

    cols := bench.trig_columns('credit.score_history', ARRAY['id', 'table_name', 'scored_at']);
    EXECUTE format($q$
        SELECT (SELECT count(*) FROM (SELECT %1$s FROM credit.score_history WHERE id > $1
                                      EXCEPT ALL SELECT %1$s FROM bench.trig_history WHERE id > $2) d),
               (SELECT count(*) FROM (SELECT %1$s FROM bench.trig_history WHERE id > $2
                                      EXCEPT ALL SELECT %1$s FROM credit.score_history WHERE id > $1) d)$q$, cols)
        INTO v, w USING bs.history, bp.history;
    out := out || format('history_diff %s ', v + w);

    cols := bench.trig_columns('credit.latest_scores', ARRAY['table_name', 'history_id']);
    EXECUTE format($q$
        SELECT (SELECT count(*) FROM (SELECT %1$s FROM credit.latest_scores EXCEPT ALL SELECT %1$s FROM bench.trig_latest) d),
               (SELECT count(*) FROM (SELECT %1$s FROM bench.trig_latest EXCEPT ALL SELECT %1$s FROM credit.latest_scores) d)$q$,
        cols) INTO v, w;
    out := out || format('latest_diff %s ', v + w);

    cols := bench.trig_columns('credit.score_alerts', ARRAY['id', 'table_name', 'created_at']);
    EXECUTE format($q$
        SELECT (SELECT count(*) FROM (SELECT %1$s FROM credit.score_alerts EXCEPT ALL SELECT %1$s FROM bench.trig_alerts) d),
               (SELECT count(*) FROM (SELECT %1$s FROM bench.trig_alerts EXCEPT ALL SELECT %1$s FROM credit.score_alerts) d)$q$,
        cols) INTO v, w;
    out := out || format('alerts_diff %s ', v + w);
    SELECT count(*) INTO v FROM credit.score_alerts WHERE id > bs.alerts;
    SELECT count(*) INTO w FROM bench.trig_alerts WHERE id > bp.alerts;
    out := out || format('scored_alerts %s plpgsql_alerts %s ', v, w);

    IF op = 'update' THEN
        SELECT count(*) INTO v
        FROM bench.loan_applications_scored l
        JOIN bench.trig_update_src s USING (id)
        WHERE l.credit_score IS DISTINCT FROM
              (credit.try_score_credit(s.monthly_income, s.assets, s.loan_amount, s.tenor_months)).credit_score;
    ELSE
        v := 0;
    END IF;
    out := out || format('score_changed %s', v);
    RETURN out;
END
$fn$;
