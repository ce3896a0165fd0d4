--
-- golden_vectors: score_credit reproduces reference/exact_engine.py bit for
-- bit on the 3,000 golden vectors (tests/golden_vectors.csv), field by field.
--
-- Numeric fields are compared twice: as numbers, and as text, so a result
-- that is numerically right but printed differently (0.4 for 0.40, 115 for
-- 115.00) is caught as well.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- pg_regress exports the input directory (tests/pg_regress); the vectors
-- live one level up.  \copy reads them on the client, so this works against
-- a remote server and without superuser.
\getenv abs_srcdir PG_ABS_SRCDIR
\cd :abs_srcdir

CREATE TEMP TABLE golden (
    line                serial PRIMARY KEY,   -- data line in the CSV, from 1
    monthly_income      text,
    assets              text,
    loan_amount         text,
    tenor_months        text,
    credit_score        text,
    default_probability text,
    segment             text,
    dsr                 text,
    monthly_installment text,
    dsr_points          text,
    acr_points          text,
    tenor_points        text,
    persona             text,
    reasons             text,
    recommendation      text
);

\copy golden (monthly_income, assets, loan_amount, tenor_months, credit_score, default_probability, segment, dsr, monthly_installment, dsr_points, acr_points, tenor_points, persona, reasons, recommendation) FROM '../golden_vectors.csv' WITH (FORMAT csv, HEADER true)

-- Score every vector once, keeping the result next to the expectation.
CREATE TEMP TABLE golden_scored AS
SELECT g.line, g.monthly_income, g.assets, g.loan_amount, g.tenor_months,
       g.credit_score        AS exp_credit_score,
       g.default_probability AS exp_default_probability,
       g.segment             AS exp_segment,
       g.dsr                 AS exp_dsr,
       g.monthly_installment AS exp_monthly_installment,
       g.dsr_points          AS exp_dsr_points,
       g.acr_points          AS exp_acr_points,
       g.tenor_points        AS exp_tenor_points,
       g.persona             AS exp_persona,
       g.reasons             AS exp_reasons,
       g.recommendation      AS exp_recommendation,
       s.*
FROM golden g
CROSS JOIN LATERAL credit.score_credit(g.monthly_income::numeric,
                                       g.assets::numeric,
                                       g.loan_amount::numeric,
                                       g.tenor_months::integer) AS s;

-- One mismatch counter per field; every counter must be 0 and the row count
-- 3000.  A NULL result counts as a mismatch (IS DISTINCT FROM).
\x on
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE credit_score IS DISTINCT FROM exp_credit_score::integer)
           AS credit_score,
       count(*) FILTER (WHERE default_probability IS DISTINCT FROM exp_default_probability::numeric)
           AS default_probability,
       count(*) FILTER (WHERE default_probability::text IS DISTINCT FROM exp_default_probability)
           AS default_probability_text,
       count(*) FILTER (WHERE segment IS DISTINCT FROM exp_segment)
           AS segment,
       count(*) FILTER (WHERE dsr IS DISTINCT FROM exp_dsr::numeric)
           AS dsr,
       count(*) FILTER (WHERE dsr::text IS DISTINCT FROM exp_dsr)
           AS dsr_text,
       count(*) FILTER (WHERE monthly_installment IS DISTINCT FROM exp_monthly_installment::numeric)
           AS monthly_installment,
       count(*) FILTER (WHERE monthly_installment::text IS DISTINCT FROM exp_monthly_installment)
           AS monthly_installment_text,
       count(*) FILTER (WHERE dsr_points IS DISTINCT FROM exp_dsr_points::integer)
           AS dsr_points,
       count(*) FILTER (WHERE acr_points IS DISTINCT FROM exp_acr_points::integer)
           AS acr_points,
       count(*) FILTER (WHERE tenor_points IS DISTINCT FROM exp_tenor_points::integer)
           AS tenor_points,
       count(*) FILTER (WHERE persona IS DISTINCT FROM exp_persona)
           AS persona,
       count(*) FILTER (WHERE reasons IS DISTINCT FROM exp_reasons::text[])
           AS reasons,
       count(*) FILTER (WHERE reasons::text IS DISTINCT FROM exp_reasons)
           AS reasons_text,
       count(*) FILTER (WHERE recommendation IS DISTINCT FROM exp_recommendation)
           AS recommendation
FROM golden_scored;

-- The first mismatching vectors, if any, with what was expected and what
-- came out (expect no rows).
SELECT line, monthly_income, assets, loan_amount, tenor_months,
       exp_credit_score || ' ' || exp_default_probability || ' ' || exp_segment
         || ' dsr ' || exp_dsr || ' inst ' || exp_monthly_installment
         || ' pts ' || exp_dsr_points || '/' || exp_acr_points || '/' || exp_tenor_points
         || ' ' || exp_persona || ' ' || exp_reasons || ' "' || exp_recommendation || '"'
           AS expected,
       coalesce(credit_score || ' ' || default_probability || ' ' || segment
         || ' dsr ' || dsr || ' inst ' || monthly_installment
         || ' pts ' || dsr_points || '/' || acr_points || '/' || tenor_points
         || ' ' || persona || ' ' || reasons::text || ' "' || recommendation || '"',
         '(null)') AS got
