--
-- triggers_security: application roles and scoring (SPEC section 3).
--
--   * Application roles need no privileges on credit.* for scoring to work:
--     a role with SELECT, INSERT and UPDATE on its own tables gets scores,
--     history and alerts.
--   * They cannot forge, change or delete alerts or history.
--   * Trigger code is immune to search_path tricks: a shadow customers
--     table, or shadow functions and operators in an earlier schema, never
--     feed or run inside the triggers.
--
-- Roles are named credit_regress_* and dropped at the end.  Timestamps are
-- never printed.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE ROLE credit_regress_app NOLOGIN;

-- Layout 1 and layout 2, owned by the DBA (the superuser running this test).
CREATE TABLE secure_applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
CREATE TABLE app_customers (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric
);
CREATE TABLE app_loans (
    id               integer PRIMARY KEY,
    customer_id      integer NOT NULL REFERENCES app_customers,
    principal_amount numeric NOT NULL,
    tenor_months     integer NOT NULL
);
SELECT credit.enable_scoring('secure_applications');
SELECT credit.enable_scoring('app_loans', amount => 'principal_amount', customers => 'app_customers');

GRANT SELECT, INSERT, UPDATE ON secure_applications, app_customers, app_loans TO credit_regress_app;

-- What the application role may do in schema credit: only what the
-- extension grants to everyone (use the schema, call the scoring
-- functions, attach the row trigger, which reads only the row and the
-- look-up enable_scoring registered); nothing on the tables, nothing on the
-- statement trigger functions, nothing on run_as_owner.
SELECT has_schema_privilege('credit_regress_app', 'credit', 'USAGE') AS usage_on_credit;
SELECT t.relname,
       has_table_privilege('credit_regress_app', t.oid, 'SELECT') AS can_select,
       has_table_privilege('credit_regress_app', t.oid, 'INSERT') AS can_insert,
       has_table_privilege('credit_regress_app', t.oid, 'UPDATE') AS can_update,
       has_table_privilege('credit_regress_app', t.oid, 'DELETE') AS can_delete,
       has_table_privilege('credit_regress_app', t.oid, 'TRUNCATE') AS can_truncate
FROM pg_class t
WHERE t.relnamespace = 'credit'::regnamespace AND t.relkind IN ('r', 'p')
ORDER BY t.relname COLLATE "C";
SELECT p.proname,
       has_function_privilege('credit_regress_app', p.oid, 'EXECUTE') AS can_execute
FROM pg_proc p
WHERE p.pronamespace = 'credit'::regnamespace
  AND p.proname IN ('score_credit', 'record_scores', 'rescore_customers', 'score_row', 'run_as_owner',
                    'registered_lookup')
ORDER BY p.proname COLLATE "C";

--
-- The application at work, as credit_regress_app.
--
SET ROLE credit_regress_app;
SELECT current_user;

-- Layout 1: INSERT is scored, an income cut rescores and alerts.
INSERT INTO secure_applications VALUES (1, 5000000, 20000000, 10000000, 12);
UPDATE secure_applications SET monthly_income = 3000000 WHERE id = 1;
SELECT id, credit_score, segment FROM secure_applications;

-- Layout 2: customers and loans, then an income cut on customer 3
-- (5,000,000 -> 3,000,000: loan 6 falls from 600 to 550).
INSERT INTO app_customers VALUES (1, 5000000, 20000000), (2, 700000, 0), (3, 5000000, 20000000);
INSERT INTO app_loans VALUES (1, 1, 10000000, 12), (2, 2, 10000000, 12), (6, 3, 10000000, 12);
SELECT id, customer_id, credit_score, segment FROM app_loans ORDER BY id;
UPDATE app_customers SET monthly_income = 3000000 WHERE id = 3;
\echo SQLSTATE :SQLSTATE
SELECT id, customer_id, credit_score, segment FROM app_loans ORDER BY id;

RESET ROLE;
-- History and alerts of the application's writes (read by the DBA).
SELECT table_name, row_key, monthly_income, credit_score
FROM credit.score_history
WHERE table_name IN ('public.secure_applications', 'public.app_loans')
ORDER BY id;
SELECT table_name, row_key, kind, old_score, new_score
FROM credit.score_alerts
WHERE table_name IN ('public.secure_applications', 'public.app_loans')
ORDER BY id;

