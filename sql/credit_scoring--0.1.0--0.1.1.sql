-- credit_scoring 0.1.0 -> 0.1.1
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credit_scoring UPDATE TO '0.1.1'" to load this file. \quit

-- 0.1.1: trigger fixes found by the reliability suite (the customers-side
-- rescoring trigger named after the scored table, dropped with it;
-- partitions equipped only while scoring is live), Citus support
-- (credit.distribute_scoring and the distributed statement triggers), and
-- the early_warnings view; scoring follows renames and customers partitions.

-- Functions and types: the output of
--   scripts/upgrade-objects.py tests/upgrade/credit_scoring--0.1.0.sql
-- between the BEGIN/END generated lines (scripts/upgrade-objects.py --update
-- rewrites them in place); the rest is written by hand.
-- BEGIN generated
CREATE OR REPLACE FUNCTION credit.record_scores() RETURNS trigger
-- Rust (src/recorder.rs): reads the transition tables in place and writes
-- history, latest scores and alerts in batches, as COPY writes a table.
-- SECURITY DEFINER: application roles write scored rows but have no rights
-- on credit.*; the configuration comes from credit.scored_tables, never from
-- the caller.
LANGUAGE c SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'credit_record_scores';

CREATE FUNCTION credit.run_as_owner(target regclass, query text, keys anyarray) RETURNS bigint
-- Rust (src/triggers.rs). The SECURITY DEFINER trigger functions write
-- application tables only through this, so the table owner's own triggers
-- fire as that owner (as PostgreSQL's foreign-key triggers do), never as
-- the extension's superuser.
LANGUAGE c AS 'MODULE_PATHNAME', 'credit_run_as_owner';
REVOKE EXECUTE ON FUNCTION credit.run_as_owner(regclass, text, anyarray) FROM PUBLIC;
COMMENT ON FUNCTION credit.run_as_owner(regclass, text, anyarray) IS
    'Internal: runs one statement ($1 = keys) as the owner of the target table; returns the rows processed';

CREATE OR REPLACE FUNCTION credit.rescore_customers() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- SECURITY DEFINER: the role that updated customers needs no rights on
-- credit.* nor on the loans; all it can cause is a rescoring of the loans
-- of the customers it changed, written as the loans table's owner.
DECLARE
    cfg     credit.scored_tables;
    changed text;
BEGIN
    -- (by name, as the trigger argument has it: a dropped loans table
    -- leaves nothing to rescore)
    SELECT * INTO cfg FROM credit.scored_tables WHERE table_name = TG_ARGV[0];
    IF NOT FOUND OR cfg.customers IS NULL THEN
        RETURN NULL;
    END IF;
    -- Setting scored_at asks the row trigger to rescore (it reads the
    -- customer's new income and assets, or none) and writes a new scored_at.
    -- The customers whose loans score differently now: new ones (a loan may
    -- reference a customer not there yet, without a foreign key), deleted
    -- ones, and on UPDATE those whose income or assets changed, or whose
    -- key did (the loans of the old key and of the new).
    IF TG_OP = 'INSERT' THEN
        changed := format('SELECT n.%1$I AS k FROM credit_new n', cfg.customers_key);
    ELSIF TG_OP = 'DELETE' THEN
        changed := format('SELECT o.%1$I AS k FROM credit_old o', cfg.customers_key);
    ELSE
        changed := format(
            'SELECT n.%1$I AS k FROM credit_new n LEFT JOIN credit_old o ON o.%1$I = n.%1$I
             WHERE o.%1$I IS NULL OR n.%2$I IS DISTINCT FROM o.%2$I OR n.%3$I IS DISTINCT FROM o.%3$I
             UNION ALL
             SELECT o.%1$I FROM credit_old o WHERE NOT EXISTS (SELECT FROM credit_new n WHERE n.%1$I = o.%1$I)',
            cfg.customers_key, cfg.income_column, cfg.assets_column);
    END IF;
    EXECUTE format('SELECT credit.run_as_owner($1, $2, array_agg(c.k)) FROM (%s) c HAVING count(*) > 0', changed)
    USING cfg.relid, format('UPDATE %s SET scored_at = NULL WHERE %I = ANY($1)', cfg.relid, cfg.customer_ref);
    RETURN NULL;
END
$fn$;

CREATE FUNCTION credit.forget_truncated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- TRUNCATE fires no DELETE trigger: BEFORE TRUNCATE, while its rows are
-- still there, they leave the current views (their history stays).
DECLARE
    cfg    credit.scored_tables;
    t_name text;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables
    WHERE relid = coalesce(pg_partition_root(TG_RELID), TG_RELID);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT format('%s.%s', n.nspname, c.relname) INTO t_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = cfg.relid;
    IF TG_RELID = cfg.relid THEN
        DELETE FROM credit.latest_scores WHERE table_name = t_name;
    ELSE
        -- One partition: its rows' keys.
        EXECUTE format('DELETE FROM credit.latest_scores l USING %s p
                        WHERE l.table_name = $1 AND l.row_key = p.%I::text', TG_RELID::regclass, cfg.key_column)
        USING t_name;
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION credit.forget_truncated() IS
    'Statement trigger attached by credit.enable_scoring (BEFORE TRUNCATE): the truncated rows leave the current views; their history stays';
REVOKE EXECUTE ON FUNCTION credit.forget_truncated() FROM PUBLIC;

CREATE FUNCTION credit.registered_lookup(target oid) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    on_worker boolean := false;
    found     text[];
BEGIN
    -- On a Citus worker the registrations are the coordinator's: unknown here.
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO on_worker;
        IF on_worker THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT ARRAY[t.customers::text, t.income_column, t.assets_column, t.customers_key] INTO found
    FROM credit.scored_tables t
    WHERE t.relid = coalesce(pg_partition_root(target::regclass), target::regclass)
      AND t.customers IS NOT NULL;
    RETURN coalesce(found, '{}');
END
$fn$;
COMMENT ON FUNCTION credit.registered_lookup(oid) IS
    'Internal: the customers look-up (table, income, assets, key columns) credit.enable_scoring registered for a table or its partitioned root';

CREATE FUNCTION credit.rescore_trigger_name(scored_table text, event text DEFAULT 'update') RETURNS name
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    -- Named after the scored table (which survives dump and restore, unlike
    -- its oid), shortened with a hash to fit a name; one per event
    -- (update: the first, unmarked).
    SELECT (left('credit_scoring_rescore_' || CASE WHEN event = 'update' THEN '' ELSE event || '_' END
                 || replace(scored_table, '.', '_'), 54) || '_'
            || left(md5(scored_table), 8))::name
$$;
COMMENT ON FUNCTION credit.rescore_trigger_name(text, text) IS
    'Internal: the name of the trigger on a customers table that rescores the loans of the given scored table when customers are updated, inserted or deleted';

CREATE FUNCTION credit.in_restore() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    -- What pg_dump's scripts and every pg_restore connection set before
    -- anything else (both: a migration tool switching off
    -- check_function_bodies alone is not a restore).
    SELECT NOT current_setting('check_function_bodies')::boolean
       AND NOT current_setting('row_security')::boolean
$$;
COMMENT ON FUNCTION credit.in_restore() IS
    'Internal: whether this session is a pg_dump script or pg_restore (the event triggers then leave the triggers to the restore)';

CREATE FUNCTION credit.rescore_loans_of(target regclass, customers regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- Rescores the target's loans whose customers are rows of the given table
-- (a customers partition attached or detached: those customers appear or
-- leave), as the target's owner.
DECLARE
    cfg credit.scored_tables;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
    IF cfg.customers IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT credit.run_as_owner($1, $2, array_agg(c.%I)) FROM %s c HAVING count(*) > 0',
                   cfg.customers_key, customers)
    USING cfg.relid, format('UPDATE %s SET scored_at = NULL WHERE %I = ANY($1)', cfg.relid, cfg.customer_ref);
END
$fn$;
COMMENT ON FUNCTION credit.rescore_loans_of(regclass, regclass) IS
    'Internal: rescores a scored table''s loans whose customers are rows of the given table (a customers partition attached or detached)';
REVOKE EXECUTE ON FUNCTION credit.rescore_loans_of(regclass, regclass) FROM PUBLIC;

CREATE FUNCTION credit.attach_rescore_triggers(target regclass, rescore_attached boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- Layout 2 (not Citus): the triggers on the customers table that rescore
-- the target's loans when customers are updated, inserted or deleted, on
-- the customers table and on every partition below it (statement triggers
-- fire only for the table a statement names: an UPDATE naming a partition
-- needs its own). rescore_attached: a partition getting them now was just
-- created or attached, and the loans of its customers are rescored.
DECLARE
    cfg  credit.scored_tables;
    part record;
    ev   record;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
    IF cfg.customers IS NULL THEN
        RETURN;
    END IF;
    FOR part IN SELECT t.relid FROM pg_partition_tree(cfg.customers) t UNION SELECT cfg.customers LOOP
        FOR ev IN
            SELECT * FROM (VALUES
                ('update', 'UPDATE', 'OLD TABLE AS credit_old NEW TABLE AS credit_new'),
                ('insert', 'INSERT', 'NEW TABLE AS credit_new'),
                ('delete', 'DELETE', 'OLD TABLE AS credit_old')) AS e(event, op, transitions)
        LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                           WHERE g.tgrelid = part.relid
                             AND g.tgname = credit.rescore_trigger_name(cfg.table_name, ev.event)) THEN
                EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s
                                FOR EACH STATEMENT EXECUTE FUNCTION credit.rescore_customers(%L)',
                               credit.rescore_trigger_name(cfg.table_name, ev.event), ev.op, part.relid,
                               ev.transitions, cfg.table_name);
                IF rescore_attached AND ev.event = 'update' AND part.relid <> cfg.customers
                   AND (SELECT relkind FROM pg_class WHERE oid = part.relid) = 'r' THEN
                    PERFORM credit.rescore_loans_of(target, part.relid);
                END IF;
            END IF;
        END LOOP;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION credit.attach_rescore_triggers(regclass, boolean) IS
    'Internal: attaches the triggers that rescore a scored table''s loans to its customers table and that table''s partitions (layout 2)';
REVOKE EXECUTE ON FUNCTION credit.attach_rescore_triggers(regclass, boolean) FROM PUBLIC;

CREATE FUNCTION credit.drop_rescore_triggers(scored_table text, customers regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    part  record;
    event text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = customers) THEN
        RETURN;
    END IF;
    FOR part IN SELECT t.relid FROM pg_partition_tree(customers) t UNION SELECT customers LOOP
        FOREACH event IN ARRAY ARRAY['update', 'insert', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', credit.rescore_trigger_name(scored_table, event),
                           part.relid);
        END LOOP;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION credit.drop_rescore_triggers(text, regclass) IS
    'Internal: removes the triggers that rescore a scored table''s loans from a customers table and its partitions';
REVOKE EXECUTE ON FUNCTION credit.drop_rescore_triggers(text, regclass) FROM PUBLIC;

CREATE TYPE credit.distributed_scoring AS (
    row_key text, dist_key bigint, income_value numeric, assets_value numeric,
    loan_amount numeric, tenor_value numeric, credit_score integer, default_probability numeric,
    segment text, scored_at timestamptz, decision text, old_score integer, old_segment text,
    first_scoring boolean);
COMMENT ON TYPE credit.distributed_scoring IS 'Internal (Citus): a row scored by a statement, read from the transition tables';

CREATE TYPE credit.distributed_customer AS (key bigint, income numeric, assets numeric);
COMMENT ON TYPE credit.distributed_customer IS 'Internal (Citus): a customer''s income and assets';

CREATE TYPE credit.distributed_prior AS (row_key text, score integer, crit boolean);
COMMENT ON TYPE credit.distributed_prior IS 'Internal (Citus): what the history or alerts say of a row before the statement';

CREATE TYPE credit.distributed_record AS (
    history_id bigint, row_key text, dist_key bigint, monthly_income numeric, assets numeric,
    income_value numeric, assets_value numeric, loan_amount numeric, tenor_months integer,
    tenor_value numeric, credit_score integer, default_probability numeric, segment text,
    scored_at timestamptz, decision text, decision_reasons text[], old_score integer,
    old_segment text, first_scoring boolean, peak integer, last_crit boolean, last_alert integer);
COMMENT ON TYPE credit.distributed_record IS 'Internal (Citus): a history row, its latest score and what decides its alerts';

CREATE FUNCTION credit.distribution_column(target regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
-- The Citus distribution column of a hash-distributed table; NULL without
-- Citus (one catalog lookup) or for any other table.
DECLARE
    col text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT pg_catalog.column_to_column_name(logicalrelid, partkey) FROM pg_catalog.pg_dist_partition
             WHERE logicalrelid = $1 AND partmethod = ''h'''
    INTO col USING target;
    RETURN col;
END
$fn$;
COMMENT ON FUNCTION credit.distribution_column(regclass) IS
    'The Citus distribution column of a hash-distributed table; NULL without Citus or for any other table';

CREATE FUNCTION credit.distribute_scoring(colocate_with regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- Once per Citus cluster, on the coordinator, in its own transaction
-- before the first enable_scoring: distributes credit.score_history,
-- credit.latest_scores and credit.score_alerts by a new dist_key column,
-- co-located with the given distributed table (every scored table must be
-- in that co-location group).  Own transaction: until it commits, the
-- workers' connections that run the triggers do not see the tables as
-- distributed, and history would land in their local shells.
DECLARE
    dist_col  text := credit.distribution_column(colocate_with);
    dist_type regtype;
    t         record;
    n         bigint;
    failed    text;
BEGIN
    IF dist_col IS NULL THEN
        RAISE EXCEPTION 'credit.distribute_scoring: % is not a hash-distributed Citus table', colocate_with
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT a.atttypid::regtype INTO dist_type FROM pg_attribute a
    WHERE a.attrelid = colocate_with AND a.attname = dist_col;
    IF dist_type <> 'bigint'::regtype THEN
        RAISE EXCEPTION 'credit.distribute_scoring: % is distributed by %, of type %, not bigint',
                        colocate_with, dist_col, dist_type USING ERRCODE = 'feature_not_supported';
    END IF;
    FOR t IN SELECT * FROM (VALUES ('credit.score_history'::regclass, 'score_history_pkey', 'dist_key, id'),
                                   ('credit.latest_scores'::regclass, 'latest_scores_pkey', 'dist_key, table_name, row_key'),
                                   ('credit.score_alerts'::regclass, 'score_alerts_pkey', 'dist_key, id')) AS v(rel, pkey, cols)
    LOOP
        IF credit.distribution_column(t.rel) IS NOT NULL THEN
            CONTINUE;
        END IF;
        -- Rows already there (of scored local tables) could not be placed.
        EXECUTE format('SELECT count(*) FROM %s', t.rel) INTO n;
        IF n > 0 THEN
            RAISE EXCEPTION 'credit.distribute_scoring: % holds % rows of tables Citus does not distribute', t.rel, n
                USING ERRCODE = 'feature_not_supported';
        END IF;
        -- The same definition on every node: the workers hold their own
        -- copy of the extension's tables, which Citus takes as the shell.
        SELECT string_agg(r.nodename || ':' || r.nodeport || ': ' || r.result, '; ') INTO failed
        FROM pg_catalog.run_command_on_workers(format(
            'ALTER TABLE %1$s ADD COLUMN IF NOT EXISTS dist_key bigint;
             ALTER TABLE %1$s DROP CONSTRAINT IF EXISTS %2$I, ADD PRIMARY KEY (%3$s)', t.rel, t.pkey, t.cols)) AS r
        WHERE NOT r.success;
        IF failed IS NOT NULL THEN
            RAISE EXCEPTION 'credit.distribute_scoring: %', failed;
        END IF;
        EXECUTE format('ALTER TABLE %1$s ADD COLUMN IF NOT EXISTS dist_key bigint;
                        ALTER TABLE %1$s DROP CONSTRAINT %2$I, ADD PRIMARY KEY (%3$s)', t.rel, t.pkey, t.cols);
        EXECUTE format('SELECT pg_catalog.create_distributed_table(%L, %L, colocate_with => %L)',
                       t.rel::text, 'dist_key', colocate_with::text);
    END LOOP;
    -- Ids made on the workers: one range per node, as Citus does for its own
    -- bigserials (ids stay unique; per row they still grow with time).
    SELECT string_agg(r.nodename || ':' || r.nodeport || ': ' || r.result, '; ') INTO failed
    FROM pg_catalog.run_command_on_workers($c$
        DO $d$
        DECLARE
            g bigint := (SELECT groupid FROM pg_catalog.pg_dist_local_group);
            s text;
        BEGIN
            FOREACH s IN ARRAY ARRAY['credit.score_history_id_seq', 'credit.score_alerts_id_seq'] LOOP
                IF (SELECT seqmin FROM pg_catalog.pg_sequence WHERE seqrelid = s::regclass) < (g << 48) THEN
                    EXECUTE format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START WITH %s RESTART WITH %s',
                                   s, (g << 48) + 1, ((g + 1) << 48) - 1, (g << 48) + 1, (g << 48) + 1);
                END IF;
            END LOOP;
        END
        $d$ $c$) AS r
    WHERE NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'credit.distribute_scoring: %', failed;
    END IF;
    -- The BI views joining history by id: a join Citus pushes down must
    -- include the distribution column.
    EXECUTE $v$
        CREATE OR REPLACE VIEW credit.current_scores AS
        SELECT l.table_name, l.row_key, h.monthly_income, h.assets, l.loan_amount, h.tenor_months,
               l.credit_score, l.default_probability, l.segment, s.dsr, s.monthly_installment, s.persona,
               array_to_string(s.reasons, ',') AS reasons, s.recommendation, l.decision,
               array_to_string(h.decision_reasons, ',') AS decision_reasons, h.scorecard, h.scored_at
        FROM credit.latest_scores AS l
        JOIN credit.score_history AS h ON h.dist_key = l.dist_key AND h.id = l.history_id
        LEFT JOIN LATERAL credit.score_credit(h.monthly_income, h.assets, h.loan_amount, h.tenor_months,
                                              CASE WHEN h.credit_score IS NOT NULL THEN h.scorecard END) AS s
               ON true $v$;
    -- (0.1.1) early_warnings: the same join; scored_tables (coordinator-
    -- local) through a subquery, scorecards joined, not in a correlated
    -- subquery (Citus plans neither of those forms).
    IF to_regclass('credit.early_warnings') IS NOT NULL THEN
        EXECUTE $v$
            CREATE OR REPLACE VIEW credit.early_warnings AS
            SELECT e.table_name, e.row_key, e.monthly_income, e.loan_amount, e.tenor_months,
                   round(e.loan_amount * (1 + e.margin_rate) / e.tenor_months / e.monthly_income, 6) AS dsr,
                   e.dsr_alert_ratio, e.credit_score, e.segment, e.decision, e.scored_at
            FROM (SELECT l.table_name, l.row_key, h.monthly_income, h.loan_amount, h.tenor_months, l.credit_score,
                         l.segment, l.decision, h.scored_at, (sc.definition->>'margin_rate')::numeric AS margin_rate,
                         coalesce(t.dsr_alert_ratio,
                                  nullif(current_setting('credit_scoring.dsr_alert_ratio', true), '')::numeric,
                                  0.60) AS dsr_alert_ratio
                  FROM credit.latest_scores AS l
                  JOIN credit.score_history AS h ON h.dist_key = l.dist_key AND h.id = l.history_id
                  JOIN credit.scorecards AS sc ON sc.name = h.scorecard
                  LEFT JOIN (SELECT st.table_name, st.dsr_alert_ratio FROM credit.scored_tables AS st) AS t
                         ON t.table_name = l.table_name
                  WHERE h.credit_score IS NOT NULL AND h.monthly_income > 0) AS e
            WHERE e.loan_amount * (1 + e.margin_rate) > e.dsr_alert_ratio * e.monthly_income * e.tenor_months $v$;
    END IF;
END
$fn$;
REVOKE EXECUTE ON FUNCTION credit.distribute_scoring(regclass) FROM PUBLIC;
COMMENT ON FUNCTION credit.distribute_scoring(regclass) IS
    'Citus: distributes history, latest scores and alerts co-located with a distributed table (once, in its own transaction, before enable_scoring)';

CREATE FUNCTION credit.prepare_distributed(target regclass, customers regclass, customer_ref text, customers_key text,
                                           scorecard text)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- enable_scoring's checks on a Citus cluster (coordinator).  Returns the
-- table's distribution column; NULL (and nothing done) for a table Citus
-- does not distribute.
DECLARE
    dist_col text := credit.distribution_column(target);
    colo     integer;
    t_colo   integer;
    yes      boolean;
    failed   text;
BEGIN
    IF dist_col IS NULL THEN
        IF credit.distribution_column('credit.score_history') IS NOT NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: % is not distributed, but credit.score_history is', target
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'On a Citus cluster, distribute every scored table (create_distributed_table) first.';
        END IF;
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO yes;
    IF yes THEN
        RAISE EXCEPTION 'credit.enable_scoring: run it on the Citus coordinator' USING ERRCODE = 'feature_not_supported';
    END IF;
    EXECUTE 'SELECT colocationid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1' INTO colo USING target;
    EXECUTE 'SELECT colocationid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1'
    INTO t_colo USING 'credit.score_history'::regclass;
    IF t_colo IS NULL THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is distributed by Citus, credit.score_history not yet', target
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = format('Run SELECT credit.distribute_scoring(%L); first, in its own transaction.', target::text);
    ELSIF t_colo <> colo THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is not co-located with credit.score_history', target
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('Every scored table shares one co-location group: SELECT alter_distributed_table(%L, colocate_with => %L);',
                                target::text, 'credit.score_history');
    END IF;
    IF customers IS NOT NULL THEN
        IF credit.distribution_column(customers) IS DISTINCT FROM customers_key OR dist_col <> customer_ref THEN
            RAISE EXCEPTION 'credit.enable_scoring: on Citus, % must be distributed by its key % and % by %',
                            customers, customers_key, target, customer_ref
                USING ERRCODE = 'feature_not_supported',
                      HINT = format('SELECT create_distributed_table(%L, %L, colocate_with => %L);',
                                    target::text, customer_ref, customers::text);
        END IF;
        EXECUTE 'SELECT colocationid FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1' INTO t_colo USING customers;
        IF t_colo <> colo THEN
            RAISE EXCEPTION 'credit.enable_scoring: % and % are not co-located', target, customers
                USING ERRCODE = 'feature_not_supported',
                      HINT = format('SELECT alter_distributed_table(%L, colocate_with => %L);', target::text, customers::text);
        END IF;
    END IF;
    -- The scorecard, on every worker: the row trigger and a pushed-down
    -- score_credit(..., scorecard) read it there (a scorecard in use never
    -- changes, so a copy stays right; a reference table would not do:
    -- score_credit in a pushed-down query may not read a distributed table).
    SELECT string_agg(r.nodename || ':' || r.nodeport || ': ' || r.result, '; ') INTO failed
    FROM credit.scorecards sc,
         pg_catalog.run_command_on_workers(format(
             $c$DO $d$ BEGIN
                   IF NOT EXISTS (SELECT 1 FROM credit.scorecards WHERE name = %1$L) THEN
                       INSERT INTO credit.scorecards (name, definition, description, created_at, created_by, first_used_at)
                       VALUES (%1$L, %2$L, %3$L, %4$L, %5$L, now());
                   ELSIF NOT EXISTS (SELECT 1 FROM credit.scorecards WHERE name = %1$L AND definition = %2$L::jsonb) THEN
                       RAISE EXCEPTION 'scorecard %1$s differs on this node';
                   END IF;
               END $d$$c$,
             sc.name, sc.definition, sc.description, sc.created_at, sc.created_by)) AS r
    WHERE sc.name = scorecard AND NOT r.success;
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'credit.enable_scoring: copying scorecard % to the workers: %', scorecard, failed;
    END IF;
    -- Trigger DDL on distributed tables, for this transaction only.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    RETURN dist_col;
END
$fn$;
REVOKE EXECUTE ON FUNCTION credit.prepare_distributed(regclass, regclass, text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION credit.prepare_distributed(regclass, regclass, text, text, text) IS
    'Internal: enable_scoring''s checks and preparations on a Citus distributed table';

CREATE FUNCTION credit.record_scores_distributed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- The statement trigger of a Citus distributed table; fires on the worker
-- holding the shard.  Arguments (enable_scoring writes them):
--   0 the table's name (history names it), 1 key column, 2 income, 3 assets,
--   4 amount, 5 tenor columns, 6 customers ('' in layout 1), 7 customers'
--   key, 8 distribution column, 9 scorecard, 10 dsr_alert_ratio,
--   11 alert_drop_points, 12 alert_window, 13 the scorecard's margin rate.
DECLARE
    t_name    text     := TG_ARGV[0];
    key_col   text     := TG_ARGV[1];
    customers text     := nullif(TG_ARGV[6], '');
    dist_col  text     := TG_ARGV[8];
    card      text     := TG_ARGV[9];
    ratio     numeric  := TG_ARGV[10]::numeric;
    drop_pts  integer  := TG_ARGV[11]::integer;
    win       interval := TG_ARGV[12]::interval;
    margin    numeric  := TG_ARGV[13]::numeric;
    scored    credit.distributed_scoring[];
    custs     credit.distributed_customer[];
    peaks     credit.distributed_prior[];
    alerted   credit.distributed_prior[];
    records   credit.distributed_record[];
    keys      bigint[];
    row_keys  text[];
    sources   text := 'credit_new n';
    rescored  text := 'n.scored_at IS NOT NULL';
    old_score text := 'NULL::integer';
    old_seg   text := 'NULL::text';
    first     text := 'true';
BEGIN
    -- Never write history into a table this node does not know as
    -- distributed (it would land in the node's local shell, out of sight).
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                   WHERE logicalrelid = 'credit.score_history'::regclass) THEN
        RAISE EXCEPTION 'credit_scoring: credit.score_history is not distributed on this node (yet)'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Distribute it first (credit.enable_scoring does), in a committed transaction.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(DISTINCT o.%I::bigint), array_agg(o.%I::text) FROM credit_old o',
                       dist_col, key_col) INTO keys, row_keys;
        IF keys IS NOT NULL THEN
            EXECUTE 'DELETE FROM credit.latest_scores WHERE dist_key = ANY($1) AND table_name = $2 AND row_key = ANY($3)'
            USING keys, t_name, row_keys;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- A row whose key the statement changed left its old key, as a
        -- deleted row does.
        EXECUTE format('SELECT array_agg(DISTINCT o.%1$I::bigint), array_agg(o.%2$I::text) FROM credit_old o
                        WHERE NOT EXISTS (SELECT FROM credit_new n WHERE n.%2$I = o.%2$I)',
                       dist_col, key_col) INTO keys, row_keys;
        IF keys IS NOT NULL THEN
            EXECUTE 'DELETE FROM credit.latest_scores WHERE dist_key = ANY($1) AND table_name = $2 AND row_key = ANY($3)'
            USING keys, t_name, row_keys;
        END IF;
        sources   := format('credit_new n LEFT JOIN credit_old o ON o.%I = n.%I', key_col, key_col);
        rescored  := format('o.%I IS NULL OR n.scored_at IS DISTINCT FROM o.scored_at', key_col);
        old_score := 'o.credit_score';
        old_seg   := 'o.segment';
        first     := format('o.%I IS NULL OR o.scored_at IS NULL', key_col);
    END IF;
    -- 1. This statement's scorings, from the transition tables (a local
    --    query: no distributed table in it).
    EXECUTE format($q$
        SELECT array_agg(ROW(n.%1$I::text, n.%2$I::bigint, %3$s, %4$s, n.%5$I::numeric, n.%6$I::numeric,
                             n.credit_score, n.default_probability, n.segment, n.scored_at, n.decision,
                             %7$s, %8$s, %9$s)::credit.distributed_scoring),
               array_agg(DISTINCT n.%2$I::bigint), array_agg(n.%1$I::text)
        FROM %10$s WHERE %11$s $q$,
        key_col, dist_col,
        CASE WHEN customers IS NULL THEN format('n.%I::numeric', TG_ARGV[2]) ELSE 'NULL::numeric' END,
        CASE WHEN customers IS NULL THEN format('n.%I::numeric', TG_ARGV[3]) ELSE 'NULL::numeric' END,
        TG_ARGV[4], TG_ARGV[5], old_score, old_seg, first, sources, rescored)
    INTO scored, keys, row_keys;
    IF scored IS NULL THEN
        RETURN NULL;
    END IF;
    -- 2. What lives on the co-located shards of this node: the customers'
    --    income and assets (layout 2), the rows' earlier history and
    --    score_drop alerts.  dist_key = ANY(...) prunes to those shards.
    IF customers IS NOT NULL THEN
        EXECUTE format('SELECT array_agg(ROW(c.%I, c.%I::numeric, c.%I::numeric)::credit.distributed_customer)
                        FROM %s c WHERE c.%I = ANY($1)',
                       TG_ARGV[7], TG_ARGV[2], TG_ARGV[3], customers, TG_ARGV[7])
        INTO custs USING keys;
    END IF;
    EXECUTE $q$
        SELECT array_agg(ROW(x.row_key, x.peak, x.last_crit)::credit.distributed_prior)
        FROM (SELECT h.row_key,
                     max(h.credit_score) FILTER (WHERE $4 > interval '0' AND h.scored_at >= now() - $4) AS peak,
                     (array_agg(h.credit_score IS NOT NULL AND h.monthly_income > 0
                                AND h.loan_amount * (1 + $5) > $6 * h.monthly_income * h.tenor_months
                                ORDER BY h.id DESC))[1] AS last_crit
              FROM credit.score_history h
              WHERE h.dist_key = ANY($1) AND h.table_name = $2 AND h.row_key = ANY($3)
              GROUP BY h.row_key) x $q$
    INTO peaks USING keys, t_name, row_keys, win, margin, ratio;
    IF win > interval '0' THEN
        EXECUTE $q$
            SELECT array_agg(ROW(x.row_key, x.last_alert, NULL)::credit.distributed_prior)
            FROM (SELECT a.row_key, (array_agg(a.new_score ORDER BY a.id DESC))[1] AS last_alert
                  FROM credit.score_alerts a
                  WHERE a.dist_key = ANY($1) AND a.table_name = $2 AND a.row_key = ANY($3)
                    AND a.kind = 'score_drop' AND a.created_at >= now() - $4
                  GROUP BY a.row_key) x $q$
        INTO alerted USING keys, t_name, row_keys, win;
    END IF;
    -- 3. History rows (ids taken here, so latest_scores can point at them),
    --    computed locally.
    SELECT array_agg(ROW(nextval('credit.score_history_id_seq'), s.row_key, s.dist_key,
                         coalesce(s.income_value, 0), coalesce(s.assets_value, 0),
                         s.income_value, s.assets_value, s.loan_amount,
                         CASE WHEN s.tenor_value = trunc(s.tenor_value)
                               AND s.tenor_value BETWEEN -2147483648 AND 2147483647
                              THEN s.tenor_value::integer END,
                         s.tenor_value, s.credit_score, s.default_probability, s.segment, s.scored_at, s.decision,
                         NULL::text[], s.old_score, s.old_segment, s.first_scoring,
                         p.score, p.crit, a.score)::credit.distributed_record)
    INTO records
    FROM unnest(scored) AS s0
    CROSS JOIN LATERAL (SELECT s0.row_key, s0.dist_key,
                               CASE WHEN customers IS NULL THEN s0.income_value ELSE c.income END AS income_value,
                               CASE WHEN customers IS NULL THEN s0.assets_value ELSE c.assets END AS assets_value,
                               s0.loan_amount, s0.tenor_value, s0.credit_score, s0.default_probability, s0.segment,
                               s0.scored_at, s0.decision, s0.old_score, s0.old_segment, s0.first_scoring
                        FROM (SELECT 1) AS one
                        LEFT JOIN unnest(custs) AS c ON c.key = s0.dist_key) AS s
    LEFT JOIN unnest(peaks) AS p ON p.row_key = s.row_key
    LEFT JOIN unnest(alerted) AS a ON a.row_key = s.row_key;
    -- 4. The writes: routed to this node's co-located shards, in this
    --    transaction.
    EXECUTE $q$
        INSERT INTO credit.score_history (id, dist_key, table_name, row_key, monthly_income, assets, loan_amount,
                                          tenor_months, credit_score, default_probability, segment, scorecard,
                                          scored_at, decision, decision_reasons, previous_segment, first_scoring)
        OVERRIDING SYSTEM VALUE
        SELECT r.history_id, r.dist_key, $2, r.row_key, r.monthly_income, r.assets, r.loan_amount, r.tenor_months,
               r.credit_score, r.default_probability, r.segment, $3, r.scored_at, r.decision,
               CASE WHEN r.credit_score IS NOT NULL
                    THEN (credit.decide(r.monthly_income, r.assets, r.loan_amount, r.tenor_months, $3)).decision_reasons
               END,
               r.old_segment, r.first_scoring
        FROM unnest($1) AS r $q$
    USING records, t_name, card;
    EXECUTE $q$
        INSERT INTO credit.latest_scores AS l (dist_key, table_name, row_key, history_id, credit_score,
                                               default_probability, segment, loan_amount, decision)
        SELECT r.dist_key, $2, r.row_key, r.history_id, r.credit_score, r.default_probability, r.segment,
               r.loan_amount, r.decision
        FROM unnest($1) AS r
        ON CONFLICT (dist_key, table_name, row_key) DO UPDATE
        SET history_id = excluded.history_id, credit_score = excluded.credit_score,
            default_probability = excluded.default_probability, segment = excluded.segment,
            loan_amount = excluded.loan_amount, decision = excluded.decision $q$
    USING records, t_name;
    EXECUTE $q$
        INSERT INTO credit.score_alerts (dist_key, table_name, row_key, kind, old_score, new_score, score_drop,
                                         old_segment, new_segment, details)
        SELECT r.dist_key, $2, r.row_key, 'invalid_input', r.old_score, NULL::integer, NULL::integer, r.old_segment,
               NULL::text,
               jsonb_build_object(
                   'reason', coalesce(credit.validate_row(r.income_value, r.assets_value, r.loan_amount,
                                                          r.tenor_value), 'invalid input'),
                   'monthly_income', r.monthly_income, 'assets', r.assets,
                   'loan_amount', r.loan_amount, 'tenor_months', r.tenor_value)
        FROM unnest($1) AS r
        WHERE r.credit_score IS NULL
        UNION ALL
        SELECT r.dist_key, $2, r.row_key, 'dsr_critical', r.old_score, r.credit_score, NULL::integer, r.old_segment,
               r.segment,
               jsonb_build_object('dsr', round(r.loan_amount * (1 + $6) / r.tenor_months / r.monthly_income, 6),
                                  'dsr_alert_ratio', $3)
        FROM unnest($1) AS r
        WHERE r.credit_score IS NOT NULL AND r.monthly_income > 0
          AND r.loan_amount * (1 + $6) > $3 * r.monthly_income * r.tenor_months
          AND NOT coalesce(r.last_crit, false)
        UNION ALL
        SELECT d.dist_key, $2, d.row_key, 'score_drop', d.peak_score, d.credit_score, d.peak_score - d.credit_score,
               d.old_segment, d.segment,
               jsonb_build_object('previous_score', d.old_score, 'alert_drop_points', $4, 'alert_window', $7)
        FROM (SELECT r.*,
                     CASE WHEN $5 = interval '0' THEN r.old_score ELSE greatest(r.old_score, r.peak) END AS peak_score
              FROM unnest($1) AS r
              WHERE r.credit_score < r.old_score) d
        WHERE d.peak_score - d.credit_score >= $4
          AND ($5 = interval '0' OR d.last_alert IS NULL OR d.last_alert - d.credit_score >= $4) $q$
    USING records, t_name, ratio, drop_pts, win, margin, TG_ARGV[12];
    RETURN NULL;
END
$fn$;
REVOKE EXECUTE ON FUNCTION credit.record_scores_distributed() FROM PUBLIC;
COMMENT ON FUNCTION credit.record_scores_distributed() IS
    'Statement trigger attached by credit.enable_scoring to a Citus distributed table: history, latest scores and alerts, written on the worker, configuration in the trigger arguments';

CREATE FUNCTION credit.rescore_customers_distributed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- The customers trigger of a distributed customers + loans pair (fires on
-- the worker holding the customers shard).  Arguments: 0 the loans table,
-- 1 its customer reference, 2 customers' key, 3 income, 4 assets columns.
DECLARE
    keys bigint[];
BEGIN
    EXECUTE format('SELECT array_agg(n.%1$I::bigint) FROM credit_new n JOIN credit_old o ON o.%1$I = n.%1$I
                    WHERE n.%2$I IS DISTINCT FROM o.%2$I OR n.%3$I IS DISTINCT FROM o.%3$I',
                   TG_ARGV[2], TG_ARGV[3], TG_ARGV[4])
    INTO keys;
    IF keys IS NOT NULL THEN
        -- Co-located: the loans of these customers are on this node
        -- (written as the loans table's owner).
        PERFORM credit.run_as_owner(TG_ARGV[0]::regclass,
                                    format('UPDATE %s SET scored_at = NULL WHERE %I = ANY($1)', TG_ARGV[0], TG_ARGV[1]),
                                    keys);
    END IF;
    RETURN NULL;
END
$fn$;
REVOKE EXECUTE ON FUNCTION credit.rescore_customers_distributed() FROM PUBLIC;
COMMENT ON FUNCTION credit.rescore_customers_distributed() IS
    'Statement trigger on a Citus distributed customers table: rescores the co-located loans of customers whose income or assets changed';

CREATE OR REPLACE FUNCTION credit.attach_statement_triggers(target regclass, score_unscored boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
-- The history triggers, on the table and on every partition below it:
-- statement triggers fire only for the table a statement names, so a
-- direct write to a partition needs its own (row triggers are cloned by
-- PostgreSQL itself). Rows of an attached partition not scored yet are
-- scored.
DECLARE
    part     record;
    dist_col text := credit.distribution_column(target);
    cfg      credit.scored_tables;
    args     text;
BEGIN
    IF dist_col IS NOT NULL THEN
        -- Citus: the configuration travels with the trigger (effective
        -- values: the table's overrides, else this session's settings).
        IF EXISTS (SELECT 1 FROM pg_trigger g
                   WHERE g.tgrelid = target AND g.tgname = 'credit_scoring_history_insert') THEN
            RETURN;
        END IF;
        SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
        args := format('%L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L',
            cfg.table_name, cfg.key_column, cfg.income_column, cfg.assets_column, cfg.amount_column,
            cfg.tenor_column, coalesce(cfg.customers::text, ''), coalesce(cfg.customers_key, ''), dist_col,
            cfg.scorecard,
            coalesce(cfg.dsr_alert_ratio,
                     nullif(current_setting('credit_scoring.dsr_alert_ratio', true), '')::numeric, 0.60),
            coalesce(cfg.alert_drop_points,
                     nullif(current_setting('credit_scoring.alert_drop_points', true), '')::integer, 15),
            coalesce(cfg.alert_window,
                     nullif(current_setting('credit_scoring.alert_window', true), '')::interval, interval '30 days'),
            (SELECT (sc.definition->>'margin_rate')::numeric FROM credit.scorecards sc WHERE sc.name = cfg.scorecard));
        EXECUTE format('CREATE TRIGGER credit_scoring_history_insert AFTER INSERT ON %s
                        REFERENCING NEW TABLE AS credit_new
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores_distributed(%s)', target, args);
        EXECUTE format('CREATE TRIGGER credit_scoring_history_update AFTER UPDATE ON %s
                        REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores_distributed(%s)', target, args);
        EXECUTE format('CREATE TRIGGER credit_scoring_history_delete AFTER DELETE ON %s
                        REFERENCING OLD TABLE AS credit_old
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores_distributed(%s)', target, args);
        RETURN;
    END IF;
    FOR part IN
        SELECT t.relid FROM pg_partition_tree(target) t
        UNION SELECT target
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                       WHERE g.tgrelid = part.relid AND g.tgname = 'credit_scoring_history_insert') THEN
            EXECUTE format('CREATE TRIGGER credit_scoring_history_insert AFTER INSERT ON %s
                            REFERENCING NEW TABLE AS credit_new
                            FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores()', part.relid);
            EXECUTE format('CREATE TRIGGER credit_scoring_history_update AFTER UPDATE ON %s
                            REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                            FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores()', part.relid);
            EXECUTE format('CREATE TRIGGER credit_scoring_history_delete AFTER DELETE ON %s
                            REFERENCING OLD TABLE AS credit_old
                            FOR EACH STATEMENT EXECUTE FUNCTION credit.record_scores()', part.relid);
            IF score_unscored AND part.relid <> target AND (SELECT relkind FROM pg_class WHERE oid = part.relid) = 'r' THEN
                -- (as the partition's owner: this runs in the event trigger)
                PERFORM credit.run_as_owner(part.relid,
                                            format('UPDATE %s SET scored_at = NULL WHERE scored_at IS NULL', part.relid),
                                            NULL::integer[]);
            END IF;
        END IF;
        -- (its own check: tables scored before 0.1.1 get it on upgrade)
        IF NOT EXISTS (SELECT 1 FROM pg_trigger g
                       WHERE g.tgrelid = part.relid AND g.tgname = 'credit_scoring_history_truncate') THEN
            EXECUTE format('CREATE TRIGGER credit_scoring_history_truncate BEFORE TRUNCATE ON %s
                            FOR EACH STATEMENT EXECUTE FUNCTION credit.forget_truncated()', part.relid);
        END IF;
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION credit.on_ddl() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- After DDL on tables: a partition created or attached under a scored
-- table gets the history triggers (and its unscored rows scored), one
-- under a customers table the rescoring triggers; a renamed scored table
-- keeps its history, alerts and current scores under its new name; an
-- input column cannot be renamed away. Cheap for all other DDL: a few
-- look-ups in credit.scored_tables.
DECLARE
    root      regclass;
    orphan    record;
    moved     record;
    lost      record;
    on_worker boolean := false;
BEGIN
    -- On a Citus worker, DDL arrives from the coordinator (shells, shards)
    -- and credit.scored_tables is the coordinator's: nothing to do here.
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        EXECUTE 'SELECT NOT pg_catalog.citus_is_coordinator()' INTO on_worker;
        IF on_worker THEN
            RETURN;
        END IF;
    END IF;

    -- A scored table made a partition (ATTACH PARTITION under another
    -- table): a partition is scored through its partitioned table only.
    FOR lost IN
        SELECT t.table_name, p.relid AS parent
        FROM credit.scored_tables t
        JOIN pg_class c ON c.oid = t.relid AND c.relispartition
        JOIN pg_inherits i ON i.inhrelid = t.relid
        CROSS JOIN LATERAL (SELECT i.inhparent::regclass AS relid) p
        -- (made one by this DDL)
        WHERE EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid IN (t.relid, i.inhparent))
    LOOP
        RAISE EXCEPTION 'credit_scoring: % has scoring enabled and cannot become a partition of %', lost.table_name,
                        lost.parent
            USING ERRCODE = 'feature_not_supported',
                  HINT = format('Run SELECT credit.disable_scoring(%L) first, then enable scoring on the partitioned table.',
                                lost.table_name);
    END LOOP;

    -- Renamed, or moved to another schema (ALTER TABLE ... RENAME / SET
    -- SCHEMA, ALTER SCHEMA ... RENAME): history, alerts and latest scores
    -- name a table by its schema-qualified name, so they follow it, and so
    -- do the customers table's rescoring triggers (named after it).
    FOR moved IN
        SELECT t.relid, t.table_name AS old_name, format('%s.%s', n.nspname, c.relname) AS new_name, t.customers,
               -- renamed by this DDL (else by one that ran while this event
               -- trigger was disabled: followed, never refused here, so
               -- unrelated DDL is never blocked)
               (t.relid IN (SELECT d.objid FROM pg_event_trigger_ddl_commands() d
                            WHERE d.classid = 'pg_class'::regclass)
                OR c.relnamespace IN (SELECT d.objid FROM pg_event_trigger_ddl_commands() d
                                      WHERE d.classid = 'pg_namespace'::regclass)) AS this_ddl
        FROM credit.scored_tables t
        JOIN pg_class c ON c.oid = t.relid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.table_name <> format('%s.%s', n.nspname, c.relname)
    LOOP
        IF credit.distribution_column(moved.relid) IS NOT NULL THEN
            RAISE EXCEPTION 'credit_scoring: cannot rename %, a distributed table with scoring enabled', moved.old_name
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Disable scoring, rename the table, and enable scoring again.';
        END IF;
        IF moved.this_ddl AND (SELECT n.nspname || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE c.oid = moved.relid) LIKE '%.%' THEN
            RAISE EXCEPTION 'credit_scoring: cannot rename % to %: history names a scored table schema.table, so neither name may contain a dot',
                            moved.old_name, moved.new_name
                USING ERRCODE = 'invalid_name';
        END IF;
        -- Another table's trail (a dropped table's, whose history stays)
        -- must not become this one's.
        IF (EXISTS (SELECT 1 FROM credit.score_history h WHERE h.table_name = moved.new_name)
            OR EXISTS (SELECT 1 FROM credit.score_alerts a WHERE a.table_name = moved.new_name))
           AND NOT EXISTS (SELECT 1 FROM credit.scored_tables o WHERE o.table_name = moved.new_name) THEN
            IF moved.this_ddl THEN
                RAISE EXCEPTION 'credit_scoring: cannot rename % to %: the history already holds another table of that name',
                                moved.old_name, moved.new_name
                    USING ERRCODE = 'duplicate_object',
                          HINT = 'Choose another name (the history of a dropped table keeps its name).';
            END IF;
            RAISE WARNING 'credit_scoring: % was renamed to % while this event trigger was disabled; its trail now shares that name with an earlier table''s',
                          moved.old_name, moved.new_name;
        END IF;
        IF moved.customers IS NOT NULL THEN
            PERFORM credit.drop_rescore_triggers(moved.old_name, moved.customers);
        END IF;
        -- In two steps, through a name no table has: two tables may have
        -- swapped names (one key of latest_scores each).
        UPDATE credit.scored_tables SET table_name = 'credit_scoring renaming ' || moved.relid::oid
        WHERE relid = moved.relid;
        UPDATE credit.latest_scores SET table_name = 'credit_scoring renaming ' || moved.relid::oid
        WHERE table_name = moved.old_name;
        UPDATE credit.score_history SET table_name = 'credit_scoring renaming ' || moved.relid::oid
        WHERE table_name = moved.old_name;
        UPDATE credit.score_alerts SET table_name = 'credit_scoring renaming ' || moved.relid::oid
        WHERE table_name = moved.old_name;
    END LOOP;
    FOR moved IN
        SELECT t.relid, t.table_name AS old_name, format('%s.%s', n.nspname, c.relname) AS new_name, t.customers
        FROM credit.scored_tables t
        JOIN pg_class c ON c.oid = t.relid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE t.table_name = 'credit_scoring renaming ' || t.relid::oid
    LOOP
        UPDATE credit.scored_tables SET table_name = moved.new_name WHERE relid = moved.relid;
        UPDATE credit.latest_scores SET table_name = moved.new_name WHERE table_name = moved.old_name;
        UPDATE credit.score_history SET table_name = moved.new_name WHERE table_name = moved.old_name;
        UPDATE credit.score_alerts SET table_name = moved.new_name WHERE table_name = moved.old_name;
        IF moved.customers IS NOT NULL THEN
            PERFORM credit.attach_rescore_triggers(moved.relid);
        END IF;
    END LOOP;

    -- A column scoring reads, renamed (dropping one takes the scoring
    -- trigger with it, CASCADE, and ends here too), or an input of the
    -- customers table (which no trigger depends on) changed to a type that
    -- is not a number: the configuration names it, so the DDL is refused
    -- rather than leaving scoring broken.
    FOR lost IN
        SELECT t.table_name, r.rel, r.name, a.atttypid::regtype AS type, r.is_key
        FROM credit.scored_tables t
        CROSS JOIN LATERAL (VALUES (t.relid, t.key_column, false, true), (t.relid, t.amount_column, true, false),
                                   (t.relid, t.tenor_column, true, false),
                                   (coalesce(t.customers, t.relid), t.income_column, true, false),
                                   (coalesce(t.customers, t.relid), t.assets_column, true, false),
                                   (t.relid, t.customer_ref, false, true), (t.customers, t.customers_key, false, true),
                                   (t.relid, 'credit_score', false, false), (t.relid, 'default_probability', false, false),
                                   (t.relid, 'segment', false, false), (t.relid, 'decision', false, false),
                                   (t.relid, 'scored_at', false, false))
             AS r(rel, name, numeric, is_key)
        -- (the tables this DDL changed)
        JOIN (SELECT DISTINCT d.objid FROM pg_event_trigger_ddl_commands() d
              WHERE d.classid = 'pg_class'::regclass) d ON d.objid = r.rel
        LEFT JOIN pg_attribute a ON a.attrelid = r.rel AND a.attname = r.name AND a.attnum > 0 AND NOT a.attisdropped
        WHERE r.name IS NOT NULL
          AND (a.attnum IS NULL
               OR r.numeric AND a.atttypid NOT IN ('numeric'::regtype, 'smallint'::regtype, 'integer'::regtype,
                                                   'bigint'::regtype, 'real'::regtype, 'double precision'::regtype)
               -- (keys: built-in types only, see enable_scoring)
               OR r.is_key AND NOT credit.key_type_ok(a.atttypid))
    LOOP
        IF lost.type IS NULL THEN
            RAISE EXCEPTION 'credit_scoring: column "%" of % is read by the scoring of %', lost.name, lost.rel,
                            lost.table_name
                USING ERRCODE = 'dependent_objects_still_exist',
                      HINT = format('Run SELECT credit.disable_scoring(%L) first, then enable scoring again with the new columns.',
                                    lost.table_name);
        END IF;
        IF lost.is_key THEN
            RAISE EXCEPTION 'credit_scoring: key column "%" of % (scoring of %) must be of type smallint, integer, bigint, numeric, text, varchar or uuid (or a domain over one), not %',
                            lost.name, lost.rel, lost.table_name, lost.type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = format('Keep the key''s type, or run SELECT credit.disable_scoring(%L) first.', lost.table_name);
        END IF;
        RAISE EXCEPTION 'credit_scoring: column "%" of % is read by the scoring of % as a number, not as %',
                        lost.name, lost.rel, lost.table_name, lost.type
            USING ERRCODE = 'datatype_mismatch',
                  HINT = format('Keep it a number, or run SELECT credit.disable_scoring(%L) first.', lost.table_name);
    END LOOP;

    -- The customers key changed to a type the loans' reference cannot be
    -- compared with (the look-up pins pg_catalog's =): refused.
    FOR lost IN
        SELECT t.table_name, t.customers AS rel, t.customers_key AS name, k.atttypid::regtype AS key_type,
               r.atttypid::regtype AS ref_type
        FROM credit.scored_tables t
        JOIN pg_attribute k ON k.attrelid = t.customers AND k.attname = t.customers_key AND NOT k.attisdropped
        JOIN pg_attribute r ON r.attrelid = t.relid AND r.attname = t.customer_ref AND NOT r.attisdropped
        WHERE t.customers IN (SELECT d.objid FROM pg_event_trigger_ddl_commands() d
                              WHERE d.classid = 'pg_class'::regclass)
    LOOP
        BEGIN
            -- (the base types: a NULL of a domain would run its CHECKs here)
            EXECUTE format('SELECT NULL::%s OPERATOR(pg_catalog.=) NULL::%s',
                           credit.key_base_type(lost.ref_type), credit.key_base_type(lost.key_type));
        EXCEPTION WHEN undefined_function THEN
            RAISE EXCEPTION 'credit_scoring: column "%" of % is of type %, which the scoring of % cannot compare with its customer reference (%)',
                            lost.name, lost.rel, lost.key_type, lost.table_name, lost.ref_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = format('Keep the key''s type, or run SELECT credit.disable_scoring(%L) first.', lost.table_name);
        END;
    END LOOP;

    -- A restore (credit.in_restore) creates every trigger itself, in
    -- parallel with the DDL of other tables: equipping or cleaning up
    -- partitions here would create triggers the restore then fails to
    -- create, and lock sibling partitions another restore worker holds (a
    -- deadlock). The checks above only read.
    IF credit.in_restore() THEN
        RETURN;
    END IF;

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
    -- A partition created or attached under a customers table (layout 2).
    FOR root IN
        SELECT DISTINCT t.relid
        FROM pg_event_trigger_ddl_commands() d
        JOIN credit.scored_tables t
          ON t.customers = d.objid OR t.customers IN (SELECT a.relid FROM pg_partition_ancestors(d.objid) a)
        WHERE d.classid = 'pg_class'::regclass
          AND credit.distribution_column(t.relid) IS NULL
          AND EXISTS (SELECT 1 FROM pg_trigger g
                      WHERE g.tgrelid = t.customers AND g.tgname = credit.rescore_trigger_name(t.table_name))
    LOOP
        PERFORM credit.attach_rescore_triggers(root, true);
    END LOOP;

    -- Orphans come only from a partition detached (the DDL names its
    -- partitioned parent) or a table made a partition: otherwise nothing to
    -- look for (the look-up reads all of pg_trigger).
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() d JOIN pg_class c ON c.oid = d.objid
                   WHERE d.classid = 'pg_class'::regclass AND (c.relkind = 'p' OR c.relispartition)) THEN
        RETURN;
    END IF;
    -- A detached partition keeps no history triggers of its former parent.
    FOR orphan IN
        SELECT DISTINCT g.tgrelid::regclass AS rel
        FROM pg_trigger g
        WHERE g.tgname IN ('credit_scoring_history_insert', 'credit_scoring_history_update',
                           'credit_scoring_history_delete', 'credit_scoring_history_truncate')
          AND NOT EXISTS (SELECT 1 FROM credit.scored_tables t
                          WHERE t.relid = coalesce(pg_partition_root(g.tgrelid), g.tgrelid))
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_insert ON %s', orphan.rel);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_update ON %s', orphan.rel);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_delete ON %s', orphan.rel);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_truncate ON %s', orphan.rel);
    END LOOP;
    -- Nor rescoring triggers of its former customers table; the loans of
    -- its customers are rescored (those customers left).
    FOR orphan IN
        SELECT g.tgrelid::regclass AS rel, t.relid AS scored
        FROM pg_trigger g
        JOIN credit.scored_tables t
          ON t.table_name = convert_from(substring(g.tgargs FROM 1 FOR position('\x00'::bytea IN g.tgargs) - 1),
                                         'UTF8')
        WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure
          AND g.tgname = credit.rescore_trigger_name(t.table_name)
          AND t.customers <> g.tgrelid
          AND t.customers NOT IN (SELECT a.relid FROM pg_partition_ancestors(g.tgrelid) a)
          -- (a detached partitioned table: its leaves, once each)
          AND (SELECT c.relkind FROM pg_class c WHERE c.oid = g.tgrelid) = 'r'
    LOOP
        PERFORM credit.rescore_loans_of(orphan.scored, orphan.rel);
    END LOOP;
    FOR orphan IN
        SELECT g.tgrelid::regclass AS rel, g.tgname
        FROM pg_trigger g
        WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure
          AND NOT EXISTS (SELECT 1 FROM credit.scored_tables t
                          CROSS JOIN unnest(ARRAY['update', 'insert', 'delete']) AS e(event)
                          WHERE (t.customers = g.tgrelid
                                 OR t.customers IN (SELECT a.relid FROM pg_partition_ancestors(g.tgrelid) a))
                            AND g.tgname = credit.rescore_trigger_name(t.table_name, e.event))
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', orphan.tgname, orphan.rel);
    END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION credit.on_drop() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
-- A dropped scored table leaves no configuration behind (its history
-- stays), no rows in the current views, nor a rescoring trigger on its
-- customers table; a customers table still read cannot be dropped.
DECLARE
    gone record;
BEGIN
    FOR gone IN
        DELETE FROM credit.scored_tables t
        USING pg_event_trigger_dropped_objects() d
        WHERE d.object_type = 'table' AND t.relid::oid = d.objid
        RETURNING t.table_name, t.customers
    LOOP
        -- Its rows are gone: so are they from the current views.
        DELETE FROM credit.latest_scores WHERE table_name = gone.table_name;
        IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = gone.customers) THEN
            PERFORM credit.drop_rescore_triggers(gone.table_name, gone.customers);
        END IF;
    END LOOP;
    -- A customers table its scored loans still read: refused (the loans
    -- could no longer be written). In a restore (pg_restore --clean drops
    -- the tables one by one before it recreates them, loans and their
    -- scoring included) the loans' scoring is detached instead.
    FOR gone IN
        SELECT t.relid, t.table_name, d.object_identity AS customers
        FROM credit.scored_tables t
        JOIN pg_event_trigger_dropped_objects() d ON d.object_type = 'table' AND d.objid = t.customers::oid
    LOOP
        -- (detached only for a session that could disable it anyway: one
        -- with the rights of the loans' owner)
        IF NOT (credit.in_restore()
                AND pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = gone.relid), 'USAGE')) THEN
            RAISE EXCEPTION 'credit_scoring: % holds the customers the scoring of % reads', gone.customers,
                            gone.table_name
                USING ERRCODE = 'dependent_objects_still_exist',
                      HINT = format('Run SELECT credit.disable_scoring(%L) first, or drop both tables together.',
                                    gone.table_name);
        END IF;
        RAISE WARNING 'credit_scoring: scoring of % detached: its customers table % is dropped', gone.table_name,
                      gone.customers;
        PERFORM credit.detach_scoring(gone.relid);
        DELETE FROM credit.latest_scores WHERE table_name = gone.table_name;
    END LOOP;
    -- A column scoring reads dropped by DROP DOMAIN / DROP TYPE ... CASCADE
    -- (ALTER TABLE ... DROP COLUMN is refused by credit.on_ddl).
    FOR gone IN
        SELECT t.table_name, d.object_identity AS col
        FROM credit.scored_tables t
        JOIN pg_event_trigger_dropped_objects() d
          ON d.object_type = 'table column' AND d.objid IN (t.relid, t.customers)
         AND d.address_names[3] IN (t.key_column, t.amount_column, t.tenor_column, t.income_column,
                                    t.assets_column, t.customer_ref, t.customers_key, 'credit_score',
                                    'default_probability', 'segment', 'decision', 'scored_at')
    LOOP
        RAISE EXCEPTION 'credit_scoring: column % is read by the scoring of %', gone.col, gone.table_name
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = format('Run SELECT credit.disable_scoring(%L) first.', gone.table_name);
    END LOOP;
END
$fn$;

CREATE FUNCTION credit.key_base_type(key_type regtype) RETURNS regtype
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    -- (a value is never built of the domain itself: that would run its
    -- CHECK constraints, the domain owner's code)
    WITH RECURSIVE t(oid, typtype, base) AS (
        SELECT oid, typtype, typbasetype FROM pg_type WHERE oid = key_type
        UNION ALL
        SELECT p.oid, p.typtype, p.typbasetype FROM pg_type p JOIN t ON p.oid = t.base WHERE t.typtype = 'd'
    )
    SELECT oid::regtype FROM t WHERE typtype <> 'd'
$fn$;
COMMENT ON FUNCTION credit.key_base_type(regtype) IS
    'Internal: the type itself, or the built-in type a domain is over (through domains over domains)';

CREATE FUNCTION credit.key_type_ok(key_type regtype) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT coalesce(credit.key_base_type(key_type) = ANY (ARRAY['smallint', 'integer', 'bigint', 'numeric', 'text',
                                                                'character varying', 'uuid']::regtype[]), false)
$fn$;
COMMENT ON FUNCTION credit.key_type_ok(regtype) IS
    'Internal: whether a column of this type may be a row key, customer reference or customers key (built-in smallint, integer, bigint, numeric, text, varchar, uuid, or a domain over one)';

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
    c_key_type  regtype;
    numeric_ok  regtype[] := ARRAY['numeric', 'smallint', 'integer', 'bigint', 'real', 'double precision']::regtype[];
    col         record;
    update_cols text;
    previous    credit.scored_tables;
    unchanged   boolean := false;
    dist_col    text;
BEGIN
    SELECT c.relkind, format('%s.%s', n.nspname, c.relname) INTO t_kind, t_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF t_kind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is not a table', target USING ERRCODE = 'wrong_object_type';
    END IF;
    -- History names a table schema.table: with a dot in either name, two
    -- tables ("a.b".c and a."b.c") would share one trail.
    IF (SELECT n.nspname || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = target) LIKE '%.%' THEN
        RAISE EXCEPTION 'credit.enable_scoring: the name of % contains a dot', target
            USING ERRCODE = 'invalid_name',
                  HINT = 'History and alerts name a scored table schema.table: rename the table or its schema.';
    END IF;
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = target), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', (SELECT quote_ident(relname) FROM pg_class WHERE oid = target)
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- A partition is scored through its partitioned table (whose triggers
    -- cover every partition, present and future).
    IF (SELECT relispartition FROM pg_class WHERE oid = target) THEN
        RAISE EXCEPTION 'credit.enable_scoring: % is a partition of %', target,
                        (SELECT p.relid FROM pg_partition_ancestors(target) p
                         JOIN pg_class c ON c.oid = p.relid WHERE NOT c.relispartition)
            USING ERRCODE = 'wrong_object_type', HINT = 'Enable scoring on the partitioned table.';
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
        SELECT r.rel, r.name, a.atttypid::regtype AS type, r.numeric, a.attgenerated <> '' AS generated
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
        -- A row trigger runs before generated columns are computed: it
        -- would score what the column held before.
        IF col.numeric AND col.generated AND col.rel = target THEN
            RAISE EXCEPTION 'credit.enable_scoring: column %.% is a generated column', col.rel, col.name
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Score from the columns it is computed from, or from a stored column the application writes.';
        END IF;
        -- History and alerts name a row by its key as text: a text form
        -- that depends on the session's settings would give one row two keys.
        IF col.name = key AND col.rel = target
           AND col.type IN ('timestamptz', 'timestamp', 'date', 'time', 'timetz', 'interval', 'real',
                            'double precision', 'money') THEN
            RAISE EXCEPTION 'credit.enable_scoring: key column %.% is of type %, whose text depends on the session''s settings',
                            col.rel, col.name, col.type
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Use a key of an integer, text or uuid type: key => ''column''.';
        END IF;
        -- Keys are compared and turned into text by code that runs as the
        -- extension's owner (history, alerts, rescoring): only built-in
        -- types, whose casts and operators no table owner can replace.
        IF NOT col.numeric AND NOT credit.key_type_ok(col.type) THEN
            RAISE EXCEPTION 'credit.enable_scoring: key column %.% is of type %; a key must be of type smallint, integer, bigint, numeric, text, varchar or uuid (or a domain over one)',
                            col.rel, col.name, col.type
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END LOOP;

    IF customers IS NOT NULL THEN
        IF NOT has_table_privilege(customers, 'SELECT') THEN
            RAISE EXCEPTION 'credit.enable_scoring: permission denied for table %', customers
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT a.attname, a.atttypid INTO c_key, c_key_type
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = customers AND i.indisprimary AND i.indnkeyatts = 1;
        IF c_key IS NULL THEN
            RAISE EXCEPTION 'credit.enable_scoring: % has no single-column primary key', customers
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF NOT credit.key_type_ok(c_key_type) THEN
            RAISE EXCEPTION 'credit.enable_scoring: key column %.% is of type %; a key must be of type smallint, integer, bigint, numeric, text, varchar or uuid (or a domain over one)',
                            customers, c_key, c_key_type
                USING ERRCODE = 'datatype_mismatch';
        END IF;
    END IF;

    -- A Citus distributed table: history, alerts and latest scores
    -- distributed and co-located with it (NULL: not distributed, nothing done).
    dist_col := credit.prepare_distributed(target, customers, customer_ref, c_key, scorecard);

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
        PERFORM credit.detach_scoring(target);
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
    -- the application wrote. On a partitioned table it fires BEFORE DELETE
    -- too: an UPDATE moving a row to another partition deletes and inserts
    -- it, and the row trigger tells that INSERT from a new row (an unrelated
    -- UPDATE does not rescore, whatever partition the row lands in).
    EXECUTE format('CREATE TRIGGER credit_scoring_score
                    BEFORE INSERT OR %sUPDATE OF %s, credit_score, default_probability, segment, decision, scored_at
                    ON %s FOR EACH ROW EXECUTE FUNCTION credit.score_row(%L, %L, %L, %L, %L, %L, %L, %L, %L%s)',
                   CASE WHEN t_kind = 'p' THEN 'DELETE OR ' ELSE '' END,
                   update_cols, target, income, assets, amount, tenor, scorecard,
                   coalesce(customers::text, ''), coalesce(customer_ref, ''), coalesce(c_key, ''),
                   coalesce(previous.on_invalid, ''),
                   -- and the row key, which a moved row keeps
                   CASE WHEN t_kind = 'p' THEN format(', %L', key) ELSE '' END);
    PERFORM credit.attach_statement_triggers(target);
    IF customers IS NOT NULL AND dist_col IS NOT NULL THEN
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s
                        REFERENCING OLD TABLE AS credit_old NEW TABLE AS credit_new
                        FOR EACH STATEMENT EXECUTE FUNCTION credit.rescore_customers_distributed(%L, %L, %L, %L, %L)',
                       credit.rescore_trigger_name(t_name), customers, target::text, customer_ref, c_key,
                       income, assets);
    ELSIF customers IS NOT NULL THEN
        PERFORM credit.attach_rescore_triggers(target);
    END IF;

    -- Score what is already there (history records it as a first scoring);
    -- with an unchanged configuration, only what is not scored yet.
    -- As the table's owner, as every write of the extension to an
    -- application table: the owner's own triggers, constraints and index
    -- expressions must not run with the caller's (superuser) rights.
    PERFORM credit.run_as_owner(target,
                                format('UPDATE %s SET scored_at = NULL %s', target,
                                       CASE WHEN unchanged THEN 'WHERE scored_at IS NULL' ELSE '' END),
                                NULL::integer[]);
END
$fn$;

CREATE FUNCTION credit.detach_scoring(target regclass) RETURNS void
-- (client_min_messages: no "does not exist, skipping" for every trigger a
-- partly detached table no longer has)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $fn$
-- The triggers and the registration go; the current rows stay (for
-- enable_scoring, which attaches anew and keeps them with an unchanged
-- configuration).
DECLARE
    cfg  credit.scored_tables;
    part record;
BEGIN
    SELECT * INTO cfg FROM credit.scored_tables WHERE relid = target;
    IF credit.distribution_column(target) IS NOT NULL THEN
        -- Trigger DDL on a Citus distributed table, for this transaction only.
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_score ON %s', target);
    FOR part IN SELECT relid FROM pg_partition_tree(target) UNION SELECT target LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_insert ON %s', part.relid);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_update ON %s', part.relid);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_delete ON %s', part.relid);
        EXECUTE format('DROP TRIGGER IF EXISTS credit_scoring_history_truncate ON %s', part.relid);
    END LOOP;
    IF cfg.customers IS NOT NULL THEN
        PERFORM credit.drop_rescore_triggers(cfg.table_name, cfg.customers);
    END IF;
    DELETE FROM credit.scored_tables WHERE relid = target;
END
$fn$;
COMMENT ON FUNCTION credit.detach_scoring(regclass) IS
    'Internal: removes a table''s scoring triggers and registration (disable_scoring, and enable_scoring before it attaches anew)';

CREATE OR REPLACE FUNCTION credit.disable_scoring(target regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    t_name text := (SELECT table_name FROM credit.scored_tables WHERE relid = target);
BEGIN
    IF t_name IS NULL AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                                      WHERE g.tgrelid = target
                                        AND g.tgname IN ('credit_scoring_score', 'credit_scoring_history_insert',
                                                         'credit_scoring_history_update', 'credit_scoring_history_delete',
                                                         'credit_scoring_history_truncate')) THEN
        RAISE NOTICE 'credit_scoring: % is not scored; nothing to disable', target;
        RETURN;
    END IF;
    PERFORM credit.detach_scoring(target);
    -- No longer kept current: the table leaves the current views (its
    -- history stays; enable_scoring again rescores every row).
    DELETE FROM credit.latest_scores WHERE table_name = t_name;
END
$fn$;

-- END generated

-- Partitions their (non-superuser) owner creates get a clone of the row
-- trigger: it is executable by all now (see src/sql/triggers.sql).
GRANT EXECUTE ON FUNCTION credit.score_row() TO PUBLIC;

COMMENT ON FUNCTION credit.disable_scoring(regclass) IS
    'Detaches scoring from a table: it leaves the current views; its score columns and its history and alerts stay';

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

-- Loans are rescored when their customer is inserted or deleted too, and
-- when an UPDATE names a partition of customers (not on Citus, whose
-- customers trigger stays as it was).
SELECT credit.attach_rescore_triggers(s.relid)
FROM credit.scored_tables s
WHERE s.customers IS NOT NULL AND credit.distribution_column(s.relid) IS NULL;

COMMENT ON FUNCTION credit.on_ddl() IS
    'Event trigger: partitions created or attached under a scored or customers table get its triggers; a renamed scored table keeps its history, alerts and current scores under the new name; renaming a column scoring reads is refused';

COMMENT ON FUNCTION credit.on_drop() IS
    'Event trigger: forgets the configuration of dropped scored tables (their history and alerts stay); refuses to drop a customers table scored loans read';

-- A renamed schema renames the scored tables in it; ALTER INDEX, VIEW,
-- MATERIALIZED VIEW, FOREIGN TABLE and TYPE can rename a table or its columns.
DROP EVENT TRIGGER credit_scoring_ddl;
CREATE EVENT TRIGGER credit_scoring_ddl ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS', 'ALTER SCHEMA', 'ALTER INDEX', 'ALTER VIEW',
                 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER TYPE')
    EXECUTE FUNCTION credit.on_ddl();
-- DROP TYPE and DROP DOMAIN ... CASCADE drop typed tables and columns.
DROP EVENT TRIGGER credit_scoring_drop;
CREATE EVENT TRIGGER credit_scoring_drop ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'DROP TYPE', 'DROP DOMAIN')
    EXECUTE FUNCTION credit.on_drop();
COMMENT ON EVENT TRIGGER credit_scoring_ddl IS
    'Runs credit.on_ddl() after CREATE / ALTER TABLE and the renames: partitions get scoring, renamed scored tables keep their trail';
COMMENT ON EVENT TRIGGER credit_scoring_drop IS
    'Runs credit.on_drop() when tables go: forgets dropped scored tables, refuses to drop a customers table scored loans read';
COMMENT ON FUNCTION credit.validate_row(numeric, numeric, numeric, numeric) IS
    'Why the scoring trigger cannot score a row with these values (NULL income or assets count as 0), in the words of the invalid_input alert; NULL when it can';

-- current_scores takes key, score, segment, amount and decision from
-- latest_scores, whose indexes then serve a dashboard's filters.
CREATE OR REPLACE VIEW credit.current_scores AS
-- Key, score, segment, amount and decision from latest_scores (indexed by
-- key and by score: a dashboard's "riskiest 50" or one loan reads a few
-- rows), inputs from the history row it points to.
SELECT l.table_name,
       l.row_key,
       h.monthly_income,
       h.assets,
       l.loan_amount,
       h.tenor_months,
       l.credit_score,
       l.default_probability,
       l.segment,
       s.dsr,
       s.monthly_installment,
       s.persona,
       array_to_string(s.reasons, ',') AS reasons,
       s.recommendation,
       l.decision,
       array_to_string(h.decision_reasons, ',') AS decision_reasons,
       h.scorecard,
       h.scored_at
FROM credit.latest_scores AS l
JOIN credit.score_history AS h ON h.id = l.history_id
-- With the scorecard that scored the row; STRICT, so a NULL name (the
-- inputs were invalid) skips the call.
LEFT JOIN LATERAL credit.score_credit(h.monthly_income, h.assets, h.loan_amount, h.tenor_months,
                                      CASE WHEN h.credit_score IS NOT NULL THEN h.scorecard END) AS s
       ON true;

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

-- (0.1.1) Room for HOT rewrites of the latest scores (src/sql/triggers.sql).
ALTER TABLE credit.latest_scores SET (fillfactor = 50);

-- (0.1.1) Tables scored before get the TRUNCATE trigger (the truncated rows
-- leave the current views); Citus distributed tables keep their own set.
SELECT credit.attach_statement_triggers(t.relid)
FROM credit.scored_tables t
WHERE credit.distribution_column(t.relid) IS NULL;

-- (0.1.1) On a partitioned scored table the row trigger fires BEFORE DELETE
-- too, and takes the row key as a 10th argument, so an UPDATE that only
-- moves a row to another partition keeps its scoring (src/triggers.rs).
-- Recreated on the partitioned table, the trigger is cloned onto every
-- partition again; the table and each partition keep their own state
-- (disabled, replica or always). Citus distributed tables keep theirs (a
-- move there rescores, as in 0.1.0).
DO $$
DECLARE
    t record;
    p record;
    states jsonb;
BEGIN
    FOR t IN
        SELECT s.relid, s.key_column, pg_get_triggerdef(g.oid) AS def
        FROM credit.scored_tables s
        JOIN pg_class c ON c.oid = s.relid
        JOIN pg_trigger g ON g.tgrelid = s.relid AND g.tgname = 'credit_scoring_score'
        WHERE c.relkind = 'p'
          AND g.tgtype & 8 = 0  -- no DELETE yet
          AND credit.distribution_column(s.relid) IS NULL
    LOOP
        SELECT jsonb_object_agg(g.tgrelid::text, g.tgenabled) INTO states
        FROM pg_partition_tree(t.relid) pt
        JOIN pg_trigger g ON g.tgrelid = pt.relid AND g.tgname = 'credit_scoring_score';
        EXECUTE format('DROP TRIGGER credit_scoring_score ON %s', t.relid::regclass);
        EXECUTE regexp_replace(replace(t.def, 'BEFORE INSERT OR UPDATE OF', 'BEFORE INSERT OR DELETE OR UPDATE OF'),
                               '\)$', format(', %L)', t.key_column));
        -- the table first (ALTER TABLE ... TRIGGER recurses to partitions),
        -- when any of them was not simply enabled
        FOR p IN
            SELECT pt.relid, states->>(pt.relid::oid::text) AS state
            FROM pg_partition_tree(t.relid) pt
            WHERE states ? pt.relid::oid::text
              AND EXISTS (SELECT FROM jsonb_each_text(states) e WHERE e.value <> 'O')
            ORDER BY pt.level
        LOOP
            EXECUTE format('ALTER TABLE %s %s TRIGGER credit_scoring_score', p.relid,
                           CASE p.state WHEN 'O' THEN 'ENABLE' WHEN 'D' THEN 'DISABLE'
                                        WHEN 'R' THEN 'ENABLE REPLICA' ELSE 'ENABLE ALWAYS' END);
        END LOOP;
    END LOOP;
END
$$;

-- (0.1.1) Keys of a type other than the built-in ones (credit.key_type_ok)
-- are refused from now on; a table scored before with one keeps working,
-- with a warning: a cast of the table owner's own from that type would
-- run with the extension's rights (disable and enable it with a built-in
-- key type).
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT s.table_name, r.name, a.atttypid::regtype AS type
        FROM credit.scored_tables s
        CROSS JOIN LATERAL (VALUES (s.relid, s.key_column), (s.relid, s.customer_ref),
                                   (s.customers, s.customers_key)) AS r(rel, name)
        JOIN pg_attribute a ON a.attrelid = r.rel AND a.attname = r.name AND NOT a.attisdropped
        WHERE r.rel IS NOT NULL AND NOT credit.key_type_ok(a.atttypid)
    LOOP
        RAISE WARNING 'credit_scoring: % has key column "%" of type %, which enable_scoring now refuses',
                      t.table_name, t.name, t.type
            USING HINT = 'Give the key a built-in type (integer, bigint, text, uuid, ...) and enable scoring again.';
    END LOOP;
END
$$;
