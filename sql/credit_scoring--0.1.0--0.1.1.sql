-- credit_scoring 0.1.0 -> 0.1.1
-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION credit_scoring UPDATE TO '0.1.1'" to load this file. \quit

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