--
-- Forging, changing or deleting alerts and history: refused (42501), and
-- the configuration cannot be changed or switched off either.
--
SET ROLE credit_regress_app;
INSERT INTO credit.score_alerts (table_name, row_key, kind) VALUES ('public.secure_applications', '1', 'score_drop');
\echo SQLSTATE :SQLSTATE
UPDATE credit.score_alerts SET acknowledged_at = now(), note = 'nothing to see';
\echo SQLSTATE :SQLSTATE
DELETE FROM credit.score_alerts;
\echo SQLSTATE :SQLSTATE
TRUNCATE credit.score_alerts;
\echo SQLSTATE :SQLSTATE
INSERT INTO credit.score_history (table_name, row_key, credit_score, scorecard, scored_at)
VALUES ('public.secure_applications', '1', 600, 'reference', now());
\echo SQLSTATE :SQLSTATE
UPDATE credit.score_history SET credit_score = 600;
\echo SQLSTATE :SQLSTATE
DELETE FROM credit.score_history;
\echo SQLSTATE :SQLSTATE
TRUNCATE credit.score_history;
\echo SQLSTATE :SQLSTATE
UPDATE credit.scored_tables SET alert_drop_points = 10000;
\echo SQLSTATE :SQLSTATE
-- Reading them is not granted either (the DBA grants it, or a view).
SELECT count(*) FROM credit.score_alerts;
\echo SQLSTATE :SQLSTATE
SELECT count(*) FROM credit.score_history;
\echo SQLSTATE :SQLSTATE
-- Scoring cannot be switched off or reconfigured by the application.
SELECT credit.disable_scoring('secure_applications');
\echo SQLSTATE :SQLSTATE
SELECT credit.enable_scoring('secure_applications', income => 'assets_value');
\echo SQLSTATE :SQLSTATE
ALTER TABLE secure_applications DISABLE TRIGGER credit_scoring_score;
\echo SQLSTATE :SQLSTATE
DROP TRIGGER credit_scoring_history_update ON secure_applications;
\echo SQLSTATE :SQLSTATE

-- The score columns are the trigger's: a score or decision written by the
-- application is not kept, whether with an INSERT or an UPDATE.
INSERT INTO secure_applications (id, monthly_income, assets_value, loan_amount, tenor_months,
                                 credit_score, default_probability, segment, decision)
VALUES (2, 2000000, 0, 10000000, 6, 850, 0.01, 'low', 'approve');
UPDATE secure_applications SET credit_score = 850, default_probability = 0.01, segment = 'low',
                               decision = 'approve'
WHERE id = 1;
SELECT s.id, s.credit_score, s.default_probability, s.segment, s.decision,
       s.credit_score = (credit.score_credit(s.monthly_income, s.assets_value,
                                             s.loan_amount, s.tenor_months)).credit_score
       AND s.decision = (credit.decide(s.monthly_income, s.assets_value,
                                       s.loan_amount, s.tenor_months)).decision AS current
FROM secure_applications s
ORDER BY s.id;
RESET ROLE;

-- Nor can the table's owner forge history by switching the scoring trigger
-- off: a write whose score columns are not the score of its inputs is
-- refused (55000), and nothing of it is recorded.
ALTER TABLE secure_applications DISABLE TRIGGER credit_scoring_score;
INSERT INTO secure_applications (id, monthly_income, assets_value, loan_amount, tenor_months,
                                 credit_score, default_probability, segment, decision, scored_at)
VALUES (9, 0, 0, 10000000, 6, 850, 0.01, 'low', 'approve', now());
\echo SQLSTATE :SQLSTATE
ALTER TABLE secure_applications ENABLE TRIGGER credit_scoring_score;
-- A BEFORE trigger of the application that fires after the scoring trigger
-- (triggers fire in name order) and changes an input: refused too, rather
-- than a score of other inputs kept; named to fire first, it works.
CREATE FUNCTION add_fee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.loan_amount := NEW.loan_amount + 1000000;
    RETURN NEW;
END $$;
CREATE TRIGGER normalize_amount BEFORE INSERT ON secure_applications
    FOR EACH ROW EXECUTE FUNCTION add_fee();
