--
-- explain_and_summary: the old API's JSON responses, served from SQL.
--
--   explain_score   the single-score response: credit_score,
--                   default_probability, segment, dsr, monthly_installment,
--                   assessment {dsr_score, acr_score, tenor_score},
--                   plus persona and reasons
--   risk_summary    the bulk response: total_rows, high_risk_count, plus
--                   counts per segment
--
-- The old bulk endpoint silently skipped bad rows.  Here bad rows are scored
-- with try_score_credit (NULL, skipped by the aggregate) and shown with
-- validate_application's reason, so nothing is dropped without a reason.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- explain_score for the three examples of the old service.
--
SELECT jsonb_pretty(credit.explain_score(5000000, 20000000, 10000000, 12));
SELECT jsonb_pretty(credit.explain_score(10000000, 5000000, 50000000, 24));
SELECT jsonb_pretty(credit.explain_score(2000000, 0, 10000000, 6));

-- Compact form, as an API client receives it.
SELECT credit.explain_score(5000000, 20000000, 10000000, 12);

-- Numbers are JSON numbers, not strings, with their 2 decimals kept
-- (0.40 stays 0.40); reasons is a JSON array, empty when nothing was lost.
SELECT jsonb_typeof(j->'credit_score')        AS credit_score,
       jsonb_typeof(j->'default_probability') AS default_probability,
       j->'default_probability'               AS pd_as_written,
       jsonb_typeof(j->'dsr')                 AS dsr,
       jsonb_typeof(j->'monthly_installment') AS monthly_installment,
       jsonb_typeof(j->'assessment')          AS assessment,
       jsonb_typeof(j->'reasons')             AS reasons
FROM credit.explain_score(10000000, 5000000, 50000000, 24) AS e(j);

-- The top-level keys, for API clients that validate the response shape.
SELECT k AS key
FROM jsonb_object_keys(credit.explain_score(5000000, 20000000, 10000000, 12)) AS k
ORDER BY k COLLATE "C";

-- NULL in, NULL out; bad input raises the same error as score_credit.
SELECT credit.explain_score(NULL, 20000000, 10000000, 12) IS NULL AS null_in_null_out;
SELECT credit.explain_score(5000000, 20000000, 10000000, 0);
\echo SQLSTATE :SQLSTATE

--
-- A bulk upload, as the old CSV endpoint received it: some rows are bad.
--
CREATE TEMP TABLE upload (
    line           integer PRIMARY KEY,
    monthly_income numeric,
    assets         numeric,
    loan_amount    numeric,
    tenor_months   integer
);
INSERT INTO upload VALUES
  ( 1, 5000000,    20000000,  10000000,  12),   -- 600 medium
  ( 2, 10000000,   5000000,   50000000,  24),   -- 420 high
  ( 3, 2000000,    0,         10000000,  6),    -- 300 high
  ( 4, 8000000,    12000000,  15000000,  36),   -- 480 high
  ( 5, 12000000,   30000000,  20000000,  12),   -- 600 medium
  ( 6, 9000000,    16000000,  20000000,  18),   -- 520 high
  ( 7, -5,         20000000,  10000000,  12),   -- bad: negative income
  ( 8, 5000000,    'NaN',     10000000,  12),   -- bad: NaN assets
  ( 9, 5000000,    20000000,  10000000,  0),    -- bad: tenor 0
  (10, 5000000,    20000000,  1e16,      12),   -- bad: out of range
  (11, 5000000,    20000000,  NULL,      12);   -- incomplete: no amount

-- Every uploaded line, with its score or the reason it was not scored.
SELECT u.line, s.credit_score, s.segment, s.persona,
       credit.validate_application(u.monthly_income, u.assets,
                                   u.loan_amount, u.tenor_months) AS not_scored_because
FROM upload u
CROSS JOIN LATERAL credit.try_score_credit(u.monthly_income, u.assets,
                                           u.loan_amount, u.tenor_months) AS s
ORDER BY u.line;

-- The bulk response: only scored rows are counted (try_score_credit's NULLs
-- are skipped, like NULLs in any aggregate).
SELECT jsonb_pretty(credit.risk_summary(
           credit.try_score_credit(u.monthly_income, u.assets,
                                   u.loan_amount, u.tenor_months)))
FROM upload u;

-- Closing the books: every uploaded line is either scored (and counted by
-- risk_summary) or rejected with a reason.  Expect nothing_dropped = t.
SELECT count(*) AS uploaded,
       count(x.scored) AS scored,
       count(x.reason) AS rejected_with_reason,
       (credit.risk_summary(x.scored)->>'total_rows')::bigint AS summary_total_rows,
       count(*) = count(x.scored) + count(x.reason)
         AND (credit.risk_summary(x.scored)->>'total_rows')::bigint = count(x.scored)
           AS nothing_dropped
FROM (SELECT credit.try_score_credit(u.monthly_income, u.assets,
                                     u.loan_amount, u.tenor_months) AS scored,
             credit.validate_application(u.monthly_income, u.assets,
                                         u.loan_amount, u.tenor_months) AS reason
      FROM upload u) AS x;

-- The rejected lines, grouped by reason: the report the old endpoint never gave.
SELECT r.reason, array_agg(u.line ORDER BY u.line) AS lines
FROM upload u
CROSS JOIN LATERAL credit.validate_application(u.monthly_income, u.assets,
                                               u.loan_amount, u.tenor_months) AS r(reason)
WHERE r.reason IS NOT NULL
GROUP BY r.reason
ORDER BY min(u.line);

-- Written with LATERAL, an unscorable line reaches the aggregate as a row
-- whose fields are all NULL rather than as a NULL; it must be skipped just
-- the same.  Expect same_summary = t.
SELECT credit.risk_summary(s) AS summary,
       credit.risk_summary(s) = (SELECT credit.risk_summary(
                                            credit.try_score_credit(monthly_income, assets,
                                                                    loan_amount, tenor_months))
                                 FROM upload) AS same_summary
FROM upload u
CROSS JOIN LATERAL credit.try_score_credit(u.monthly_income, u.assets,
                                           u.loan_amount, u.tenor_months) AS s;

-- risk_summary per group, like any aggregate.
SELECT u.tenor_months <= 12 AS short_tenor,
       credit.risk_summary(credit.try_score_credit(u.monthly_income, u.assets,
                                                   u.loan_amount, u.tenor_months)) AS summary
FROM upload u
GROUP BY 1
ORDER BY 1;

-- Edge cases of the aggregate: no rows at all, and only unscorable rows.
SELECT credit.risk_summary(credit.try_score_credit(u.monthly_income, u.assets,
                                                   u.loan_amount, u.tenor_months)) AS no_rows
FROM upload u
WHERE false;
SELECT credit.risk_summary(credit.try_score_credit(u.monthly_income, u.assets,
                                                   u.loan_amount, u.tenor_months)) AS only_bad_rows
FROM upload u
WHERE u.line >= 7;

-- The same rows through score_credit: the first bad line stops the
-- statement with its error, instead of being skipped.
SELECT credit.risk_summary(credit.score_credit(u.monthly_income, u.assets,
                                               u.loan_amount, u.tenor_months))
FROM upload u;
\echo SQLSTATE :SQLSTATE

DROP TABLE upload;
