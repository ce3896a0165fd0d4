--
-- triggers_bulk: big statements on a scored table (SPEC section 3, 7).
--
-- The statement trigger (credit.record_scores, src/recorder.rs) reads the
-- statement's transition tables and writes history, latest scores and
-- alerts in batches of 1000.  Here every statement is bigger than a batch
-- and work_mem is small, so the transition tables spill to disk; each
-- result is checked against a recomputation in plain SQL, not against
-- numbers copied from a run.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

SET work_mem = '64kB';

CREATE TABLE bulk_loans (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer,
    note           text
);
SELECT credit.enable_scoring('bulk_loans');

-- 20,000 applications with every band of every factor.
INSERT INTO bulk_loans (id, monthly_income, assets_value, loan_amount, tenor_months)
SELECT g, 1000 + (g * 7919) % 9000, (g * 104729) % 50000, 1000 + (g * 31) % 40000, 6 + g % 54
FROM generate_series(1, 20000) AS g;

-- One history row per row, the latest score pointing at it, every stored
-- score right.
SELECT count(*) AS history_rows, count(DISTINCT row_key) AS keys,
       bool_and(first_scoring) AS all_first
FROM credit.score_history WHERE table_name = 'public.bulk_loans';
SELECT count(*) AS latest_rows FROM credit.latest_scores WHERE table_name = 'public.bulk_loans';
SELECT count(*) AS wrong_scores FROM credit.verify('bulk_loans');
-- Latest scores = the table's score columns and the newest history row.
SELECT count(*) AS latest_mismatches
FROM bulk_loans b
LEFT JOIN credit.latest_scores l ON l.table_name = 'public.bulk_loans' AND l.row_key = b.id::text
LEFT JOIN credit.score_history h ON h.id = l.history_id
WHERE (l.credit_score, l.segment, l.decision, l.loan_amount, l.default_probability)
      IS DISTINCT FROM (b.credit_score, b.segment, b.decision, b.loan_amount, b.default_probability)
   OR (h.row_key, h.monthly_income, h.assets, h.loan_amount, h.tenor_months, h.credit_score, h.scored_at)
      IS DISTINCT FROM (b.id::text, b.monthly_income, b.assets_value, b.loan_amount, b.tenor_months,
                        b.credit_score, b.scored_at);
-- decision_reasons in history = credit.decide's.
SELECT count(*) AS reason_mismatches
FROM credit.score_history h,
     LATERAL credit.decide(h.monthly_income, h.assets, h.loan_amount, h.tenor_months) AS d
WHERE h.table_name = 'public.bulk_loans' AND h.decision_reasons IS DISTINCT FROM d.decision_reasons;
-- dsr_critical on insert: exactly the rows above 0.60 (no earlier history).
SELECT count(*) AS dsr_critical_alerts FROM credit.score_alerts
WHERE table_name = 'public.bulk_loans' AND kind = 'dsr_critical';
SELECT count(*) AS expected_dsr_critical FROM bulk_loans
WHERE loan_amount * 1.15 > 0.60 * monthly_income * tenor_months;

-- Income cut on every row: every row rescored once more.
CREATE TEMP TABLE before_cut AS SELECT id, credit_score, monthly_income, loan_amount, tenor_months FROM bulk_loans;
UPDATE bulk_loans SET monthly_income = monthly_income * 0.5;
SELECT count(*) AS history_rows, count(*) FILTER (WHERE NOT first_scoring) AS rescorings
FROM credit.score_history WHERE table_name = 'public.bulk_loans';
SELECT count(*) AS wrong_scores FROM credit.verify('bulk_loans');
-- Alerts equal the rules replayed in SQL: score_drop where the score fell by
-- 15 or more (one earlier score, the peak), dsr_critical where the DSR rose
-- above 0.60.
SELECT (SELECT count(*) FROM credit.score_alerts
        WHERE table_name = 'public.bulk_loans' AND kind = 'score_drop') AS score_drop_alerts,
       (SELECT count(*) FROM before_cut o JOIN bulk_loans n USING (id)
        WHERE o.credit_score - n.credit_score >= 15) AS expected_score_drop;
SELECT count(*) AS unexpected_drop_alerts
FROM credit.score_alerts a
JOIN before_cut o ON o.id::text = a.row_key
JOIN bulk_loans n ON n.id = o.id
WHERE a.table_name = 'public.bulk_loans' AND a.kind = 'score_drop'
  AND (a.old_score, a.new_score, a.score_drop, a.new_segment, (a.details->>'previous_score')::int)
      IS DISTINCT FROM (o.credit_score, n.credit_score, o.credit_score - n.credit_score, n.segment, o.credit_score);
SELECT (SELECT count(*) FROM credit.score_alerts
        WHERE table_name = 'public.bulk_loans' AND kind = 'dsr_critical') AS dsr_critical_alerts,
       (SELECT count(*) FROM before_cut WHERE loan_amount * 1.15 > 0.60 * monthly_income * tenor_months)
       + (SELECT count(*) FROM before_cut o JOIN bulk_loans n USING (id)
          WHERE n.loan_amount * 1.15 > 0.60 * n.monthly_income * n.tenor_months
            AND NOT o.loan_amount * 1.15 > 0.60 * o.monthly_income * o.tenor_months) AS expected;
SELECT count(*) AS wrong_dsr_details
FROM credit.score_alerts a JOIN bulk_loans n ON n.id::text = a.row_key
WHERE a.table_name = 'public.bulk_loans' AND a.kind = 'dsr_critical'
  AND a.created_at = now()
  AND (a.details->>'dsr')::numeric <> round(n.loan_amount * 1.15 / n.tenor_months / n.monthly_income, 6);