INSERT INTO secure_applications (id, monthly_income, assets_value, loan_amount, tenor_months)
VALUES (10, 5000000, 0, 10000000, 6);
\echo SQLSTATE :SQLSTATE
ALTER TRIGGER normalize_amount ON secure_applications RENAME TO a_normalize_amount;
INSERT INTO secure_applications (id, monthly_income, assets_value, loan_amount, tenor_months)
VALUES (10, 5000000, 0, 10000000, 6);
SELECT s.id, s.loan_amount, s.credit_score,
       s.credit_score = (credit.score_credit(s.monthly_income, s.assets_value,
                                             s.loan_amount, s.tenor_months)).credit_score AS current
FROM secure_applications s WHERE s.id IN (9, 10);
SELECT row_key, loan_amount, credit_score
FROM credit.score_history
WHERE table_name = 'public.secure_applications' AND row_key IN ('9', '10');
DROP TRIGGER a_normalize_amount ON secure_applications;
DROP FUNCTION add_fee();
DELETE FROM secure_applications WHERE id = 10;

-- Nothing was changed by the attempts above: no alert acknowledged, and
-- every history row is the score of the inputs it records.
SELECT count(*) AS forged_alerts
FROM credit.score_alerts
WHERE table_name = 'public.secure_applications' AND (acknowledged_at IS NOT NULL OR note IS NOT NULL);
SELECT count(*) FILTER (WHERE h.credit_score = 850) AS forged_scores,
       count(*) FILTER (WHERE h.credit_score IS DISTINCT FROM
                              (credit.score_credit(h.monthly_income, h.assets, h.loan_amount,
                                                   h.tenor_months)).credit_score) AS not_the_score_of_its_inputs
FROM credit.score_history h
WHERE h.table_name = 'public.secure_applications';
SELECT tgname, tgenabled = 'O' AS enabled
FROM pg_trigger
WHERE tgrelid = 'secure_applications'::regclass AND NOT tgisinternal
ORDER BY tgname COLLATE "C";
SELECT alert_drop_points, income_column
FROM credit.scored_tables WHERE relid = 'secure_applications'::regclass;

-- A role that only reads customers (another service maintains them) and
-- writes loans: its loans are scored too.
CREATE ROLE credit_regress_loans NOLOGIN;
GRANT SELECT ON app_customers TO credit_regress_loans;
GRANT SELECT, INSERT, UPDATE ON app_loans TO credit_regress_loans;
SET ROLE credit_regress_loans;
INSERT INTO app_loans VALUES (7, 1, 10000000, 24);
\echo SQLSTATE :SQLSTATE
UPDATE app_loans SET principal_amount = 5000000 WHERE id = 7;
\echo SQLSTATE :SQLSTATE
SELECT id, credit_score, segment FROM app_loans WHERE id = 7;
RESET ROLE;
DELETE FROM app_loans WHERE id = 7;
REVOKE ALL ON app_customers, app_loans FROM credit_regress_loans;
DROP ROLE credit_regress_loans;

--
-- search_path tricks.
--
-- 1. A temporary table named like the customers table (pg_temp comes first
--    in every search_path) with other incomes: the triggers still read
--    public.app_customers.
CREATE TEMP TABLE app_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
INSERT INTO app_customers VALUES (1, 1, 0), (2, 999999999, 999999999);
INSERT INTO app_loans VALUES (3, 2, 10000000, 12);
UPDATE app_loans SET tenor_months = 6 WHERE id = 1;
DROP TABLE app_customers;  -- the temporary one

-- 2. A schema before public with its own customers table and functions and
--    an operator named like those the trigger code uses.  Every shadow
--    object writes to shadow.calls when it runs: nothing may be written.
CREATE SCHEMA shadow;
CREATE TABLE shadow.calls (called text);
CREATE TABLE shadow.app_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
INSERT INTO shadow.app_customers VALUES (1, 1, 0), (2, 999999999, 999999999);
CREATE FUNCTION shadow.score_credit(numeric, numeric, numeric, integer) RETURNS credit.score_result
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('score_credit');
    RETURN credit.score_credit(1e9, 1e9, 1, 1);
END $$;
CREATE FUNCTION shadow.validate_application(numeric, numeric, numeric, integer) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('validate_application');
    RETURN 'forged reason';
END $$;
CREATE FUNCTION shadow.current_setting(text, boolean) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('current_setting');
    RETURN '1';
