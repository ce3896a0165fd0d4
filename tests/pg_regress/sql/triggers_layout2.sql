--
-- triggers_layout2: the old service's normalized layout (SPEC section 3,
-- layout 2).  Income and assets live on customers, the loan amount and
-- tenor on loans, and loans already have the old service's score columns:
--
--   SELECT credit.enable_scoring('loans', amount => 'principal_amount',
--                                customers => 'customers');
--
-- reuses those columns, scores every loan from its customer's income and
-- assets, and rescores all of a customer's loans when that customer's income
-- or assets change (score_drop alerts say by how much).
--
-- Timestamps are never printed.  History and alerts are shared by every
-- test: every query on them filters on public.loans.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

CREATE TABLE customers (
    id             integer PRIMARY KEY,
    name           text NOT NULL,
    monthly_income numeric,
    assets_value   numeric
);
CREATE TABLE loans (
    id                  integer PRIMARY KEY,
    customer_id         integer NOT NULL REFERENCES customers,
    principal_amount    numeric NOT NULL,
    tenor_months        integer NOT NULL,
    credit_score        integer,
    default_probability numeric,
    segment             text
);

-- The portfolio as the old service left it: every loan carries the score the
-- service wrote back.
INSERT INTO customers VALUES
  (1, 'Ana',    5000000, 20000000),
  (2, 'Budi',  10000000,  5000000),
  (3, 'Citra',  2000000,        0);
INSERT INTO loans VALUES
  (101, 1, 10000000, 12, 600, 0.15, 'medium'),
  (102, 1,  5000000, 24, 570, 0.15, 'medium'),
  (103, 2, 50000000, 24, 420, 0.40, 'high'),
  (104, 3, 10000000,  6, 300, 0.40, 'high');

SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers');

-- The old columns are reused in place (same positions, same types); only
-- scored_at and decision (SPEC section 9) are new.
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = 'loans'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
-- customers is not changed.
SELECT count(*) AS customers_columns
FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attnum > 0 AND NOT attisdropped;

-- Triggers: three on loans, one on customers (named after loans' OID, so
-- that one customers table can serve several loan tables).
SELECT t.tgrelid::regclass AS on_table,
       CASE WHEN t.tgname = 'credit_scoring_rescore_' || 'loans'::regclass::oid
            THEN 'credit_scoring_rescore_<loans oid>' ELSE t.tgname END AS tgname
FROM pg_trigger t
WHERE t.tgrelid IN ('loans'::regclass, 'customers'::regclass) AND NOT t.tgisinternal
ORDER BY t.tgrelid::regclass::text COLLATE "C", t.tgname COLLATE "C";

SELECT table_name, key_column, income_column, assets_column, amount_column, tenor_column,
       customers, customer_ref, customers_key
FROM credit.scored_tables WHERE relid = 'loans'::regclass;

-- Existing loans are scored from their customers; the scores agree with the
-- old service's, so no score_drop.  Citra's loan 104 has a DSR of 0.96: on
-- its first scoring that is above 0.60, so it gets one dsr_critical alert
-- (as a new loan would).
SELECT id, customer_id, credit_score, default_probability, segment, scored_at IS NOT NULL AS scored
FROM loans ORDER BY id;
SELECT row_key, monthly_income, assets, loan_amount, tenor_months, credit_score, segment
FROM credit.score_history WHERE table_name = 'public.loans'
ORDER BY id;
SELECT row_key, kind, old_score, new_score, details
FROM credit.score_alerts WHERE table_name = 'public.loans'
ORDER BY row_key;

-- A new loan is scored with its customer's income and assets.
-- Budi: 10,000,000 / 5,000,000; loan 10,000,000 over 12 months:
-- dsr 0.10 (+150), assets cover half (-50), 12 months (+50) -> 450.
INSERT INTO loans (id, customer_id, principal_amount, tenor_months) VALUES (105, 2, 10000000, 12);
SELECT id, credit_score, default_probability, segment FROM loans WHERE id = 105;
SELECT row_key, monthly_income, assets, loan_amount, tenor_months, credit_score
FROM credit.score_history WHERE table_name = 'public.loans' AND row_key = '105';

