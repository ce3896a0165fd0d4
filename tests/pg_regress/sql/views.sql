--
-- views: what a risk manager's dashboard reads (SPEC section 4).
--
--   credit.current_scores     latest scoring of every scored row, with its
--                             inputs, persona, reasons and decision
--   credit.portfolio_summary  per table and segment: loans, exposure, average
--                             score, expected loss (sum of default
--                             probability x amount), share of the table's
--                             exposure, automation rate
--   credit.segment_migration  per table, month and (from, to): rows that moved
--   credit.decision_summary   per table and day: decisions made
--   credit.open_alerts        unacknowledged alerts, with their age
--   credit.acknowledge_alert(id, note)
--
-- A DBA session over a small portfolio in both layouts, a simulated month,
-- and every view checked against a computation from the application tables
-- with credit.score_credit (independent of the history the views read).
--
-- Timestamps, days, months, ages and alert ids are never printed.  History
-- and alerts are shared by every test: every query on the views filters on
-- this test's schema (table_name LIKE 'bi.%').
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- The shape of the views, as a BI tool discovers it.
--

-- Column names and types, in order: dashboards refer to them by name, so
-- they are part of the API.
SELECT c.table_name AS view, c.ordinal_position AS pos, c.column_name, c.data_type
FROM information_schema.columns c
WHERE c.table_schema = 'credit'
  AND c.table_name IN ('current_scores', 'portfolio_summary', 'segment_migration',
                       'decision_summary', 'open_alerts')
ORDER BY c.table_name COLLATE "C", c.ordinal_position;

-- Only plain scalar types (boolean, date/time, numeric, string categories):
-- no arrays, composites, domains, pseudo-types, json or jsonb, which BI
-- tools show as opaque blobs or not at all.  Expect zero rows.
SELECT a.attrelid::regclass AS view, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type,
       t.typtype, t.typcategory
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid IN ('credit.current_scores'::regclass, 'credit.portfolio_summary'::regclass,
                     'credit.segment_migration'::regclass, 'credit.decision_summary'::regclass,
                     'credit.open_alerts'::regclass)
  AND a.attnum > 0 AND NOT a.attisdropped
  AND (t.typtype <> 'b' OR t.typcategory NOT IN ('B', 'D', 'N', 'S')
       OR t.typname IN ('json', 'jsonb'))
ORDER BY 1, 2;

-- Every view and every view column has a COMMENT (Metabase and Superset show
-- them as descriptions).  Expect zero rows.
SELECT c.oid::regclass AS view, coalesce(a.attname, '(the view itself)') AS missing_comment
FROM pg_class c
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.oid IN ('credit.current_scores'::regclass, 'credit.portfolio_summary'::regclass,
                'credit.segment_migration'::regclass, 'credit.decision_summary'::regclass,
                'credit.open_alerts'::regclass)
  AND (obj_description(c.oid, 'pg_class') IS NULL
       OR col_description(c.oid, a.attnum) IS NULL)
ORDER BY 1, 2;
SELECT c.relname AS view, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
WHERE c.relnamespace = 'credit'::regnamespace AND c.relkind = 'v'
ORDER BY c.relname COLLATE "C";

