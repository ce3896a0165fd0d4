-- The invariants of a scored customers + loans pair, one "name|value" line
-- each (run.sh compares them).  psql variables:
--   loans, customers   the tables (identifiers)
--   tbl                the loans table as credit.score_history names it (public.loans)
--   drop_points        credit_scoring.alert_drop_points in force (the window is 0)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;

CREATE TEMP TABLE cur AS
SELECT l.id::text AS row_key,
       coalesce(c.monthly_income, 0)::numeric AS income, coalesce(c.assets_value, 0)::numeric AS assets,
       l.principal_amount::numeric AS amount, l.tenor_months AS tenor,
       l.credit_score, l.default_probability, l.segment, l.decision, l.scored_at
FROM :loans l LEFT JOIN :customers c ON c.id = l.customer_id;

CREATE TEMP TABLE hist AS
SELECT h.*,
       lag(h.credit_score) OVER w AS prev_score,
       reliability.dsr_critical(h.credit_score, h.monthly_income, h.loan_amount, h.tenor_months) AS crit,
       lag(reliability.dsr_critical(h.credit_score, h.monthly_income, h.loan_amount, h.tenor_months)) OVER w AS prev_crit,
       row_number() OVER (PARTITION BY h.row_key ORDER BY h.id DESC) AS recency
FROM credit.score_history h
WHERE h.table_name = :'tbl'
WINDOW w AS (PARTITION BY h.row_key ORDER BY h.id);

CREATE TEMP TABLE alerts AS
SELECT * FROM credit.score_alerts a WHERE a.table_name = :'tbl';

ANALYZE cur; ANALYZE hist; ANALYZE alerts;

SELECT 'loans', count(*) FROM cur
UNION ALL
-- the operators' check
SELECT 'verify_rows', count(*) FROM credit.verify(:'loans'::regclass)
UNION ALL
-- stored score, probability, segment and decision against the extension's
-- own functions on the current inputs
SELECT 'stored_vs_score_credit', count(*)
FROM cur
CROSS JOIN LATERAL credit.score_credit(cur.income, cur.assets, cur.amount, cur.tenor) s
CROSS JOIN LATERAL credit.decide(cur.income, cur.assets, cur.amount, cur.tenor) d
WHERE (cur.credit_score, cur.default_probability, cur.segment, cur.decision)
      IS DISTINCT FROM (s.credit_score, s.default_probability, s.segment, d.decision)
UNION ALL
-- ... and against the scorecard rewritten in plain SQL (reference.sql)
SELECT 'stored_vs_sql_reference', count(*)
FROM cur CROSS JOIN LATERAL reliability.ref_score(cur.income, cur.assets, cur.amount, cur.tenor) r
WHERE (cur.credit_score, cur.default_probability, cur.segment, cur.decision)
      IS DISTINCT FROM (r.credit_score, r.default_probability, r.segment, r.decision)
UNION ALL
SELECT 'unscored', count(*) FROM cur WHERE credit_score IS NULL OR scored_at IS NULL
UNION ALL
SELECT 'history_rows', count(*) FROM hist
UNION ALL
SELECT 'loans_without_history', count(*)
FROM cur WHERE NOT EXISTS (SELECT 1 FROM hist WHERE hist.row_key = cur.row_key)
UNION ALL
-- the latest history row of every loan is its stored score ...
SELECT 'latest_history_vs_stored', count(*)
FROM cur JOIN hist h ON h.row_key = cur.row_key AND h.recency = 1
WHERE (cur.credit_score, cur.default_probability, cur.segment, cur.decision, cur.scored_at)
      IS DISTINCT FROM (h.credit_score, h.default_probability, h.segment, h.decision, h.scored_at)
UNION ALL
-- ... made from the loan's current inputs
SELECT 'latest_history_inputs_vs_current', count(*)
FROM cur JOIN hist h ON h.row_key = cur.row_key AND h.recency = 1
WHERE (cur.income, cur.assets, cur.amount, cur.tenor)
      IS DISTINCT FROM (h.monthly_income, h.assets, h.loan_amount, h.tenor_months)
UNION ALL
-- every history row is the score of the inputs it records
SELECT 'history_rows_inconsistent', count(*)
FROM hist h CROSS JOIN LATERAL reliability.ref_score(h.monthly_income, h.assets, h.loan_amount, h.tenor_months) r
WHERE h.credit_score IS NULL
   OR (h.credit_score, h.default_probability, h.segment, h.decision)
      IS DISTINCT FROM (r.credit_score, r.default_probability, r.segment, r.decision)
UNION ALL
-- score_drop alerts (window 0): exactly one per pair of consecutive history
-- rows of a loan in which the score fell by at least drop_points
SELECT 'score_drop_alerts', count(*) FROM alerts WHERE kind = 'score_drop'
UNION ALL
SELECT 'score_drops_replayed', count(*) FROM hist WHERE prev_score - credit_score >= :drop_points
UNION ALL
SELECT 'score_drop_alerts_unmatched', count(*) FROM (
    (SELECT row_key, old_score, new_score FROM alerts WHERE kind = 'score_drop'
     EXCEPT ALL
     SELECT row_key, prev_score, credit_score FROM hist WHERE prev_score - credit_score >= :drop_points)
    UNION ALL
    (SELECT row_key, prev_score, credit_score FROM hist WHERE prev_score - credit_score >= :drop_points
     EXCEPT ALL
     SELECT row_key, old_score, new_score FROM alerts WHERE kind = 'score_drop')) x
UNION ALL
-- dsr_critical alerts: one per history row whose DSR is above 0.60 when the
-- previous one (if any) was not
SELECT 'dsr_critical_alerts', count(*) FROM alerts WHERE kind = 'dsr_critical'
UNION ALL
SELECT 'dsr_critical_replayed', count(*) FROM hist WHERE crit AND NOT coalesce(prev_crit, false)
UNION ALL
SELECT 'invalid_input_alerts', count(*) FROM alerts WHERE kind = 'invalid_input';

DROP TABLE cur, hist, alerts;