--
-- Income cut: Ana's income falls from 5,000,000 to 700,000.  Both her loans
-- are rescored in the same statement, and each fall is alerted:
--   101: dsr 1.37 (-150)  600 -> 300, medium -> high (and DSR above 0.60)
--   102: dsr 0.34 (+100)  570 -> 520, medium -> high
-- Other customers' loans are not touched.
--
CREATE TEMP TABLE before_cut AS SELECT id, credit_score, scored_at FROM loans;

UPDATE customers SET monthly_income = 700000 WHERE id = 1;

SELECT l.id, l.customer_id, b.credit_score AS old_score, l.credit_score AS new_score, l.segment,
       l.scored_at IS DISTINCT FROM b.scored_at AS rescored
FROM loans l JOIN before_cut b USING (id)
ORDER BY l.id;

SELECT row_key, kind, old_score, new_score, score_drop, old_segment, new_segment,
       details->'previous_score' AS previous_score
FROM credit.score_alerts
WHERE table_name = 'public.loans'
ORDER BY row_key, kind COLLATE "C";

-- The history records the customer's new income next to each loan.
SELECT row_key, monthly_income, assets, loan_amount, credit_score, segment
FROM credit.score_history
WHERE table_name = 'public.loans' AND row_key IN ('101', '102')
ORDER BY id;

--
-- Updates of customers that change neither income nor assets do not
-- rescore: another column (name), the same income written again, the whole
-- table written with its own values.
--
DROP TABLE before_cut;
CREATE TEMP TABLE before_cut AS SELECT id, credit_score, scored_at FROM loans;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

UPDATE customers SET name = 'Ana Maria' WHERE id = 1;
UPDATE customers SET monthly_income = 700000 WHERE id = 1;
UPDATE customers SET monthly_income = monthly_income, assets_value = assets_value;

SELECT l.id, l.scored_at = b.scored_at AS same_scored_at
FROM loans l JOIN before_cut b USING (id)
ORDER BY l.id;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

--
-- Assets change: Budi's assets rise from 5,000,000 to 60,000,000 and both
-- his loans are rescored (a rise is not alerted):
--   103: assets cover 1.2 of 50,000,000 (+100)  420 -> 570
--   105: assets cover 6 of 10,000,000  (+100)  450 -> 600
--
UPDATE customers SET assets_value = 60000000 WHERE id = 2;
SELECT l.id, b.credit_score AS old_score, l.credit_score AS new_score, l.segment,
       l.scored_at IS DISTINCT FROM b.scored_at AS rescored
FROM loans l JOIN before_cut b USING (id)
ORDER BY l.id;
SELECT count(*) AS alerts_on_103_105
FROM credit.score_alerts WHERE table_name = 'public.loans' AND row_key IN ('103', '105');

-- Assets set to NULL count as 0: Budi's loans fall back, with alerts.
UPDATE customers SET assets_value = NULL WHERE id = 2;
SELECT id, credit_score, segment FROM loans WHERE customer_id = 2 ORDER BY id;
SELECT row_key, monthly_income, assets, credit_score
FROM credit.score_history
WHERE table_name = 'public.loans' AND row_key IN ('103', '105')
ORDER BY id DESC LIMIT 2;
SELECT row_key, kind, old_score, new_score, score_drop, old_segment, new_segment
FROM credit.score_alerts
WHERE table_name = 'public.loans' AND row_key IN ('103', '105')
ORDER BY row_key;

-- A loan moved to another customer is rescored with that customer's figures
-- (an UPDATE of customer_id is an UPDATE of an input).
UPDATE loans SET customer_id = 2 WHERE id = 104;
SELECT l.id, l.customer_id, l.credit_score,
       l.credit_score = (credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                             l.principal_amount, l.tenor_months)).credit_score AS current
FROM loans l JOIN customers c ON c.id = l.customer_id
WHERE l.id = 104;

-- Changing a loan's own inputs works as in layout 1.
UPDATE loans SET tenor_months = 36 WHERE id = 101;
SELECT id, credit_score FROM loans WHERE id = 101;

-- An unrelated UPDATE of loans does not rescore.
UPDATE loans SET segment = segment;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

