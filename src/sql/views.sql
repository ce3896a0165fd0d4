-- Views for BI tools (SPEC §4): flat columns of plain types only, one
-- evaluation of the scoring function per row (LATERAL), a COMMENT on every
-- view and column (Metabase and Superset show them).

CREATE VIEW credit.current_scores AS
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
COMMENT ON VIEW credit.current_scores IS
    'The latest scoring of every row of every scored table, with its inputs, persona and reasons (one row per scored row; score NULL: its inputs are invalid, see credit.open_alerts)';
COMMENT ON COLUMN credit.current_scores.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.current_scores.row_key IS 'Key of the scored row, as text';
COMMENT ON COLUMN credit.current_scores.monthly_income IS 'Monthly income used (NULL counted as 0)';
COMMENT ON COLUMN credit.current_scores.assets IS 'Assets used (NULL counted as 0)';
COMMENT ON COLUMN credit.current_scores.loan_amount IS 'Loan amount';
COMMENT ON COLUMN credit.current_scores.tenor_months IS 'Tenor in months';
COMMENT ON COLUMN credit.current_scores.credit_score IS 'Credit score (300 to 850)';
COMMENT ON COLUMN credit.current_scores.default_probability IS 'Probability of default of the score band';
COMMENT ON COLUMN credit.current_scores.segment IS 'Risk segment: low, medium or high';
COMMENT ON COLUMN credit.current_scores.dsr IS 'Debt service ratio: installment / income, 2 decimals';
COMMENT ON COLUMN credit.current_scores.monthly_installment IS 'Monthly installment, 2 decimals';
COMMENT ON COLUMN credit.current_scores.persona IS 'Customer persona of the segment';
COMMENT ON COLUMN credit.current_scores.reasons IS 'Reason codes, comma-separated, most points lost first';
COMMENT ON COLUMN credit.current_scores.recommendation IS 'The old API''s recommendation line';
COMMENT ON COLUMN credit.current_scores.decision IS 'Instant decision: approve, review or decline';
COMMENT ON COLUMN credit.current_scores.decision_reasons IS 'Rules behind the decision, comma-separated';
COMMENT ON COLUMN credit.current_scores.scorecard IS 'Scorecard that produced the score';
COMMENT ON COLUMN credit.current_scores.scored_at IS 'When the row was last scored';

CREATE VIEW credit.portfolio_summary AS
SELECT table_name,
       coalesce(segment, 'unscored') AS segment,
       count(*) AS loans,
       sum(loan_amount) AS exposure,
       round(avg(credit_score), 1) AS average_score,
       sum(default_probability * loan_amount) AS expected_loss,
       round(sum(loan_amount) / nullif(sum(sum(loan_amount)) OVER (PARTITION BY table_name), 0), 4)
           AS share_of_portfolio,
       round(count(*) FILTER (WHERE decision IN ('approve', 'decline'))::numeric / count(*), 4) AS automation_rate
FROM credit.latest_scores
GROUP BY table_name, segment;
COMMENT ON VIEW credit.portfolio_summary IS
    'Per scored table and segment: number of loans, exposure, average score, expected loss and share of the table''s exposure';
COMMENT ON COLUMN credit.portfolio_summary.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.portfolio_summary.segment IS 'Risk segment (unscored: rows with invalid inputs)';
COMMENT ON COLUMN credit.portfolio_summary.loans IS 'Number of loans';
COMMENT ON COLUMN credit.portfolio_summary.exposure IS 'Sum of loan amounts';
COMMENT ON COLUMN credit.portfolio_summary.average_score IS 'Average credit score';
COMMENT ON COLUMN credit.portfolio_summary.expected_loss IS 'Sum of default probability x loan amount';
COMMENT ON COLUMN credit.portfolio_summary.share_of_portfolio IS 'Exposure of the segment / exposure of the table (0 to 1)';
COMMENT ON COLUMN credit.portfolio_summary.automation_rate IS 'Share of loans decided without a person (approve or decline), 0 to 1';

CREATE VIEW credit.decision_summary AS
SELECT table_name,
       scored_at::date AS day,
       count(*) FILTER (WHERE decision = 'approve') AS approved,
       count(*) FILTER (WHERE decision = 'review') AS reviewed,
       count(*) FILTER (WHERE decision = 'decline') AS declined,
       count(*) FILTER (WHERE decision IS NULL) AS undecided,
       round(count(*) FILTER (WHERE decision IN ('approve', 'decline'))::numeric / count(*), 4) AS automation_rate
