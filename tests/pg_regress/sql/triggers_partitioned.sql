--
-- triggers_partitioned: a partitioned loans table is scored like a plain one
-- (SPEC sections 3 and 10): enable_scoring on the parent covers every
-- partition, those there at the time and those created or attached later,
-- whether rows are written through the parent or straight into a
-- partition.  History and alerts name the parent (public.part_loans).
--
-- Layout 2 here: loans partitioned by range of customer id, income and
-- assets on part_customers.  Timestamps are never printed; queries on
-- history and alerts filter on public.part_loans.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE TABLE part_customers (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric
);
CREATE TABLE part_loans (
    id               integer NOT NULL,
    customer_id      integer NOT NULL REFERENCES part_customers,
    principal_amount numeric NOT NULL,
    tenor_months     integer NOT NULL,
    PRIMARY KEY (customer_id, id)
) PARTITION BY RANGE (customer_id);
CREATE TABLE part_loans_a PARTITION OF part_loans FOR VALUES FROM (1) TO (100);
CREATE TABLE part_loans_b PARTITION OF part_loans FOR VALUES FROM (100) TO (200);

INSERT INTO part_customers VALUES
  (1,    5000000, 20000000),
  (101, 10000000,  5000000),
  (201,  5000000, 20000000),
  (301,  5000000, 20000000);
-- Loans already there, one in each partition.
INSERT INTO part_loans VALUES (1, 1, 10000000, 12), (2, 101, 50000000, 24);

-- The primary key has two columns (partitioning demands the customer id in
-- it); the loan id is the row key.
SELECT credit.enable_scoring('part_loans', amount => 'principal_amount',
                             customers => 'part_customers', key => 'id');

-- Score columns on the parent and on every partition; the row trigger is
-- cloned onto each partition, the statement triggers stay on the parent.
SELECT c.relname,
       (SELECT count(*) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND NOT a.attisdropped
          AND a.attname IN ('credit_score', 'default_probability', 'segment', 'decision', 'scored_at'))
           AS score_columns,
       (SELECT string_agg(t.tgname, ', ' ORDER BY t.tgname COLLATE "C") FROM pg_trigger t
        WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) AS triggers
FROM pg_class c
WHERE c.relname IN ('part_loans', 'part_loans_a', 'part_loans_b')
ORDER BY c.relname COLLATE "C";

-- The loans already there were scored, with a history row each under the
-- parent's name.
SELECT tableoid::regclass AS partition, id, customer_id, credit_score, segment, decision
FROM part_loans ORDER BY id;
SELECT table_name, row_key, monthly_income, assets, loan_amount, credit_score
FROM credit.score_history WHERE table_name = 'public.part_loans'
ORDER BY id;

--
-- Writes through the parent, into both partitions, and into a partition
-- created after scoring was enabled.
--
INSERT INTO part_loans (id, customer_id, principal_amount, tenor_months)
VALUES (3, 1, 5000000, 24), (4, 101, 10000000, 12);
CREATE TABLE part_loans_c PARTITION OF part_loans FOR VALUES FROM (200) TO (300);
INSERT INTO part_loans (id, customer_id, principal_amount, tenor_months)
VALUES (5, 201, 10000000, 12);
SELECT tableoid::regclass AS partition, id, customer_id, credit_score, segment, scored_at IS NOT NULL AS scored
FROM part_loans ORDER BY id;
SELECT t.tgname
FROM pg_trigger t
WHERE t.tgrelid = 'part_loans_c'::regclass AND NOT t.tgisinternal
ORDER BY t.tgname COLLATE "C";
SELECT row_key, credit_score
FROM credit.score_history
WHERE table_name = 'public.part_loans' AND row_key IN ('3', '4', '5')
ORDER BY id;

--
-- Income cuts rescore loans in whichever partition they live, and alert:
--   customer 1   (partition a): 5,000,000 -> 700,000
--       loan 1: 600 -> 300 (and DSR above 0.60); loan 3: 570 -> 520
--   customer 201 (partition c, created later): 5,000,000 -> 700,000
--       loan 5: 600 -> 300 (and DSR above 0.60)
--
UPDATE part_customers SET monthly_income = 700000 WHERE id IN (1, 201);
SELECT id, customer_id, credit_score, segment FROM part_loans ORDER BY id;
SELECT row_key, kind, old_score, new_score, score_drop, old_segment, new_segment
FROM credit.score_alerts
WHERE table_name = 'public.part_loans'
ORDER BY row_key, kind COLLATE "C";