FROM golden_scored
WHERE (credit_score, default_probability::text, segment, dsr::text,
       monthly_installment::text, dsr_points, acr_points, tenor_points,
       persona, reasons::text, recommendation)
      IS DISTINCT FROM
      (exp_credit_score::integer, exp_default_probability, exp_segment, exp_dsr,
       exp_monthly_installment, exp_dsr_points::integer, exp_acr_points::integer,
       exp_tenor_points::integer, exp_persona, exp_reasons, exp_recommendation)
ORDER BY line
LIMIT 10;
\x off

-- The vectors are not all alike: they cover every band of every factor (a
-- zero loan amount, acr_points 0, is covered in score_credit), every reason
-- code and both reachable segments.
SELECT f.factor, f.points, count(*) AS vectors
FROM golden_scored
CROSS JOIN LATERAL (VALUES (1, 'dsr_points',   dsr_points),
                           (2, 'acr_points',   acr_points),
                           (3, 'tenor_points', tenor_points)) AS f(n, factor, points)
GROUP BY f.n, f.factor, f.points
ORDER BY f.n, f.points DESC;

SELECT r.reason, count(*) AS vectors
FROM golden_scored, unnest(reasons) AS r(reason)
GROUP BY r.reason
ORDER BY r.reason COLLATE "C";

--
-- The other entry points agree with score_credit on every vector.
--

-- validate_application accepts every vector, try_score_credit returns the
-- same composite.  Expect 0 everywhere.
SELECT count(*) FILTER (WHERE credit.validate_application(
                                  monthly_income::numeric, assets::numeric,
                                  loan_amount::numeric, tenor_months::integer)
                              IS NOT NULL) AS rejected_by_validate,
       count(*) FILTER (WHERE credit.try_score_credit(
                                  monthly_income::numeric, assets::numeric,
                                  loan_amount::numeric, tenor_months::integer)
                              IS DISTINCT FROM
                              ROW(credit_score, default_probability, segment, dsr,
                                  monthly_installment, dsr_points, acr_points,
                                  tenor_points, persona, reasons,
                                  recommendation)::credit.score_result)
           AS try_differs
FROM golden_scored;

-- explain_score carries the same figures in its JSON (the old API's field
-- names plus persona and reasons).  Expect 0.
SELECT count(*) AS explain_differs
FROM golden_scored gs
CROSS JOIN LATERAL credit.explain_score(gs.monthly_income::numeric,
                                        gs.assets::numeric,
                                        gs.loan_amount::numeric,
                                        gs.tenor_months::integer) AS e(j)
WHERE (j->>'credit_score')::integer IS DISTINCT FROM gs.credit_score
   OR (j->>'default_probability')::numeric IS DISTINCT FROM gs.default_probability
   OR j->>'segment' IS DISTINCT FROM gs.segment
   OR (j->>'dsr')::numeric IS DISTINCT FROM gs.dsr
   OR (j->>'monthly_installment')::numeric IS DISTINCT FROM gs.monthly_installment
   OR (j->'assessment'->>'dsr_score')::integer IS DISTINCT FROM gs.dsr_points
   OR (j->'assessment'->>'acr_score')::integer IS DISTINCT FROM gs.acr_points
   OR (j->'assessment'->>'tenor_score')::integer IS DISTINCT FROM gs.tenor_points
   OR j->>'persona' IS DISTINCT FROM gs.persona
   OR j->'reasons' IS DISTINCT FROM to_jsonb(gs.reasons);

-- risk_summary over all vectors agrees with counting by hand.
SELECT s.summary->'total_rows' AS total_rows,
       s.summary->'high_risk_count' AS high_risk_count,
       s.summary->'segments' AS segments,
       (s.summary->>'total_rows')::bigint = h.total
         AND (s.summary->>'high_risk_count')::bigint = h.high
         AND coalesce((s.summary->'segments'->>'high')::bigint, 0) = h.high
         AND coalesce((s.summary->'segments'->>'medium')::bigint, 0) = h.medium
         AND coalesce((s.summary->'segments'->>'low')::bigint, 0) = h.low
           AS agrees_with_count
FROM (SELECT credit.risk_summary(ROW(credit_score, default_probability, segment,
                                     dsr, monthly_installment, dsr_points,
                                     acr_points, tenor_points, persona, reasons,
                                     recommendation)::credit.score_result) AS summary
      FROM golden_scored) AS s,
     (SELECT count(*) AS total,
             count(*) FILTER (WHERE segment = 'high') AS high,
             count(*) FILTER (WHERE segment = 'medium') AS medium,
             count(*) FILTER (WHERE segment = 'low') AS low
      FROM golden_scored) AS h;

DROP TABLE golden_scored;
DROP TABLE golden;