-- Many customers in one statement: a 10 % income cut for everyone.  Every
-- loan is rescored once, and every stored score is that of the customer's
-- current figures.
INSERT INTO customers SELECT g, 'customer ' || g, 1000000 + g * 1000, g * 50000
FROM generate_series(1000, 1999) AS g;
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
SELECT 10000 + g, 1000 + g % 1000, 1000000 + (g % 37) * 100000, 1 + g % 48
FROM generate_series(0, 2999) AS g;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

UPDATE customers SET monthly_income = round(monthly_income * 0.9, 2);

SELECT count(*) AS loans,
       count(*) FILTER (WHERE l.credit_score IS DISTINCT FROM s.credit_score
                           OR l.default_probability IS DISTINCT FROM s.default_probability
                           OR l.segment IS DISTINCT FROM s.segment) AS mismatches
FROM loans l
JOIN customers c ON c.id = l.customer_id
CROSS JOIN LATERAL credit.score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                       l.principal_amount, l.tenor_months) AS s;
-- 3,005 history rows more: one per loan (the five loans of Ana, Budi and
-- Citra included).
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

--
-- disable_scoring removes the triggers on loans and the one on customers;
-- columns and history stay, and customers' changes no longer rescore.
--
SELECT credit.disable_scoring('loans');
SELECT count(*) AS triggers
FROM pg_trigger
WHERE tgrelid IN ('loans'::regclass, 'customers'::regclass) AND NOT tgisinternal;
UPDATE customers SET monthly_income = 1 WHERE id = 2;
SELECT id, credit_score FROM loans WHERE customer_id = 2 ORDER BY id;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.loans';

--
-- Old score columns of the wrong type are refused, not converted; nothing
-- is attached.
--
CREATE TABLE loans_legacy (
    id               integer PRIMARY KEY,
    customer_id      integer NOT NULL REFERENCES customers,
    principal_amount numeric NOT NULL,
    tenor_months     integer NOT NULL,
    credit_score     text
);
SELECT credit.enable_scoring('loans_legacy', amount => 'principal_amount', customers => 'customers');
\echo SQLSTATE :SQLSTATE
SELECT count(*) AS triggers
FROM pg_trigger
WHERE tgrelid IN ('loans_legacy'::regclass, 'customers'::regclass) AND NOT tgisinternal;

DROP TABLE loans_legacy;
DROP TABLE loans;
DROP TABLE customers;

--
-- Without a foreign key, loans may reference customers that come later or
-- go: inserting, re-keying or deleting a customer rescores the loans that
-- reference it (a missing customer counts as income and assets 0).
--
CREATE TABLE loose_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE loose_loans (id integer PRIMARY KEY, customer_id integer, principal_amount numeric,
                          tenor_months integer);
SELECT credit.enable_scoring('loose_loans', amount => 'principal_amount', customers => 'loose_customers');
INSERT INTO loose_loans VALUES (1, 7, 10000000, 12), (2, 8, 10000000, 12);
SELECT id, customer_id, credit_score FROM loose_loans ORDER BY id;
INSERT INTO loose_customers VALUES (7, 10000000, 20000000);
SELECT id, customer_id, credit_score FROM loose_loans ORDER BY id;
UPDATE loose_customers SET id = 8 WHERE id = 7;
SELECT id, customer_id, credit_score FROM loose_loans ORDER BY id;
DELETE FROM loose_customers;
SELECT id, customer_id, credit_score FROM loose_loans ORDER BY id;
SELECT count(*) AS wrong_scores FROM credit.verify('loose_loans');
SELECT row_key, credit_score, monthly_income
FROM credit.score_history WHERE table_name = 'public.loose_loans' ORDER BY id;

-- enable_scoring again, same configuration: nothing rescored, and the
-- current views keep every loan.
SELECT (SELECT count(*) FROM credit.latest_scores WHERE table_name = 'public.loose_loans') AS current_rows,
       (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.loose_loans') AS history_rows;
SELECT credit.enable_scoring('loose_loans', amount => 'principal_amount', customers => 'loose_customers');
SELECT (SELECT count(*) FROM credit.latest_scores WHERE table_name = 'public.loose_loans') AS current_rows,
       (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.loose_loans') AS history_rows;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'loose_customers'::regclass ORDER BY tgname COLLATE "C";
DROP TABLE loose_loans, loose_customers;