--
-- Writes straight into a partition are scored, and recorded in the history
-- and alerts of the partitioned table like any other write:
--   loan 6 (new, partition b): 450
--   loan 5 (partition c): 36 months instead of 12, 300 -> 380
--   loan 3 (partition a): 1,000,000 instead of 5,000,000, 520 -> 570
--   loan 4 (partition b): 50,000,000 instead of 10,000,000, 450 -> 300,
--     a score_drop of 150
--
INSERT INTO part_loans_b (id, customer_id, principal_amount, tenor_months)
VALUES (6, 101, 10000000, 12);
UPDATE part_loans_c SET tenor_months = 36 WHERE id = 5;
UPDATE part_loans_a SET principal_amount = 1000000 WHERE id = 3;
UPDATE part_loans_b SET principal_amount = 50000000 WHERE id = 4;
SELECT id, customer_id, credit_score, segment FROM part_loans WHERE id IN (3, 4, 5, 6) ORDER BY id;
SELECT table_name, row_key, loan_amount, tenor_months, credit_score
FROM credit.score_history
WHERE table_name LIKE 'public.part_loans%' AND row_key IN ('3', '4', '5', '6')
ORDER BY id;
SELECT table_name, row_key, kind, old_score, new_score
FROM credit.score_alerts
WHERE table_name LIKE 'public.part_loans%' AND row_key IN ('3', '4', '5', '6')
ORDER BY id;

--
-- A loan moved to a customer in another partition (an UPDATE of the
-- customer reference moves the row from partition a to partition b): it is
-- rescored with the new customer's figures and the history says so.
--
UPDATE part_loans SET customer_id = 101 WHERE id = 1;
SELECT tableoid::regclass AS partition, id, customer_id, credit_score, segment
FROM part_loans WHERE id = 1;
SELECT row_key, monthly_income, assets, credit_score
FROM credit.score_history
WHERE table_name = 'public.part_loans' AND row_key = '1'
ORDER BY id;

--
-- A table attached as a partition later: rows written after ATTACH are
-- scored, and so are the rows it held before (the extension's event
-- trigger gives the new partition its history triggers and scores what is
-- not scored yet).
--
CREATE TABLE part_loans_d (LIKE part_loans);
INSERT INTO part_loans_d (id, customer_id, principal_amount, tenor_months)
VALUES (7, 301, 10000000, 12);
ALTER TABLE part_loans ATTACH PARTITION part_loans_d FOR VALUES FROM (300) TO (400);
INSERT INTO part_loans (id, customer_id, principal_amount, tenor_months)
VALUES (8, 301, 10000000, 24);
SELECT tableoid::regclass AS partition, id, credit_score, scored_at IS NOT NULL AS scored
FROM part_loans WHERE customer_id = 301 ORDER BY id;
UPDATE part_loans SET scored_at = NULL WHERE scored_at IS NULL;
SELECT tableoid::regclass AS partition, id, credit_score, scored_at IS NOT NULL AS scored
FROM part_loans WHERE customer_id = 301 ORDER BY id;

-- Every loan in every partition carries the score of its customer's current
-- figures, and its latest history row says the same.
SELECT count(*) AS loans,
       count(*) FILTER (WHERE l.credit_score IS DISTINCT FROM s.credit_score
                           OR l.segment IS DISTINCT FROM s.segment) AS mismatches,
       count(*) FILTER (WHERE (SELECT h.credit_score FROM credit.score_history h
                               WHERE h.table_name = 'public.part_loans' AND h.row_key = l.id::text
                               ORDER BY h.id DESC LIMIT 1) IS DISTINCT FROM l.credit_score)
           AS history_behind
FROM part_loans l
JOIN part_customers c ON c.id = l.customer_id
CROSS JOIN LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                       l.principal_amount, l.tenor_months) AS s;

-- Bulk through the parent, spread over all four partitions.
INSERT INTO part_customers SELECT g, 1000000 + g * 10000, g * 100000 FROM generate_series(2, 99) AS g;
INSERT INTO part_customers SELECT g, 1000000 + g * 10000, g * 100000 FROM generate_series(102, 199) AS g;
INSERT INTO part_customers SELECT g, 1000000 + g * 10000, g * 100000 FROM generate_series(202, 299) AS g;
INSERT INTO part_customers SELECT g, 1000000 + g * 10000, g * 100000 FROM generate_series(302, 399) AS g;
INSERT INTO part_loans (id, customer_id, principal_amount, tenor_months)
SELECT 1000 + g, (ARRAY[2, 102, 202, 302])[1 + g % 4] + g % 97, 1000000 + g * 1000, 1 + g % 60
FROM generate_series(1, 2000) AS g;
UPDATE part_customers SET assets_value = assets_value / 2;
SELECT l.tableoid::regclass AS partition, count(*) AS loans,
       count(*) FILTER (WHERE l.credit_score IS DISTINCT FROM s.credit_score) AS mismatches