-- An unrelated update of every row: nothing scored anew, nothing recorded.
UPDATE bulk_loans SET note = 'reviewed';
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.bulk_loans';

-- Deleting half: they leave the latest scores, their history stays.
DELETE FROM bulk_loans WHERE id % 2 = 0;
SELECT count(*) AS latest_rows FROM credit.latest_scores WHERE table_name = 'public.bulk_loans';
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.bulk_loans';

-- A row key that is not unique (key => a column with repeats): every
-- scoring is history, the latest score is the statement's last row of the
-- key.
CREATE TABLE bulk_batches (
    id             bigint PRIMARY KEY,
    batch          integer,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('bulk_batches', key => 'batch');
INSERT INTO bulk_batches
SELECT g, g % 3, 1000 * g, 500, 1000, 12 FROM generate_series(1, 3000) AS g;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.bulk_batches';
SELECT l.row_key, l.credit_score, h.monthly_income
FROM credit.latest_scores l JOIN credit.score_history h ON h.id = l.history_id
WHERE l.table_name = 'public.bulk_batches' ORDER BY l.row_key;
UPDATE bulk_batches SET monthly_income = 1 WHERE id > 2990;
SELECT l.row_key, l.credit_score, h.monthly_income
FROM credit.latest_scores l JOIN credit.score_history h ON h.id = l.history_id
WHERE l.table_name = 'public.bulk_batches' ORDER BY l.row_key;
-- A key a row leaves stays current while other rows carry it: one row of
-- batch 0 moves to batch 7 (0 stays), all of batch 1 to batch 8 (1 goes).
UPDATE bulk_batches SET batch = 7 WHERE id = 3000;
UPDATE bulk_batches SET batch = 8 WHERE batch = 1;
SELECT row_key FROM credit.latest_scores WHERE table_name = 'public.bulk_batches' ORDER BY row_key;

-- Rolled back: nothing of it stays.
BEGIN;
UPDATE bulk_loans SET monthly_income = 0;
ROLLBACK;
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.bulk_loans';
SELECT count(*) AS wrong_scores FROM credit.verify('bulk_loans');

SELECT credit.disable_scoring('bulk_loans');
SELECT credit.disable_scoring('bulk_batches');
DROP TABLE bulk_loans, bulk_batches;
RESET work_mem;

-- TRUNCATE fires no DELETE trigger: the truncated rows still leave the
-- current views (their history stays), on a plain table and on one
-- partition of a partitioned one.
CREATE TABLE bulk_truncated (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('bulk_truncated');
INSERT INTO bulk_truncated SELECT g, 5000, 1000, 1000, 12 FROM generate_series(1, 3) AS g;
TRUNCATE bulk_truncated;
SELECT count(*) AS current_rows FROM credit.current_scores WHERE table_name = 'public.bulk_truncated';
SELECT count(*) AS history_rows FROM credit.score_history WHERE table_name = 'public.bulk_truncated';
INSERT INTO bulk_truncated SELECT g, 5000, 1000, 1000, 12 FROM generate_series(2, 3) AS g;
SELECT row_key FROM credit.current_scores WHERE table_name = 'public.bulk_truncated' ORDER BY row_key;

CREATE TABLE bulk_parts (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
) PARTITION BY RANGE (id);
CREATE TABLE bulk_parts_low PARTITION OF bulk_parts FOR VALUES FROM (0) TO (100);
CREATE TABLE bulk_parts_high PARTITION OF bulk_parts FOR VALUES FROM (100) TO (200);
SELECT credit.enable_scoring('bulk_parts');
INSERT INTO bulk_parts VALUES (1, 5000, 1000, 1000, 12), (150, 5000, 1000, 1000, 12);
TRUNCATE bulk_parts_low;
SELECT row_key FROM credit.current_scores WHERE table_name = 'public.bulk_parts' ORDER BY row_key;
TRUNCATE bulk_parts;
SELECT count(*) AS current_rows FROM credit.current_scores WHERE table_name = 'public.bulk_parts';
-- Detached: no trigger of scoring is left behind.
SELECT credit.disable_scoring('bulk_parts');
SELECT credit.disable_scoring('bulk_truncated');
SELECT count(*) AS triggers_left FROM pg_trigger
WHERE tgname LIKE 'credit_scoring%'
  AND tgrelid IN ('bulk_parts'::regclass, 'bulk_parts_low'::regclass, 'bulk_parts_high'::regclass,
                  'bulk_truncated'::regclass);
DROP TABLE bulk_parts, bulk_truncated;

-- dsr_critical at the edge, with a ratio of up to 6 decimals (decided in
-- the core) and one of 7 (decided with numeric arithmetic): a DSR of
-- exactly 0.60 (1200 x 1.15 / 1 / 2300) is above 0.5999999, not above 0.6.
CREATE TABLE bulk_edges (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('bulk_edges');
SET credit_scoring.dsr_alert_ratio = '0.6';
INSERT INTO bulk_edges VALUES (1, 2300, 0, 1200, 1), (2, 2299.999999, 0, 1200, 1);
SET credit_scoring.dsr_alert_ratio = '0.5999999';
INSERT INTO bulk_edges VALUES (3, 2300, 0, 1200, 1), (4, 2300.0004, 0, 1200, 1);
RESET credit_scoring.dsr_alert_ratio;
SELECT e.id, round(e.loan_amount * 1.15 / e.monthly_income, 12) AS dsr, a.details->>'dsr_alert_ratio' AS ratio
FROM bulk_edges e
LEFT JOIN credit.score_alerts a ON a.table_name = 'public.bulk_edges' AND a.row_key = e.id::text
                               AND a.kind = 'dsr_critical'
ORDER BY e.id;
SELECT credit.disable_scoring('bulk_edges');
DROP TABLE bulk_edges;