-- Which views PostgreSQL considers automatically updatable: a role granted
-- more than SELECT on open_alerts could change credit.score_alerts through
-- it (with the view owner's rights).  Grant BI roles SELECT only.
SELECT table_name AS view, is_updatable, is_insertable_into
FROM information_schema.views
WHERE table_schema = 'credit'
ORDER BY table_name COLLATE "C";

--
-- A small portfolio in both layouts.
--
CREATE SCHEMA bi;

-- Layout 1: one table holding everything.
CREATE TABLE bi.applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
INSERT INTO bi.applications VALUES
  (1,  5000000, 20000000, 10000000, 12),   -- 600 medium 0.15  approve
  (2, 10000000,  5000000, 50000000, 24),   -- 420 high   0.40  decline (score_under_450)
  (3,  2000000,        0, 10000000,  6),   -- 300 high   0.40  decline, dsr 0.96: dsr_critical
  (4,  8000000, 12000000, 15000000, 36),   -- 480 high   0.40  review
  (5, 12000000, 30000000, 20000000, 12),   -- 600 medium 0.15  approve
  (6,  5000000, 20000000, 10000000,  0);   -- invalid: tenor 0 (invalid_input alert)

-- Layout 2: the old service's customers + loans.
CREATE TABLE bi.customers (
    id             integer PRIMARY KEY,
    name           text NOT NULL,
    monthly_income numeric,
    assets_value   numeric
);
CREATE TABLE bi.loans (
    id               integer PRIMARY KEY,
    customer_id      integer NOT NULL REFERENCES bi.customers,
    principal_amount numeric NOT NULL,
    tenor_months     integer NOT NULL
);
INSERT INTO bi.customers VALUES
  (1, 'Ana',    5000000, 20000000),
  (2, 'Budi',  10000000,  5000000),
  (3, 'Citra',  2000000,        0),
  (4, 'Dewi',      NULL,     NULL);          -- NULL income and assets count as 0
INSERT INTO bi.loans VALUES
  (101, 1, 10000000, 12),                    -- 600 medium
  (102, 1,  5000000, 24),                    -- 570 medium
  (103, 2, 50000000, 24),                    -- 420 high
  (104, 3, 10000000,  6),                    -- 300 high, dsr_critical
  (105, 4,  1000000, 12);                    -- 300 high (no income)

SELECT credit.enable_scoring('bi.applications');
SELECT credit.enable_scoring('bi.loans', amount => 'principal_amount', customers => 'bi.customers');

-- The application tables as scored: what the views must agree with.
-- Current inputs (NULL income or assets as 0) scored with score_credit;
-- unscorable rows have no score.
CREATE TEMP VIEW expected_scores AS
SELECT 'bi.applications'::text AS table_name, a.id::text AS row_key,
       coalesce(a.monthly_income, 0) AS monthly_income, coalesce(a.assets_value, 0) AS assets,
       a.loan_amount, a.tenor_months, s.*
FROM bi.applications a
LEFT JOIN LATERAL credit.try_score_credit(coalesce(a.monthly_income, 0), coalesce(a.assets_value, 0),
                                          a.loan_amount, a.tenor_months) AS s ON true
UNION ALL
SELECT 'bi.loans', l.id::text,
       coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
       l.principal_amount, l.tenor_months, s.*
FROM bi.loans l
JOIN bi.customers c ON c.id = l.customer_id
LEFT JOIN LATERAL credit.try_score_credit(coalesce(c.monthly_income, 0), coalesce(c.assets_value, 0),
                                          l.principal_amount, l.tenor_months) AS s ON true;

--
-- current_scores: one row per scored row, latest scoring.
--
SELECT row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
       default_probability, segment, dsr, monthly_installment, persona, reasons,
       recommendation, decision, decision_reasons, scorecard, scored_at IS NOT NULL AS scored_at_set
FROM credit.current_scores
WHERE table_name = 'bi.applications'
ORDER BY row_key::int;
SELECT row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
       default_probability, segment, dsr, monthly_installment, persona, reasons,
       recommendation, decision, decision_reasons
FROM credit.current_scores
WHERE table_name = 'bi.loans'
ORDER BY row_key::int;

-- Every field agrees with score_credit and decide on the tables' current
-- inputs (reasons and decision_reasons as comma-separated text).  decide
-- raises an error on invalid inputs, so rows without a score pass it a NULL
-- income: decide is STRICT, so it is not called for them (a join condition,
-- ON credit_score IS NOT NULL, would not stop the call).  The
-- mismatches, both ways: expect zero rows.
CREATE TEMP VIEW current_scores_check AS
(SELECT table_name, row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
        default_probability, segment, dsr, monthly_installment, persona, reasons,
        recommendation, decision, decision_reasons
 FROM credit.current_scores WHERE table_name LIKE 'bi.%'
 EXCEPT
 SELECT e.table_name, e.row_key, e.monthly_income, e.assets, e.loan_amount, e.tenor_months,
        e.credit_score, e.default_probability, e.segment, e.dsr, e.monthly_installment, e.persona,
        array_to_string(e.reasons, ','), e.recommendation, d.decision,
        array_to_string(d.decision_reasons, ',')
 FROM expected_scores e
 LEFT JOIN LATERAL credit.decide(CASE WHEN e.credit_score IS NOT NULL THEN e.monthly_income END,
                                 e.assets, e.loan_amount, e.tenor_months) AS d ON true)
UNION ALL
(SELECT e.table_name, e.row_key, e.monthly_income, e.assets, e.loan_amount, e.tenor_months,
        e.credit_score, e.default_probability, e.segment, e.dsr, e.monthly_installment, e.persona,
        array_to_string(e.reasons, ','), e.recommendation, d.decision,
        array_to_string(d.decision_reasons, ',')
 FROM expected_scores e
 LEFT JOIN LATERAL credit.decide(CASE WHEN e.credit_score IS NOT NULL THEN e.monthly_income END,
                                 e.assets, e.loan_amount, e.tenor_months) AS d ON true
 EXCEPT
 SELECT table_name, row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
        default_probability, segment, dsr, monthly_installment, persona, reasons,
        recommendation, decision, decision_reasons
 FROM credit.current_scores WHERE table_name LIKE 'bi.%');
SELECT * FROM current_scores_check;

-- The scoring function is evaluated once per row of the view, not once per
-- column (LATERAL, not (f(x)).*): at most once per row, and at least once
-- per scored row (rows with invalid inputs may skip the call).  Counted with
-- track_functions over every scoring function of schema credit.
-- Expect once_per_row = t.
BEGIN;
SET LOCAL track_functions = 'all';
SELECT count(*) AS rows, count(credit_score) AS scored_rows, count(persona) AS with_persona,
       count(reasons) AS with_reasons, count(recommendation) AS with_recommendation
FROM credit.current_scores WHERE table_name LIKE 'bi.%' \gset
SELECT :rows AS rows, :scored_rows AS scored_rows, :with_persona AS with_persona,
       :with_reasons AS with_reasons, :with_recommendation AS with_recommendation,
       coalesce(sum(f.calls), 0) BETWEEN :scored_rows AND :rows AS once_per_row
FROM pg_stat_xact_user_functions f
JOIN pg_proc p ON p.oid = f.funcid
WHERE p.pronamespace = 'credit'::regnamespace
  AND p.proname IN ('score_credit', 'try_score_credit');
COMMIT;

--
-- portfolio_summary: per table and segment.
--
-- By hand, applications: high = rows 2, 3, 4: exposure 50M + 10M + 15M = 75M,
-- expected loss 0.40 x 75M = 30M, average (420 + 300 + 480) / 3 = 400.0,
-- rows 2 and 3 declined, 4 in review: automation 2/3; medium = rows 1, 5:
-- 30M, 0.15 x 30M = 4.5M; unscored = row 6 (10M, tenor 0).  Table exposure
-- 115M: shares 75/115 = 0.6522, 30/115 = 0.2609, 10/115 = 0.0870.
-- Loans: high = 103, 104, 105: 50M + 10M + 1M = 61M, loss 24.4M, average
-- (420 + 300 + 300) / 3 = 340.0; medium = 101, 102: 15M, 0.15 x 15M = 2.25M,
-- (600 + 570) / 2 = 585.0; shares 61/76 = 0.8026, 15/76 = 0.1974.
SELECT table_name, segment, loans, exposure, average_score, expected_loss,
       share_of_portfolio, automation_rate
FROM credit.portfolio_summary
WHERE table_name LIKE 'bi.%'
ORDER BY table_name COLLATE "C", segment COLLATE "C";

-- The same figures computed from the tables with score_credit and decide:
-- mismatches both ways, expect zero rows.
CREATE TEMP VIEW portfolio_check AS
WITH e AS (
    SELECT e.table_name, coalesce(e.segment, 'unscored') AS segment, e.loan_amount,
           e.credit_score, e.default_probability, d.decision
    FROM expected_scores e
    LEFT JOIN LATERAL credit.decide(CASE WHEN e.credit_score IS NOT NULL THEN e.monthly_income END,
                                    e.assets, e.loan_amount, e.tenor_months) AS d ON true
), expected AS (
    SELECT table_name, segment, count(*) AS loans, sum(loan_amount) AS exposure,
           round(avg(credit_score), 1) AS average_score,
           sum(default_probability * loan_amount) AS expected_loss,
           round(sum(loan_amount) / sum(sum(loan_amount)) OVER (PARTITION BY table_name), 4)
               AS share_of_portfolio,
           round(avg(CASE WHEN decision IN ('approve', 'decline') THEN 1 ELSE 0 END), 4)
               AS automation_rate
    FROM e GROUP BY table_name, segment
), actual AS (
    SELECT table_name, segment, loans, exposure, average_score, expected_loss,
           share_of_portfolio, automation_rate
    FROM credit.portfolio_summary WHERE table_name LIKE 'bi.%'
)
(SELECT 'view only' AS side, * FROM actual EXCEPT SELECT 'view only', * FROM expected)
UNION ALL
(SELECT 'expected only', * FROM expected EXCEPT SELECT 'expected only', * FROM actual);
SELECT * FROM portfolio_check;

-- credit.verify (stored scores against a recomputation) agrees that every
-- stored score is current, also on a table holding a row whose inputs are
-- invalid (application 6, tenor 0): that row is reported by
-- current_scores and open_alerts, not an error.  Expect zero rows (twice).
SELECT * FROM credit.verify('bi.applications');
SELECT * FROM credit.verify('bi.loans');

-- Per table: the segments add up to the table (loans, exposure, expected
-- loss), and the shares sum to 1 (each rounded to 4 places, so within 0.0001
-- per segment).
SELECT p.table_name,
       sum(p.loans) AS loans, sum(p.exposure) AS exposure, sum(p.expected_loss) AS expected_loss,
       sum(p.share_of_portfolio) AS share_sum,
       abs(sum(p.share_of_portfolio) - 1) <= 0.0001 * count(*) AS shares_sum_to_1,
       sum(p.loans) = (SELECT count(*) FROM expected_scores e WHERE e.table_name = p.table_name)
           AS every_row_counted,
       sum(p.expected_loss) = (SELECT sum(e.default_probability * e.loan_amount)
                               FROM expected_scores e WHERE e.table_name = p.table_name)
           AS expected_loss_is_sum_pd_x_amount
FROM credit.portfolio_summary p
WHERE p.table_name LIKE 'bi.%'
GROUP BY p.table_name
ORDER BY p.table_name COLLATE "C";

--
-- decision_summary and open_alerts before the month.
--
SELECT table_name, sum(approved) AS approved, sum(reviewed) AS reviewed,
       sum(declined) AS declined, sum(undecided) AS undecided,
       round((sum(approved) + sum(declined)) / (sum(approved) + sum(reviewed) + sum(declined) + sum(undecided)), 4)
           AS automation_rate
FROM credit.decision_summary
WHERE table_name LIKE 'bi.%'
GROUP BY table_name
ORDER BY table_name COLLATE "C";

SELECT table_name, row_key, kind, old_score, new_score, score_drop, old_segment, new_segment,
       reason, details, age_hours >= 0 AS age_known
FROM credit.open_alerts
WHERE table_name LIKE 'bi.%'
ORDER BY table_name COLLATE "C", row_key::int, kind COLLATE "C";

--
-- A month passes.
--
-- Ana's income falls to 1.5M: loan 101's DSR goes to 0.64 (600 -> 300,
-- medium -> high: score_drop and dsr_critical); loan 102 keeps 570 (DSR 0.16).
UPDATE bi.customers SET monthly_income = 1500000 WHERE id = 1;
-- Budi's assets grow to 60M: loan 103's ACR reaches 1.2 (420 -> 570, high -> medium).
UPDATE bi.customers SET assets_value = 60000000 WHERE id = 2;
-- A name change is not an input: nothing is rescored.
UPDATE bi.customers SET name = 'Citra W.' WHERE id = 3;
-- Application 6 gets a tenor (unscored -> 600 medium); application 4's amount
-- is withdrawn (480 high -> unscored).
UPDATE bi.applications SET tenor_months = 12 WHERE id = 6;
UPDATE bi.applications SET loan_amount = NULL WHERE id = 4;

-- Still in agreement with the tables.  Expect zero rows (twice).
SELECT * FROM current_scores_check;
SELECT * FROM portfolio_check;
-- So does credit.verify.  Expect zero rows (twice).
SELECT * FROM credit.verify('bi.applications');
SELECT * FROM credit.verify('bi.loans');

SELECT table_name, segment, loans, exposure, average_score, expected_loss,
       share_of_portfolio, automation_rate
FROM credit.portfolio_summary
WHERE table_name LIKE 'bi.%'
ORDER BY table_name COLLATE "C", segment COLLATE "C";

--
-- segment_migration: the moves of the month (from NULL: was unscored; to
-- NULL: became unscored).  A first scoring is not a move, and a rescoring
-- that keeps the segment (loan 102) is not either.
--
SELECT table_name, from_segment, to_segment, sum(loans) AS loans
FROM credit.segment_migration
WHERE table_name LIKE 'bi.%'
GROUP BY table_name, from_segment, to_segment
ORDER BY table_name COLLATE "C", from_segment COLLATE "C" NULLS FIRST, to_segment COLLATE "C" NULLS FIRST;

-- The same moves computed from the history by hand (consecutive scorings of
-- a row whose segments differ), and the months are the months of the moves.
-- Expect same_moves = t and months_ok = t.
WITH moves AS (
    SELECT h.table_name, p.segment AS from_segment, h.segment AS to_segment,
           date_trunc('month', h.scored_at)::date AS month
    FROM credit.score_history h
    JOIN LATERAL (SELECT segment FROM credit.score_history p
                  WHERE p.table_name = h.table_name AND p.row_key = h.row_key AND p.id < h.id
                  ORDER BY p.id DESC LIMIT 1) AS p ON true
    WHERE h.table_name LIKE 'bi.%' AND p.segment IS DISTINCT FROM h.segment
)
SELECT (SELECT array_agg(x ORDER BY x) FROM (
            SELECT table_name || ':' || coalesce(from_segment, '-') || '>' || coalesce(to_segment, '-')
                   || ':' || month || ':' || count(*) AS x
            FROM moves GROUP BY table_name, from_segment, to_segment, month) a)
       = (SELECT array_agg(x ORDER BY x) FROM (
            SELECT table_name || ':' || coalesce(from_segment, '-') || '>' || coalesce(to_segment, '-')
                   || ':' || month || ':' || loans AS x
            FROM credit.segment_migration WHERE table_name LIKE 'bi.%') b) AS same_moves,
       (SELECT bool_and(month = date_trunc('month', month)::date) FROM credit.segment_migration
        WHERE table_name LIKE 'bi.%') AS months_ok;

--
-- decision_summary: each scoring decides the row again (the rescored loans
-- 101, 102 and 103 and applications 4 and 6 count twice).
--
SELECT table_name, sum(approved) AS approved, sum(reviewed) AS reviewed,
       sum(declined) AS declined, sum(undecided) AS undecided,
       round((sum(approved) + sum(declined)) / (sum(approved) + sum(reviewed) + sum(declined) + sum(undecided)), 4)
           AS automation_rate
FROM credit.decision_summary
WHERE table_name LIKE 'bi.%'
GROUP BY table_name
ORDER BY table_name COLLATE "C";

--
-- open_alerts after the month, and acknowledging them.
--
SELECT table_name, row_key, kind, old_score, new_score, score_drop, old_segment, new_segment, reason
FROM credit.open_alerts
WHERE table_name LIKE 'bi.%'
ORDER BY table_name COLLATE "C", row_key::int, kind COLLATE "C", new_score;

-- Every open alert of the month is in the view, no acknowledged one is.
SELECT count(*) FILTER (WHERE acknowledged_at IS NULL) AS open_in_table,
       (SELECT count(*) FROM credit.open_alerts WHERE table_name LIKE 'bi.%') AS in_view
FROM credit.score_alerts WHERE table_name LIKE 'bi.%';

SELECT count(*) AS open_before FROM credit.open_alerts WHERE table_name LIKE 'bi.%' \gset
SELECT id AS drop_alert FROM credit.open_alerts
WHERE table_name = 'bi.loans' AND row_key = '101' AND kind = 'score_drop' \gset

-- The DBA (superuser) acknowledges the score drop: true, and it leaves the view.
SELECT credit.acknowledge_alert(:drop_alert, 'called Ana: new job next month') AS acknowledged;
SELECT count(*) AS open_after, :open_before - count(*) AS closed
FROM credit.open_alerts WHERE table_name LIKE 'bi.%';
SELECT count(*) AS still_listed FROM credit.open_alerts WHERE id = :drop_alert;
-- Recorded on the alert: when, by whom (the session user), and the note.
SELECT kind, acknowledged_at IS NOT NULL AS acknowledged,
       acknowledged_by = session_user AS by_session_user, note
FROM credit.score_alerts WHERE id = :drop_alert;
-- Acknowledging again, or an alert that does not exist: NULL (not open), no error.
SELECT credit.acknowledge_alert(:drop_alert, 'again') AS again,
       credit.acknowledge_alert(-1) AS no_such_alert;
SELECT note FROM credit.score_alerts WHERE id = :drop_alert;

-- PUBLIC cannot acknowledge: a plain role gets 42501, and the alert stays open.
CREATE ROLE credit_regress_views_plain NOLOGIN;
SELECT id AS dsr_alert FROM credit.open_alerts
WHERE table_name = 'bi.applications' AND row_key = '3' AND kind = 'dsr_critical' \gset
SET ROLE credit_regress_views_plain;
SELECT credit.acknowledge_alert(:dsr_alert, 'not mine to close');
\echo SQLSTATE :SQLSTATE
-- Nor can it read the views or the tables behind them, or close the alert
-- directly.
SELECT count(*) FROM credit.open_alerts;
\echo SQLSTATE :SQLSTATE
UPDATE credit.score_alerts SET acknowledged_at = now() WHERE id = :dsr_alert;
\echo SQLSTATE :SQLSTATE
RESET ROLE;
SELECT count(*) AS still_open FROM credit.open_alerts WHERE id = :dsr_alert;

-- Once the DBA grants EXECUTE, the role may acknowledge (and only that).
GRANT EXECUTE ON FUNCTION credit.acknowledge_alert(bigint, text) TO credit_regress_views_plain;
SET ROLE credit_regress_views_plain;
SELECT credit.acknowledge_alert(:dsr_alert, 'income verified') AS acknowledged;
RESET ROLE;
SELECT count(*) AS open_now, :open_before - count(*) AS closed
FROM credit.open_alerts WHERE table_name LIKE 'bi.%';
REVOKE EXECUTE ON FUNCTION credit.acknowledge_alert(bigint, text) FROM credit_regress_views_plain;
DROP ROLE credit_regress_views_plain;

--
-- A read-only BI role: SELECT on the five views and nothing else, as the
-- README tells a DBA to set up Metabase.  The views read history and alerts
-- with their owner's rights; the role cannot read those tables or the
-- application's.
--
CREATE ROLE credit_regress_views_bi NOLOGIN;
GRANT USAGE ON SCHEMA credit TO credit_regress_views_bi;
GRANT USAGE ON SCHEMA bi TO credit_regress_views_bi;
GRANT SELECT ON credit.current_scores, credit.portfolio_summary, credit.segment_migration,
                credit.decision_summary, credit.open_alerts TO credit_regress_views_bi;
SET ROLE credit_regress_views_bi;
SELECT (SELECT count(*) FROM credit.current_scores WHERE table_name LIKE 'bi.%') AS current_scores,
       (SELECT count(*) FROM credit.portfolio_summary WHERE table_name LIKE 'bi.%') AS portfolio_summary,
       (SELECT count(*) FROM credit.segment_migration WHERE table_name LIKE 'bi.%') AS segment_migration,
       (SELECT count(*) FROM credit.decision_summary WHERE table_name LIKE 'bi.%') AS decision_summary,
       (SELECT count(*) FROM credit.open_alerts WHERE table_name LIKE 'bi.%') AS open_alerts;
SELECT count(*) FROM credit.score_history;
\echo SQLSTATE :SQLSTATE
SELECT count(*) FROM credit.score_alerts;
\echo SQLSTATE :SQLSTATE
SELECT count(*) FROM bi.loans;
\echo SQLSTATE :SQLSTATE
SELECT credit.acknowledge_alert(1);
\echo SQLSTATE :SQLSTATE
RESET ROLE;
DROP OWNED BY credit_regress_views_bi;
DROP ROLE credit_regress_views_bi;

--
-- A deleted row leaves current_scores and portfolio_summary (a paid-off
-- or deleted loan is no longer exposure); its history stays.
--
DELETE FROM bi.loans WHERE id = 105;
SELECT row_key, credit_score, segment FROM credit.current_scores
WHERE table_name = 'bi.loans' AND row_key = '105';
SELECT sum(loans) AS loans_in_summary, (SELECT count(*) FROM bi.loans) AS loans_in_table
FROM credit.portfolio_summary WHERE table_name = 'bi.loans';

--
-- A table scored with its own scorecard: current_scores' persona, reasons,
-- DSR and recommendation must come from the scorecard that produced the
-- score (the scorecard column), not from the reference one.  Rolled back:
-- a scorecard in use cannot be deleted.
--
BEGIN;
INSERT INTO credit.scorecards (name, definition, description)
SELECT 'views_short_tenor',
       jsonb_set(jsonb_set(definition, '{tenor,bands,0,max_months}', '6'),
                 '{personas,3,name}', '"watch_list"'),
       'views test: full tenor points only up to 6 months; high segment is watch_list'
FROM credit.scorecards WHERE name = 'reference';
CREATE TABLE bi.short_apps (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
INSERT INTO bi.short_apps VALUES
  (1,  5000000, 20000000, 10000000, 12),
  (2, 10000000,  5000000, 50000000, 24);
SELECT credit.enable_scoring('bi.short_apps', scorecard => 'views_short_tenor');
SELECT v.row_key, v.credit_score, v.segment, v.persona, v.reasons, v.scorecard,
       s.credit_score AS expected_score, s.persona AS expected_persona,
       array_to_string(s.reasons, ',') AS expected_reasons,
       (v.credit_score, v.persona, v.reasons, v.dsr, v.monthly_installment, v.recommendation)
         IS NOT DISTINCT FROM
       (s.credit_score, s.persona, array_to_string(s.reasons, ','), s.dsr, s.monthly_installment,
        s.recommendation) AS consistent
FROM credit.current_scores v
JOIN bi.short_apps a ON a.id::text = v.row_key
CROSS JOIN LATERAL credit.score_credit(a.monthly_income, a.assets_value, a.loan_amount,
                                       a.tenor_months, 'views_short_tenor') AS s
WHERE v.table_name = 'bi.short_apps'
ORDER BY v.row_key;
ROLLBACK;

--
-- credit.early_warnings: exactly the scored rows whose installment / income
-- is above the alert ratio now, by an exact comparison recomputed here from
-- the tables' current inputs (1.15 = 1 + the reference margin).
--
SELECT w.table_name, w.row_key, w.dsr, w.dsr_alert_ratio, w.credit_score, w.decision
FROM credit.early_warnings w
WHERE w.table_name LIKE 'bi.%'
ORDER BY w.table_name COLLATE "C", w.row_key::int;
SELECT (SELECT count(*) FROM credit.early_warnings WHERE table_name LIKE 'bi.%')
       = (SELECT count(*) FROM bi.applications
          WHERE credit_score IS NOT NULL AND coalesce(monthly_income, 0) > 0
            AND loan_amount * 1.15 > 0.60 * monthly_income * tenor_months)
         + (SELECT count(*) FROM bi.loans l JOIN bi.customers c ON c.id = l.customer_id
            WHERE l.credit_score IS NOT NULL AND coalesce(c.monthly_income, 0) > 0
              AND l.principal_amount * 1.15 > 0.60 * c.monthly_income * l.tenor_months)
       AS early_warnings_exact;

--
-- Tidy up: the tables go (history and alerts stay, as for any dropped table).
--
SELECT credit.disable_scoring('bi.applications');
SELECT credit.disable_scoring('bi.loans');
DROP VIEW portfolio_check, current_scores_check, expected_scores;
DROP TABLE bi.applications, bi.loans, bi.customers;
DROP SCHEMA bi;