FROM part_loans l
JOIN part_customers c ON c.id = l.customer_id
CROSS JOIN LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                       l.principal_amount, l.tenor_months) AS s
GROUP BY l.tableoid ORDER BY l.tableoid::regclass::text COLLATE "C";
-- Two history rows per bulk loan: the INSERT and the assets change.
SELECT count(*) AS history_rows, count(DISTINCT row_key) AS loans
FROM credit.score_history
WHERE table_name = 'public.part_loans' AND row_key::integer > 1000;

--
-- A detached partition is no longer scored (its cloned trigger goes with
-- the detach); disable_scoring on the parent removes the clones from the
-- remaining partitions.
--
ALTER TABLE part_loans DETACH PARTITION part_loans_d;
SELECT count(*) AS triggers
FROM pg_trigger WHERE tgrelid = 'part_loans_d'::regclass AND NOT tgisinternal;
INSERT INTO part_loans_d (id, customer_id, principal_amount, tenor_months) VALUES (9, 301, 10000000, 12);
SELECT id, credit_score FROM part_loans_d WHERE id = 9;

-- A partition is scored through its partitioned table, not on its own.
SELECT credit.enable_scoring('part_loans_a', amount => 'principal_amount', customers => 'part_customers');

SELECT credit.disable_scoring('part_loans');
SELECT c.relname, count(t.oid) AS triggers
FROM pg_class c
LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
WHERE c.relname IN ('part_loans', 'part_loans_a', 'part_loans_b', 'part_loans_c', 'part_customers')
GROUP BY c.relname
ORDER BY c.relname COLLATE "C";

DROP TABLE part_loans_d;
DROP TABLE part_loans;
DROP TABLE part_customers;