END $$;
CREATE FUNCTION shadow.now() RETURNS timestamptz
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('now');
    RETURN '2000-01-01';
END $$;
CREATE FUNCTION shadow.int4_any(integer, integer) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('operator =');
    RETURN $1 OPERATOR(pg_catalog.<>) $2;   -- any other customer
END $$;
CREATE OPERATOR shadow.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = shadow.int4_any);

-- Even with pg_catalog placed after the shadow schema, the triggers see
-- neither the shadow table nor the shadow functions and operator: customers
-- change (their loans are rescored), loans are inserted and updated, an
-- invalid application is flagged.
SELECT max(id) AS alerts_before FROM credit.score_alerts \gset
SET search_path = shadow, pg_catalog, public;
UPDATE public.app_customers SET assets_value = 1000000;
INSERT INTO public.app_loans VALUES (4, 2, 10000000, 12), (5, 1, 10000000, 24);
UPDATE public.app_loans SET tenor_months = 12;
INSERT INTO public.secure_applications VALUES (3, 5000000, 20000000, NULL, 12);
UPDATE public.secure_applications SET tenor_months = 24;
RESET search_path;

-- No shadow object ran.
SELECT called, count(*) FROM shadow.calls GROUP BY called ORDER BY called COLLATE "C";

-- Every loan is scored from public.app_customers, and its latest history
-- row records that customer's income and the score of the inputs it
-- records.
SELECT l.id, l.customer_id, c.monthly_income, l.credit_score,
       l.credit_score = (credit.score_credit(c.monthly_income, c.assets_value,
                                             l.principal_amount, l.tenor_months)).credit_score AS current,
       (SELECT h.monthly_income = c.monthly_income AND h.assets = c.assets_value
               AND h.credit_score = l.credit_score
               AND h.credit_score = (credit.score_credit(h.monthly_income, h.assets, h.loan_amount,
                                                         h.tenor_months)).credit_score
        FROM credit.score_history h
        WHERE h.table_name = 'public.app_loans' AND h.row_key = l.id::text
        ORDER BY h.id DESC LIMIT 1) AS history_agrees
FROM app_loans l JOIN app_customers c ON c.id = l.customer_id
ORDER BY l.id;
SELECT s.id, s.credit_score,
       s.credit_score IS NOT DISTINCT FROM
           (credit.try_score_credit(s.monthly_income, s.assets_value,
                                    s.loan_amount, s.tenor_months)).credit_score AS current
FROM secure_applications s
ORDER BY s.id;

-- The alerts of these writes were raised by the real settings (threshold
-- 15; the shadow current_setting would have said 1) with the real reasons.
SELECT table_name, row_key, kind, old_score, new_score, score_drop,
       details->>'reason' AS reason, details->'alert_drop_points' AS alert_drop_points
FROM credit.score_alerts
WHERE table_name IN ('public.secure_applications', 'public.app_loans')
  AND id > :alerts_before
ORDER BY table_name COLLATE "C", row_key::integer, id;

