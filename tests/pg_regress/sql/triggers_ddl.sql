--
-- triggers_ddl: scoring survives the DDL a DBA runs on an application's
-- tables.  A scored table renamed or moved to another schema keeps its
-- history, alerts and current scores under its new name (they name it
-- schema-qualified); a renamed customers table keeps feeding its loans; a
-- partitioned customers table rescores loans whether an UPDATE names the
-- parent or a partition, and when a partition is attached or detached;
-- renaming a column scoring reads is refused.
-- Timestamps are never printed.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- Layout 1: rename, then write.
CREATE TABLE ddl_apps (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                       loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_apps');
INSERT INTO ddl_apps VALUES (1, 20000000, 50000000, 30000000, 12), (2, 20000000, 50000000, 30000000, 12);
ALTER TABLE ddl_apps RENAME TO ddl_applications;
-- A fall of 300 points after the rename: one score_drop alert, measured
-- from the score recorded before the rename (the same row, the same trail).
UPDATE ddl_applications SET monthly_income = 5000000 WHERE id = 1;
SELECT table_name FROM credit.scored_tables WHERE relid = 'ddl_applications'::regclass;
SELECT table_name, row_key, credit_score, first_scoring
FROM credit.score_history WHERE table_name LIKE 'public.ddl_app%' ORDER BY id;
SELECT table_name, row_key, kind, old_score, new_score
FROM credit.score_alerts WHERE table_name LIKE 'public.ddl_app%' ORDER BY id;
-- One current row per scored row, under the new name.
SELECT table_name, row_key, credit_score FROM credit.current_scores
WHERE table_name LIKE 'public.ddl_app%' ORDER BY row_key;

-- Moved to another schema: the same.
CREATE SCHEMA ddl_archive;
ALTER TABLE ddl_applications SET SCHEMA ddl_archive;
INSERT INTO ddl_archive.ddl_applications VALUES (3, 20000000, 50000000, 30000000, 12);
SELECT table_name, count(*) FROM credit.score_history
WHERE table_name LIKE '%.ddl_app%' GROUP BY table_name ORDER BY 1;
-- And the schema renamed.
ALTER SCHEMA ddl_archive RENAME TO ddl_old;
SELECT table_name, count(*) FROM credit.latest_scores
WHERE table_name LIKE '%.ddl_app%' GROUP BY table_name ORDER BY 1;
-- TRUNCATE takes its rows out of the current views, by the new name too.
TRUNCATE ddl_old.ddl_applications;
SELECT count(*) AS current_rows FROM credit.latest_scores WHERE table_name LIKE '%.ddl_app%';

-- A column scoring reads cannot be renamed away (nor dropped, CASCADE
-- taking the scoring trigger with it): the DDL fails, nothing changes.
ALTER TABLE ddl_old.ddl_applications RENAME COLUMN loan_amount TO principal;
\echo SQLSTATE :SQLSTATE
ALTER TABLE ddl_old.ddl_applications DROP COLUMN tenor_months CASCADE;
\echo SQLSTATE :SQLSTATE
-- Other columns can.
ALTER TABLE ddl_old.ddl_applications ADD COLUMN branch text;
ALTER TABLE ddl_old.ddl_applications RENAME COLUMN branch TO office;
INSERT INTO ddl_old.ddl_applications (id, monthly_income, assets_value, loan_amount, tenor_months)
VALUES (4, 20000000, 50000000, 30000000, 12);
SELECT id, credit_score FROM ddl_old.ddl_applications ORDER BY id;
DROP SCHEMA ddl_old CASCADE;

-- Layout 2, customers partitioned by id range.
CREATE TABLE ddl_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric)
    PARTITION BY RANGE (id);
CREATE TABLE ddl_customers_a PARTITION OF ddl_customers FOR VALUES FROM (1) TO (100);
CREATE TABLE ddl_loans (id integer PRIMARY KEY, customer_id integer, principal_amount numeric,
                        tenor_months integer);