--
-- A table owner who is not a superuser adds partitions to its scored
-- table: they get the scoring triggers and are recorded like the others.
--
CREATE ROLE credit_regress_partowner NOLOGIN;
GRANT CREATE ON SCHEMA public TO credit_regress_partowner;
CREATE TABLE owned_part (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
) PARTITION BY RANGE (id);
ALTER TABLE owned_part OWNER TO credit_regress_partowner;
SELECT credit.enable_scoring('owned_part');
CREATE TABLE secret_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
INSERT INTO secret_customers VALUES (1, 123456789, 0);
SET ROLE credit_regress_partowner;
CREATE TABLE owned_part_1 PARTITION OF owned_part FOR VALUES FROM (1) TO (100);
INSERT INTO owned_part VALUES (1, 5000000, 0, 10000000, 12);
-- a table of its own with a row in it, then attached: the row is scored
CREATE TABLE owned_part_2 (LIKE owned_part);
INSERT INTO owned_part_2 (id, monthly_income, assets_value, loan_amount, tenor_months)
VALUES (150, 8000000, 0, 10000000, 12);
ALTER TABLE owned_part ATTACH PARTITION owned_part_2 FOR VALUES FROM (100) TO (200);
-- The row trigger attached by hand, to read a table the role cannot read
-- (the look-up runs as that table's owner): refused, 42501.
CREATE TABLE sneaky_loans (id integer PRIMARY KEY, customer_id integer, loan_amount numeric,
                           tenor_months integer, credit_score integer, default_probability numeric,
                           segment text, decision text, scored_at timestamptz);
CREATE TRIGGER sneaky BEFORE INSERT ON sneaky_loans FOR EACH ROW
    EXECUTE FUNCTION credit.score_row('monthly_income', 'assets_value', 'loan_amount', 'tenor_months',
                                      'reference', 'public.secret_customers', 'customer_id', 'id', '');
INSERT INTO sneaky_loans (id, customer_id, loan_amount, tenor_months) VALUES (1, 1, 10000000, 12);
\echo SQLSTATE :SQLSTATE
RESET ROLE;
SELECT tableoid::regclass AS partition, id, credit_score,
       credit_score = (credit.score_credit(monthly_income, assets_value, loan_amount, tenor_months)).credit_score
           AS scored
FROM owned_part ORDER BY id;
SELECT row_key, credit_score, first_scoring
FROM credit.score_history WHERE table_name = 'public.owned_part' ORDER BY id;
DROP TABLE owned_part, sneaky_loans, secret_customers;
REVOKE CREATE ON SCHEMA public FROM credit_regress_partowner;
DROP ROLE credit_regress_partowner;

--
-- A partition key that is not an input: applications partitioned by
-- status.  An UPDATE of the status moves the row to another partition
-- (PostgreSQL deletes it from one and inserts it into the other); the move
-- alone does not rescore it: the same scored_at, no history row, no
-- second dsr_critical alert.  A move that changes an input too is
-- rescored once.
--
CREATE TABLE status_apps (
    id             integer NOT NULL,
    status         text NOT NULL,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer,
    PRIMARY KEY (id, status)
) PARTITION BY LIST (status);
CREATE TABLE status_apps_open PARTITION OF status_apps FOR VALUES IN ('open');
CREATE TABLE status_apps_closed PARTITION OF status_apps FOR VALUES IN ('closed');
SELECT credit.enable_scoring('status_apps', key => 'id');
INSERT INTO status_apps VALUES (1, 'open', 1000000, 0, 9000000, 12),
                               (2, 'open', 20000000, 0, 1000000, 12),
                               (3, 'open', 20000000, 0, 1000000, 12);
CREATE TEMP TABLE status_before AS SELECT id, credit_score, scored_at FROM status_apps;
UPDATE status_apps SET status = 'closed' WHERE id IN (1, 2);
UPDATE status_apps SET status = 'closed', loan_amount = 3000000 WHERE id = 3;
SELECT a.tableoid::regclass AS partition, a.id, a.credit_score, b.credit_score AS before,
       a.scored_at = b.scored_at AS same_scored_at
FROM status_apps a JOIN status_before b USING (id) ORDER BY a.id;
SELECT row_key, loan_amount, credit_score, first_scoring
FROM credit.score_history WHERE table_name = 'public.status_apps' ORDER BY id;
SELECT row_key, kind FROM credit.score_alerts WHERE table_name = 'public.status_apps' ORDER BY id;
SELECT row_key, credit_score FROM credit.current_scores WHERE table_name = 'public.status_apps' ORDER BY row_key;
-- Deleted, then inserted again by a later statement: a new row, scored anew.
DELETE FROM status_apps WHERE id = 2;
INSERT INTO status_apps VALUES (2, 'open', 20000000, 0, 1000000, 12);
SELECT id, credit_score, scored_at > (SELECT scored_at FROM status_before WHERE id = 2) AS rescored
FROM status_apps WHERE id = 2;
SELECT row_key, credit_score, first_scoring
FROM credit.score_history WHERE table_name = 'public.status_apps' AND row_key = '2' ORDER BY id;
-- A move whose row another BEFORE trigger changes on the way (it lowers
-- the loan amount): not the row that left, so rescored.
CREATE FUNCTION status_apps_halve() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.loan_amount := NEW.loan_amount - 4500000; RETURN NEW; END $$;
CREATE TRIGGER a_halve BEFORE INSERT ON status_apps_open FOR EACH ROW EXECUTE FUNCTION status_apps_halve();
UPDATE status_apps SET status = 'open' WHERE id = 1;
SELECT id, status, loan_amount, credit_score,
       credit_score = (credit.score_credit(monthly_income, assets_value, loan_amount, tenor_months)).credit_score
           AS current
FROM status_apps WHERE id = 1;
SELECT row_key, loan_amount, credit_score
FROM credit.score_history WHERE table_name = 'public.status_apps' AND row_key = '1' ORDER BY id;
-- A copy of a deleted row under another key, in the same command (a
-- data-modifying CTE), is a new row, not a move: scored anew.
CREATE TEMP TABLE status_3 AS SELECT scored_at FROM status_apps WHERE id = 3;
WITH d AS (DELETE FROM status_apps WHERE id = 3 RETURNING *)
INSERT INTO status_apps SELECT 30, status, monthly_income, assets_value, loan_amount, tenor_months,
                               credit_score, default_probability, segment, scored_at, decision FROM d;
SELECT id, scored_at > (SELECT scored_at FROM status_3) AS scored_anew
FROM status_apps WHERE id = 30;
SELECT pg_get_triggerdef(oid) ~ 'BEFORE INSERT OR DELETE OR UPDATE OF' AS fires_before_delete,
       tgnargs AS arguments, encode(tgargs, 'escape') ~ '\\000id\\000$' AS last_is_key
FROM pg_trigger WHERE tgrelid = 'status_apps'::regclass AND tgname = 'credit_scoring_score';
SELECT credit.disable_scoring('status_apps');
DROP TABLE status_apps;
DROP FUNCTION status_apps_halve();