FROM credit.score_history
GROUP BY table_name, scored_at::date;
COMMENT ON VIEW credit.decision_summary IS
    'Per scored table and day: decisions made (each scoring of a row decides it), and the share decided without a person';
COMMENT ON COLUMN credit.decision_summary.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.decision_summary.day IS 'Day the decisions were made';
COMMENT ON COLUMN credit.decision_summary.approved IS 'Applications approved';
COMMENT ON COLUMN credit.decision_summary.reviewed IS 'Applications sent to a person for review';
COMMENT ON COLUMN credit.decision_summary.declined IS 'Applications declined';
COMMENT ON COLUMN credit.decision_summary.undecided IS 'Applications with invalid inputs (see credit.open_alerts)';
COMMENT ON COLUMN credit.decision_summary.automation_rate IS 'Share approved or declined (0 to 1)';

CREATE VIEW credit.segment_migration AS
SELECT table_name,
       date_trunc('month', scored_at)::date AS month,
       from_segment,
       to_segment,
       count(*) AS loans
FROM (SELECT table_name, scored_at, previous_segment AS from_segment, segment AS to_segment
      FROM credit.score_history
      WHERE NOT first_scoring AND previous_segment IS DISTINCT FROM segment) AS moves
GROUP BY table_name, month, from_segment, to_segment;
COMMENT ON VIEW credit.segment_migration IS
    'Rows that moved between segments, per scored table and month of the move (filter on month for a period)';
COMMENT ON COLUMN credit.segment_migration.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.segment_migration.month IS 'First day of the month the rows moved in';
COMMENT ON COLUMN credit.segment_migration.from_segment IS 'Segment before the move (NULL: was unscored)';
COMMENT ON COLUMN credit.segment_migration.to_segment IS 'Segment after the move (NULL: became unscored)';
COMMENT ON COLUMN credit.segment_migration.loans IS 'Number of moves';

CREATE VIEW credit.open_alerts AS
SELECT id,
       table_name,
       row_key,
       kind,
       old_score,
       new_score,
       score_drop,
       old_segment,
       new_segment,
       details::text AS details,
       details->>'reason' AS reason,
       created_at,
       round(extract(epoch FROM now() - created_at) / 3600, 1) AS age_hours
FROM credit.score_alerts
WHERE acknowledged_at IS NULL;
COMMENT ON VIEW credit.open_alerts IS
    'Unacknowledged alerts with their age; acknowledge one with credit.acknowledge_alert(id, note)';
COMMENT ON COLUMN credit.open_alerts.id IS 'Alert id (for credit.acknowledge_alert)';
COMMENT ON COLUMN credit.open_alerts.table_name IS 'Scored table, schema-qualified';
COMMENT ON COLUMN credit.open_alerts.row_key IS 'Key of the row the alert is about';
COMMENT ON COLUMN credit.open_alerts.kind IS 'score_drop, dsr_critical or invalid_input';
COMMENT ON COLUMN credit.open_alerts.old_score IS 'Score the drop is measured from (score_drop), else the score before';
COMMENT ON COLUMN credit.open_alerts.new_score IS 'Score after the change';
COMMENT ON COLUMN credit.open_alerts.score_drop IS 'Points lost (score_drop alerts)';
COMMENT ON COLUMN credit.open_alerts.old_segment IS 'Segment before the change';
COMMENT ON COLUMN credit.open_alerts.new_segment IS 'Segment after the change';
COMMENT ON COLUMN credit.open_alerts.details IS 'Details as JSON text';
COMMENT ON COLUMN credit.open_alerts.reason IS 'Why the inputs are invalid (invalid_input alerts)';
COMMENT ON COLUMN credit.open_alerts.created_at IS 'When the alert was raised';
COMMENT ON COLUMN credit.open_alerts.age_hours IS 'Hours since the alert was raised';

CREATE FUNCTION credit.acknowledge_alert(alert_id bigint, note text DEFAULT NULL)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    -- SECURITY DEFINER: roles granted EXECUTE may acknowledge, not rewrite, alerts.
    UPDATE credit.score_alerts
    SET acknowledged_at = now(), acknowledged_by = session_user, note = acknowledge_alert.note
    WHERE id = alert_id AND acknowledged_at IS NULL
    RETURNING true
$$;
REVOKE EXECUTE ON FUNCTION credit.acknowledge_alert(bigint, text) FROM PUBLIC;
COMMENT ON FUNCTION credit.acknowledge_alert(bigint, text) IS
    'Marks an open alert acknowledged (by the session user, with an optional note); NULL if it was not open. EXECUTE is granted by the DBA';

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