INSERT INTO ddl_customers VALUES (1, 20000000, 50000000);
INSERT INTO ddl_loans VALUES (10, 1, 30000000, 12);
SELECT credit.enable_scoring('ddl_loans', amount => 'principal_amount', customers => 'ddl_customers');
-- A partition created later gets the rescoring triggers too.
CREATE TABLE ddl_customers_b PARTITION OF ddl_customers FOR VALUES FROM (100) TO (200);
INSERT INTO ddl_customers VALUES (101, 20000000, 50000000);
INSERT INTO ddl_loans VALUES (11, 101, 30000000, 12);
-- Rescoring triggers, by table: the parent and each partition.
SELECT g.tgrelid::regclass::text AS on_table, count(*) AS rescoring_triggers
FROM pg_trigger g WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure
GROUP BY 1 ORDER BY 1;
-- An UPDATE naming a partition rescores the loans.
UPDATE ddl_customers_a SET monthly_income = 5000000 WHERE id = 1;
UPDATE ddl_customers_b SET monthly_income = 6000000 WHERE id = 101;
-- Through the parent: rescored once (only the parent's statement trigger fires).
UPDATE ddl_customers SET monthly_income = 7000000 WHERE id = 1;
SELECT l.id, credit_score,
       credit_score = (credit.score_credit(c.monthly_income, c.assets_value, principal_amount, tenor_months)).credit_score
           AS current
FROM ddl_loans l JOIN ddl_customers c ON c.id = l.customer_id ORDER BY l.id;
SELECT row_key, count(*) AS scorings FROM credit.score_history
WHERE table_name = 'public.ddl_loans' GROUP BY row_key ORDER BY row_key;
-- Deleting a customer straight from its partition rescores its loans (no
-- customer: no income, no assets).
DELETE FROM ddl_customers_b WHERE id = 101;
SELECT id, credit_score FROM ddl_loans ORDER BY id;

-- A detached partition: its customers left, so their loans are rescored
-- (no customer: no income, no assets), and it no longer rescores them.
ALTER TABLE ddl_customers DETACH PARTITION ddl_customers_a;
SELECT id, credit_score FROM ddl_loans ORDER BY id;
SELECT g.tgrelid::regclass::text AS on_table, count(*) AS rescoring_triggers
FROM pg_trigger g WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure
GROUP BY 1 ORDER BY 1;
UPDATE ddl_customers_a SET monthly_income = 20000000 WHERE id = 1;
SELECT count(*) AS scorings_of_10 FROM credit.score_history
WHERE table_name = 'public.ddl_loans' AND row_key = '10';
-- Attached again: its customers are back, their loans rescored, and
-- rescored again on a change.
ALTER TABLE ddl_customers ATTACH PARTITION ddl_customers_a FOR VALUES FROM (1) TO (100);
SELECT l.id, credit_score,
       credit_score = (credit.score_credit(c.monthly_income, c.assets_value, principal_amount, tenor_months)).credit_score
           AS current
FROM ddl_loans l JOIN ddl_customers c ON c.id = l.customer_id ORDER BY l.id;
SELECT count(*) AS scorings_of_10 FROM credit.score_history
WHERE table_name = 'public.ddl_loans' AND row_key = '10';
SELECT count(*) AS rescoring_triggers_on_a FROM pg_trigger g
WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure AND g.tgrelid = 'ddl_customers_a'::regclass;

-- The customers table renamed: loans are still scored from it.
ALTER TABLE ddl_customers RENAME TO ddl_clients;
INSERT INTO ddl_loans VALUES (12, 1, 30000000, 12);
UPDATE ddl_clients SET monthly_income = 5000000 WHERE id = 1;
-- The loans table renamed: its customers still rescore it, by the new name.
ALTER TABLE ddl_loans RENAME TO ddl_credits;
UPDATE ddl_clients SET monthly_income = 8000000 WHERE id = 1;
SELECT l.id, credit_score,
       credit_score = (credit.score_credit(c.monthly_income, c.assets_value, principal_amount, tenor_months)).credit_score
           AS current
FROM ddl_credits l JOIN ddl_clients c ON c.id = l.customer_id ORDER BY l.id;
SELECT g.tgrelid::regclass::text AS on_table, e.event,
       g.tgname = credit.rescore_trigger_name('public.ddl_credits', e.event) AS named_after_new_name
FROM pg_trigger g
CROSS JOIN LATERAL (SELECT CASE WHEN g.tgtype & 4 <> 0 THEN 'insert' WHEN g.tgtype & 8 <> 0 THEN 'delete'
                                ELSE 'update' END AS event) e
WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure ORDER BY 1, 2;
SELECT table_name, count(*) FROM credit.latest_scores
WHERE table_name LIKE 'public.ddl_%' GROUP BY table_name ORDER BY 1;
-- The customers' income column is read by the scoring: not renamed.
ALTER TABLE ddl_clients RENAME COLUMN monthly_income TO income;
\echo SQLSTATE :SQLSTATE
-- Nor changed to a type that is not a number (no trigger depends on it,
-- so PostgreSQL alone would allow it).
ALTER TABLE ddl_clients ALTER COLUMN assets_value TYPE text;
\echo SQLSTATE :SQLSTATE
-- Another number type is fine.
ALTER TABLE ddl_clients ALTER COLUMN assets_value TYPE numeric(16,2);
-- The customers table cannot be dropped while its loans are scored from it.
DROP TABLE ddl_clients;
\echo SQLSTATE :SQLSTATE
INSERT INTO ddl_credits VALUES (13, 1, 30000000, 12);
SELECT id, credit_score IS NOT NULL AS scored FROM ddl_credits WHERE id = 13;
SELECT credit.disable_scoring('ddl_credits');
SELECT count(*) AS rescoring_triggers FROM pg_trigger g WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure;
DROP TABLE ddl_credits, ddl_clients;

-- Both tables dropped together: allowed, nothing left behind.
CREATE TABLE ddl_c (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE ddl_l (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_l', customers => 'ddl_c');
DROP TABLE ddl_c, ddl_l;
SELECT count(*) AS registrations FROM credit.scored_tables WHERE table_name LIKE 'public.ddl_%';

-- A customers table made a partition of a new parent keeps its rescoring
-- triggers (its loans are still scored from it).
CREATE TABLE ddl_c (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE ddl_l (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
INSERT INTO ddl_c VALUES (1, 20000000, 50000000);
INSERT INTO ddl_l VALUES (1, 1, 30000000, 12);
SELECT credit.enable_scoring('ddl_l', customers => 'ddl_c');
CREATE TABLE ddl_all_customers (id integer, monthly_income numeric, assets_value numeric) PARTITION BY RANGE (id);
ALTER TABLE ddl_all_customers ATTACH PARTITION ddl_c FOR VALUES FROM (0) TO (1000);
SELECT count(*) AS rescoring_triggers_on_ddl_c FROM pg_trigger g
WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure AND g.tgrelid = 'ddl_c'::regclass;
UPDATE ddl_c SET monthly_income = 5000000 WHERE id = 1;
SELECT count(*) AS stale_rows FROM credit.verify('ddl_l');
-- A scored table cannot become a partition: scoring goes on the parent.
CREATE TABLE ddl_all_loans (LIKE ddl_l) PARTITION BY RANGE (id);
ALTER TABLE ddl_all_loans ATTACH PARTITION ddl_l FOR VALUES FROM (0) TO (1000);
\echo SQLSTATE :SQLSTATE

-- Score columns cannot be renamed away either.
ALTER TABLE ddl_l RENAME COLUMN scored_at TO scored_time;
\echo SQLSTATE :SQLSTATE

-- A dropped table's history keeps its name: another table renamed to it
-- would take over that trail (and measure score drops from it): refused.
CREATE TABLE ddl_gone (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                       loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_gone');
INSERT INTO ddl_gone VALUES (1, 20000000, 50000000, 30000000, 12);
DROP TABLE ddl_gone;
CREATE TABLE ddl_new (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                      loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_new');
ALTER TABLE ddl_new RENAME TO ddl_gone;
\echo SQLSTATE :SQLSTATE
SELECT table_name FROM credit.scored_tables WHERE relid = 'ddl_new'::regclass;

-- History names a table schema.table: names with a dot are refused, so
-- "a.b".c and a."b.c" can never share a trail.
CREATE TABLE "ddl.dotted" (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                           loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('"ddl.dotted"');
\echo SQLSTATE :SQLSTATE
ALTER TABLE ddl_new RENAME TO "ddl.new";
\echo SQLSTATE :SQLSTATE
-- ALTER INDEX (and VIEW, FOREIGN TABLE) can rename a table too: followed.
ALTER INDEX ddl_new RENAME TO ddl_newer;
SELECT table_name FROM credit.scored_tables WHERE relid = 'ddl_newer'::regclass;
ALTER VIEW ddl_newer RENAME COLUMN loan_amount TO amount;
\echo SQLSTATE :SQLSTATE
-- check_function_bodies off alone (a migration tool) changes nothing: only
-- a restore (pg_dump and pg_restore also turn row_security off) is left alone.
SET check_function_bodies = off;
ALTER TABLE ddl_newer RENAME COLUMN loan_amount TO amount;
\echo SQLSTATE :SQLSTATE
DROP TABLE ddl_c;
\echo SQLSTATE :SQLSTATE
RESET check_function_bodies;
DROP TABLE "ddl.dotted", ddl_newer, ddl_l, ddl_all_customers, ddl_all_loans;
DELETE FROM credit.score_history WHERE table_name = 'public.ddl_gone';

-- The customers key changed to a type the loans' reference cannot be
-- compared with: refused; to one it can (integer to bigint): fine.
CREATE TABLE ddl_kc (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE ddl_kl (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_kl', customers => 'ddl_kc');
ALTER TABLE ddl_kc ALTER COLUMN id TYPE text;
\echo SQLSTATE :SQLSTATE
ALTER TABLE ddl_kc ALTER COLUMN id TYPE bigint;
INSERT INTO ddl_kc VALUES (1, 20000000, 50000000);
INSERT INTO ddl_kl VALUES (1, 1, 30000000, 12);
SELECT id, credit_score FROM ddl_kl;
DROP TABLE ddl_kl, ddl_kc;

-- Two levels of customers partitions: detaching the middle one rescores
-- each loan of its customers once.
CREATE TABLE ddl_mc (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric) PARTITION BY RANGE (id);
CREATE TABLE ddl_mc_a PARTITION OF ddl_mc FOR VALUES FROM (0) TO (100) PARTITION BY RANGE (id);
CREATE TABLE ddl_mc_a1 PARTITION OF ddl_mc_a FOR VALUES FROM (0) TO (50);
CREATE TABLE ddl_mc_a2 PARTITION OF ddl_mc_a FOR VALUES FROM (50) TO (100);
CREATE TABLE ddl_ml (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
INSERT INTO ddl_mc VALUES (1, 20000000, 50000000), (60, 20000000, 50000000);
INSERT INTO ddl_ml VALUES (1, 1, 30000000, 12), (2, 60, 30000000, 12);
SELECT credit.enable_scoring('ddl_ml', customers => 'ddl_mc');
ALTER TABLE ddl_mc DETACH PARTITION ddl_mc_a;
SELECT row_key, count(*) AS scorings, min(credit_score) AS score FROM credit.score_history
WHERE table_name = 'public.ddl_ml' GROUP BY row_key ORDER BY row_key;
SELECT count(*) AS rescoring_triggers_left_on_detached FROM pg_trigger g
WHERE g.tgfoid = 'credit.rescore_customers()'::regprocedure
  AND g.tgrelid IN ('ddl_mc_a'::regclass, 'ddl_mc_a1'::regclass, 'ddl_mc_a2'::regclass);
DROP TABLE ddl_ml, ddl_mc, ddl_mc_a;

-- In a restore (pg_restore --clean drops tables one by one; it runs with
-- check_function_bodies and row_security off), dropping a customers table
-- detaches its loans' scoring with a warning instead of failing.
CREATE TABLE ddl_rc (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE ddl_rl (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_rl', customers => 'ddl_rc');
SET check_function_bodies = off;
SET row_security = off;
DROP TABLE ddl_rc;
RESET check_function_bodies;
RESET row_security;
SELECT count(*) AS registrations FROM credit.scored_tables WHERE relid = 'ddl_rl'::regclass;
SELECT count(*) AS scoring_triggers FROM pg_trigger WHERE tgrelid = 'ddl_rl'::regclass AND tgname LIKE 'credit_scoring%';
DROP TABLE ddl_rl;

-- ALTER TYPE ... RENAME ATTRIBUTE renames a table's column too: refused.
CREATE DOMAIN ddl_key AS integer;
CREATE TABLE ddl_t (id ddl_key PRIMARY KEY, monthly_income numeric, assets_value numeric,
                    loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_t');
ALTER TYPE ddl_t RENAME ATTRIBUTE loan_amount TO amount;
\echo SQLSTATE :SQLSTATE
-- DROP DOMAIN ... CASCADE would drop the key column: refused.
DROP DOMAIN ddl_key CASCADE;
\echo SQLSTATE :SQLSTATE
INSERT INTO ddl_t VALUES (1, 20000000, 50000000, 30000000, 12);
SELECT id, credit_score FROM ddl_t;

-- Renames made while the event trigger was disabled (by a superuser) are
-- followed at the next DDL, even two tables that swapped names.
CREATE TABLE ddl_t2 (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric,
                     loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_t2');
INSERT INTO ddl_t2 VALUES (1, 20000000, 50000000, 30000000, 12);
ALTER EVENT TRIGGER credit_scoring_ddl DISABLE;
ALTER TABLE ddl_t RENAME TO ddl_swap;
ALTER TABLE ddl_t2 RENAME TO ddl_t;
ALTER TABLE ddl_swap RENAME TO ddl_t2;
ALTER EVENT TRIGGER credit_scoring_ddl ENABLE;
CREATE TABLE ddl_unrelated (x integer);
SELECT relid::regclass AS relid, table_name FROM credit.scored_tables
WHERE table_name IN ('public.ddl_t', 'public.ddl_t2') ORDER BY 2;
-- (each current row still points to its own table's history: ddl_t, once
-- ddl_t2, holds the row with income 20000000 scored first)
SELECT l.table_name, l.row_key, h.table_name AS history_table_name FROM credit.latest_scores l
JOIN credit.score_history h ON h.id = l.history_id
WHERE l.table_name IN ('public.ddl_t', 'public.ddl_t2') ORDER BY 1;
DROP TABLE ddl_t, ddl_t2, ddl_unrelated;
DROP DOMAIN ddl_key;

-- A session pretending to be a restore (check_function_bodies and
-- row_security off) cannot detach the scoring of another role's loans by
-- dropping its own customers table.
CREATE ROLE credit_regress_cust_owner;
CREATE TABLE ddl_oc (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
ALTER TABLE ddl_oc OWNER TO credit_regress_cust_owner;
CREATE TABLE ddl_ol (id integer PRIMARY KEY, customer_id integer, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('ddl_ol', customers => 'ddl_oc');
SET SESSION AUTHORIZATION credit_regress_cust_owner;
SET check_function_bodies = off;
SET row_security = off;
DROP TABLE ddl_oc;
\echo SQLSTATE :SQLSTATE
RESET check_function_bodies;
RESET row_security;
RESET SESSION AUTHORIZATION;
SELECT count(*) AS registrations FROM credit.scored_tables WHERE relid = 'ddl_ol'::regclass;
DROP TABLE ddl_ol, ddl_oc;
DROP ROLE credit_regress_cust_owner;