-- 3. A named scorecard, looked up by name the first time a session uses
--    it: a shadow text `=` (every name matches 'reference', say) is never
--    used for it (a fresh session, so nothing is cached).
CREATE FUNCTION shadow.text_any(text, text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shadow.calls VALUES ('operator = (text)');
    RETURN true;
END $$;
CREATE OPERATOR shadow.= (LEFTARG = text, RIGHTARG = text, FUNCTION = shadow.text_any);
INSERT INTO credit.scorecards (name, definition, description)
SELECT 'regress_strict', jsonb_set(definition, '{base_points}', '250'), 'the reference, 50 points lower'
FROM credit.scorecards WHERE name = 'reference';
CREATE TABLE strict_applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('strict_applications', scorecard => 'regress_strict');
\c
SET search_path = shadow, pg_catalog, public;
INSERT INTO public.strict_applications VALUES (1, 10000000, 20000000, 10000000, 12);
RESET search_path;
SELECT called, count(*) FROM shadow.calls GROUP BY called ORDER BY called COLLATE "C";
SELECT a.credit_score,
       a.credit_score = (credit.score_credit(a.monthly_income, a.assets_value, a.loan_amount, a.tenor_months,
                                             'regress_strict')).credit_score AS strict_score,
       h.scorecard
FROM strict_applications a
JOIN credit.score_history h ON h.table_name = 'public.strict_applications' AND h.row_key = a.id::text;
DROP TABLE strict_applications;

DROP SCHEMA shadow CASCADE;
DROP TABLE secure_applications;
DROP TABLE app_loans;
DROP TABLE app_customers;
DROP ROLE credit_regress_app;

--
-- The extension's own writes into application tables run as the table's
-- owner, never as the extension's superuser: a loans owner who is not a
-- superuser, with a trigger of its own on its loans, sees it fire as
-- itself when a change of a customer rescores those loans, with the pinned
-- search_path (not the writing session's): a trigger naming its tables
-- without a schema carries its own SET search_path.
--
CREATE ROLE credit_regress_owner NOLOGIN;
CREATE TABLE owned_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE owned_loans (id integer PRIMARY KEY, customer_id integer, principal_amount numeric,
                          tenor_months integer);
CREATE TABLE owned_trigger_runs (who name, superuser boolean, path text);
ALTER TABLE owned_customers OWNER TO credit_regress_owner;
ALTER TABLE owned_loans OWNER TO credit_regress_owner;
ALTER TABLE owned_trigger_runs OWNER TO credit_regress_owner;
INSERT INTO owned_customers VALUES (1, 10000000, 0);
INSERT INTO owned_loans VALUES (1, 1, 10000000, 12);
SELECT credit.enable_scoring('owned_loans', amount => 'principal_amount', customers => 'owned_customers');
CREATE FUNCTION owned_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.owned_trigger_runs
    SELECT current_user, rolsuper, pg_catalog.current_setting('search_path')
    FROM pg_catalog.pg_roles WHERE rolname = current_user;
    RETURN NEW;
END $$;
CREATE FUNCTION owned_audit_unqualified() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
    INSERT INTO owned_trigger_runs VALUES (current_user, false, 'own: ' || current_setting('search_path'));
    RETURN NEW;
END $$;
SET ROLE credit_regress_owner;
CREATE TRIGGER owned_audit BEFORE UPDATE ON owned_loans FOR EACH ROW EXECUTE FUNCTION owned_audit();
CREATE TRIGGER owned_audit_unqualified BEFORE UPDATE ON owned_loans FOR EACH ROW
    EXECUTE FUNCTION owned_audit_unqualified();
UPDATE owned_customers SET monthly_income = 2000000 WHERE id = 1;
RESET ROLE;
-- and when the DBA changes the customer, the same
UPDATE owned_customers SET monthly_income = 3000000 WHERE id = 1;
SELECT who, superuser, path, count(*) FROM owned_trigger_runs GROUP BY who, superuser, path ORDER BY path;
SELECT id, credit_score = (credit.score_credit(3000000, 0, 10000000, 12)).credit_score AS rescored
FROM owned_loans;
DROP TABLE owned_loans, owned_customers, owned_trigger_runs;
DROP FUNCTION owned_audit(), owned_audit_unqualified();
DROP ROLE credit_regress_owner;

--
-- Keys are compared and turned into text by code that runs as the
-- extension's owner (the recorder, the TRUNCATE trigger, the rescoring of
-- loans): a key of a type the table owner made (an enum with a cast to
-- text of its own, an operator of its own) would run the owner's code with
-- those rights.  Only built-in key types (or domains over them) are
-- accepted, at enable_scoring and at any later ALTER COLUMN ... TYPE
-- (42804).
--
CREATE ROLE credit_regress_keys;
CREATE TYPE keys_kind AS ENUM ('a', 'b');
CREATE FUNCTION keys_kind_text(keys_kind) RETURNS text LANGUAGE sql AS $$ SELECT 'owner code ran' $$;
CREATE CAST (keys_kind AS text) WITH FUNCTION keys_kind_text(keys_kind);
CREATE TABLE keys_enum (id keys_kind PRIMARY KEY, monthly_income numeric, assets_value numeric,
                        loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('keys_enum');
-- (a domain over a built-in type is fine; over an enum it is not)
CREATE DOMAIN keys_id AS keys_kind;
CREATE TABLE keys_domain (id keys_id PRIMARY KEY, monthly_income numeric, assets_value numeric,
                          loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('keys_domain');
CREATE TABLE keys_customers (id keys_kind PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE keys_loans (id integer PRIMARY KEY, customer_id keys_kind, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('keys_loans', customers => 'keys_customers');
-- Scored with a text key, then the key's type changed: refused.
CREATE TABLE keys_text (id text PRIMARY KEY, monthly_income numeric, assets_value numeric,
                        loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('keys_text');
ALTER TABLE keys_text ALTER COLUMN id TYPE keys_kind USING id::keys_kind;
SELECT a.atttypid::regtype AS key_type FROM pg_attribute a
WHERE a.attrelid = 'keys_text'::regclass AND a.attname = 'id';
SELECT credit.disable_scoring('keys_text');
-- A domain key whose owner adds a CHECK later: the recorder compares keys
-- in the domain's base type, so the CHECK (the owner's code) never runs
-- with the extension's rights (it would raise here).
CREATE DOMAIN keys_code AS text;
CREATE TABLE keys_coded (id keys_code PRIMARY KEY, monthly_income numeric, assets_value numeric,
                         loan_amount numeric, tenor_months integer);
INSERT INTO keys_coded VALUES ('a', 20000000, 0, 1000000, 12);
SELECT credit.enable_scoring('keys_coded');
CREATE FUNCTION keys_check(text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'owner code ran as %', current_user;
    END IF;
    RETURN true;
END $$;
ALTER DOMAIN keys_code ADD CONSTRAINT keys_code_check CHECK (keys_check(VALUE)) NOT VALID;
ALTER TABLE keys_coded OWNER TO credit_regress_keys;
SET ROLE credit_regress_keys;
UPDATE keys_coded SET id = 'b' WHERE id = 'a';
RESET ROLE;
SELECT row_key FROM credit.current_scores WHERE table_name = 'public.keys_coded';
-- The same domain as the customers key (layout 2): the event trigger's
-- check of the key's type after the owner's DDL does not build a value of
-- the domain (its CHECK would run as superuser and raise here).
CREATE TABLE keys_coded_customers (id keys_code PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE keys_coded_loans (id integer PRIMARY KEY, customer_id keys_code, loan_amount numeric,
                               tenor_months integer);
SELECT credit.enable_scoring('keys_coded_loans', customers => 'keys_coded_customers');
ALTER TABLE keys_coded_customers OWNER TO credit_regress_keys;
SET ROLE credit_regress_keys;
ALTER TABLE keys_coded_customers ADD COLUMN note text;
RESET ROLE;
SELECT credit.disable_scoring('keys_coded_loans');
DROP TABLE keys_coded_loans, keys_coded_customers;
SELECT credit.disable_scoring('keys_coded');
DROP TABLE keys_coded;
DROP DOMAIN keys_code;
DROP FUNCTION keys_check(text);

-- enable_scoring scores the rows already there as the table's owner: the
-- owner's own triggers never run with the calling superuser's rights.
CREATE TABLE keys_owned (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                         loan_amount numeric, tenor_months integer);
CREATE TABLE keys_owned_runs (who text, superuser boolean);
INSERT INTO keys_owned VALUES (1, 20000000, 0, 1000000, 12);
ALTER TABLE keys_owned OWNER TO credit_regress_keys;
ALTER TABLE keys_owned_runs OWNER TO credit_regress_keys;
CREATE FUNCTION keys_owned_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.keys_owned_runs
    SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
    RETURN NEW;
END $$;
SET ROLE credit_regress_keys;
CREATE TRIGGER a_audit BEFORE UPDATE ON keys_owned FOR EACH ROW EXECUTE FUNCTION keys_owned_audit();
RESET ROLE;
SELECT credit.enable_scoring('keys_owned');
SELECT who, superuser FROM keys_owned_runs;
SELECT credit.disable_scoring('keys_owned');
DROP TABLE keys_owned, keys_owned_runs;
DROP FUNCTION keys_owned_audit();

-- The alert settings are the DBA's: an application role cannot silence
-- its own alerts for its session (42501).
SET ROLE credit_regress_keys;
SET credit_scoring.dsr_alert_ratio = '1000';
SET credit_scoring.on_invalid = 'flag';
RESET ROLE;

DROP TABLE keys_enum, keys_domain, keys_customers, keys_loans, keys_text;
DROP CAST (keys_kind AS text);
DROP FUNCTION keys_kind_text(keys_kind);
DROP DOMAIN keys_id;
DROP TYPE keys_kind;
DROP ROLE credit_regress_keys;
