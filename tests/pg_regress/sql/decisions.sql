--
-- decisions: instant approve / review / decline with the reasons behind it
-- (SPEC section 9), from the same evaluation as the score.
--
-- The reference policy (the `decision` block of the reference scorecard):
--   decline  when income <= 0 (no_income), or installment / income > 0.60
--            (dsr_over_60, compared exactly), or score < 450
--            (score_under_450); every rule that applies is named, in that
--            order;
--   approve  otherwise, when score >= 550 and installment / income <= 0.40;
--   review   otherwise, naming what stood in the way: score_under_550,
--            dsr_over_40 (in that order).
-- reference/exact_engine.py (decide) is normative; tests/decision_vectors.csv
-- holds 2,000 of its decisions.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- The three examples of the old service.
--

-- 5,000,000 / 20,000,000 / 10,000,000 / 12 months: score 600, dsr 0.19
-- => approve, nothing stood in the way.
SELECT * FROM credit.decide(5000000, 20000000, 10000000, 12);

-- 10,000,000 / 5,000,000 / 50,000,000 / 24 months: score 420 (< 450), dsr
-- 0.24 => decline for the score alone.
SELECT * FROM credit.decide(10000000, 5000000, 50000000, 24);

-- 2,000,000 / 0 / 10,000,000 / 6 months: dsr 0.96 (> 0.60) and score 300
-- (< 450) => decline, both rules named, dsr first.
SELECT * FROM credit.decide(2000000, 0, 10000000, 6);

-- Named notation, and the reference scorecard named explicitly: same answer.
SELECT * FROM credit.decide(monthly_income => 5000000, assets => 20000000,
                            loan_amount => 10000000, tenor_months => 12,
                            scorecard => 'reference');

-- One field of the composite.
SELECT (credit.decide(5000000, 20000000, 10000000, 12)).decision;

--
-- The policy's edges, decided exactly.  installment = amount x 1.15 / tenor;
-- the DSR limits are compared cross-multiplied, so "exactly 0.40" is not
-- over 0.40, and one millionth (or 10^-20) of income more or less moves the
-- application across.  Expected values from reference/exact_engine.py.
--
SELECT v.n, v.probe, d.decision, d.decision_reasons, d.credit_score, d.segment,
       (d.decision, d.decision_reasons::text, d.credit_score)
         = (v.expected_decision, v.expected_reasons, v.expected_score) AS as_expected
FROM (VALUES
  -- DSR 0.40 = 115 / 287.5: 100 DSR points, 550 in all => approve; just over
  -- 0.40 costs the DSR band (0 points, 450) => review, both obstacles named.
  ( 1, 'dsr = 0.40 exactly (115 / 287.5)',      287.5::numeric, 1000::numeric, 100::numeric, 1,
       'approve', '{}', 550),
  ( 2, 'dsr just over 0.40',                    287.499999,     1000,          100,          1,
       'review',  '{score_under_550,dsr_over_40}', 450),
  ( 3, 'dsr just under 0.40 (10^-20 more income)', 287.50000000000000000001, 1000, 100,        1,
       'approve', '{}', 550),
  ( 4, 'dsr over 0.40 by 10^-20 of income',     287.49999999999999999999, 1000, 100,          1,
       'review',  '{score_under_550,dsr_over_40}', 450),
  -- DSR 0.60 = 138 / 230: not over the decline limit, so only the score
  -- (300: any DSR over 0.50 costs 150 points) declines it; just over 0.60
  -- names dsr_over_60 as well.
  ( 5, 'dsr = 0.60 exactly (138 / 230)',        230,            1000,          120,          1,
       'decline', '{score_under_450}', 300),
  ( 6, 'dsr just over 0.60',                    229.999999,     1000,          120,          1,
       'decline', '{dsr_over_60,score_under_450}', 300),
  ( 7, 'dsr under 0.60 by 10^-20 of income',    230.00000000000000000001, 1000, 120,          1,
       'decline', '{score_under_450}', 300),
  ( 8, 'dsr over 0.60 by 10^-20 of income',     229.99999999999999999999, 1000, 120,          1,
       'decline', '{dsr_over_60,score_under_450}', 300),
  -- the float engine's edge case: dsr 0.3000...0261 (100 points) => 550
  ( 9, 'float edge case: dsr just over 0.30',   383.3333333333333333, 1000, 100,              1,
       'approve', '{}', 550),
  -- scores on the edges of the policy: 450 is not declined, 550 is approved
  -- (dsr 0.000115: 150 points; no assets: -50; tenor 1: 50, tenor 13: 20)
  (10, 'score 450 (no assets): review',         1000000,        0,             100,          1,
       'review',  '{score_under_550}', 450),
  (11, 'score 420 (< 450): decline',            1000000,        0,             100,          13,
       'decline', '{score_under_450}', 420),
  (12, 'score 550 (acr 0.8 exactly): approve',  1000000,        80,            100,          1,
       'approve', '{}', 550),
  (13, 'score 600, the best there is',          1000000,        1000,          100,          1,
       'approve', '{}', 600),
  -- no income: declined whatever else; the DSR limits are not named
  (14, 'no income',                             0,              1000,          100,          1,
       'decline', '{no_income,score_under_450}', 300),
  (15, 'no income, no loan',                    0,              0,             0,            1,
       'decline', '{no_income,score_under_450}', 300),
  -- no loan: installment 0, dsr 0 (150) but no ACR points (0) => 500
  (16, 'zero loan amount',                      1000,           0,             0,            1,
       'review',  '{score_under_550}', 500)
) AS v(n, probe, monthly_income, assets, loan_amount, tenor_months,
       expected_decision, expected_reasons, expected_score)
CROSS JOIN LATERAL credit.decide(v.monthly_income, v.assets,
                                 v.loan_amount, v.tenor_months) AS d
ORDER BY v.n;

--
-- All 2,000 decision vectors (tests/decision_vectors.csv, made by
-- reference/make_decision_vectors.py), field by field.
--
-- pg_regress exports the input directory (tests/pg_regress); the vectors
-- live one level up.  \copy reads them on the client.
\getenv abs_srcdir PG_ABS_SRCDIR
\cd :abs_srcdir

CREATE TEMP TABLE decision_vectors (
    line             serial PRIMARY KEY,   -- data line in the CSV, from 1
    monthly_income   text,
    assets           text,
    loan_amount      text,
    tenor_months     text,
    decision         text,
    decision_reasons text,
    credit_score     text
);

\copy decision_vectors (monthly_income, assets, loan_amount, tenor_months, decision, decision_reasons, credit_score) FROM '../decision_vectors.csv' WITH (FORMAT csv, HEADER true)

CREATE TEMP TABLE decided AS
SELECT v.line, v.monthly_income, v.assets, v.loan_amount, v.tenor_months,
       v.decision         AS exp_decision,
       v.decision_reasons AS exp_decision_reasons,
       v.credit_score     AS exp_credit_score,
       d.*
FROM decision_vectors v
CROSS JOIN LATERAL credit.decide(v.monthly_income::numeric, v.assets::numeric,
                                 v.loan_amount::numeric, v.tenor_months::integer) AS d;

-- One mismatch counter per field (reasons compared as text[] and as the
-- text the CSV holds, so {} vs NULL or a different order is caught); every
-- counter must be 0 and the row count 2000.
\x on
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE decision IS DISTINCT FROM exp_decision)
           AS decision,
       count(*) FILTER (WHERE decision_reasons IS DISTINCT FROM exp_decision_reasons::text[])
           AS decision_reasons,
       count(*) FILTER (WHERE decision_reasons::text IS DISTINCT FROM exp_decision_reasons)
           AS decision_reasons_text,
       count(*) FILTER (WHERE credit_score IS DISTINCT FROM exp_credit_score::integer)
           AS credit_score,
       count(*) FILTER (WHERE scorecard IS DISTINCT FROM 'reference')
           AS scorecard
FROM decided;

-- The first mismatching vectors, if any (expect no rows).
SELECT line, monthly_income, assets, loan_amount, tenor_months,
       exp_decision || ' ' || exp_decision_reasons || ' ' || exp_credit_score AS expected,
       coalesce(decision || ' ' || decision_reasons::text || ' ' || credit_score, '(null)') AS got
FROM decided
WHERE (decision, decision_reasons::text, credit_score)
      IS DISTINCT FROM (exp_decision, exp_decision_reasons, exp_credit_score::integer)
ORDER BY line
LIMIT 10;
\x off

-- The vectors cover every decision and every combination of reasons the
-- reference policy can give.
SELECT exp_decision AS decision, exp_decision_reasons AS decision_reasons,
       count(*) AS vectors
FROM decided
GROUP BY exp_decision, exp_decision_reasons
ORDER BY exp_decision COLLATE "C", exp_decision_reasons COLLATE "C";

-- The same vectors through the named reference scorecard.  Expect 0.
SELECT count(*) AS named_reference_differs
FROM decided d
WHERE credit.decide(d.monthly_income::numeric, d.assets::numeric,
                    d.loan_amount::numeric, d.tenor_months::integer, 'reference')
      IS DISTINCT FROM ROW(d.decision, d.decision_reasons, d.credit_score,
                           d.segment, d.scorecard)::credit.decision_result;

-- explain_score carries the same decision in its JSON.  Expect 0.
SELECT count(*) AS explain_differs
FROM decided d
CROSS JOIN LATERAL credit.explain_score(d.monthly_income::numeric, d.assets::numeric,
                                        d.loan_amount::numeric,
                                        d.tenor_months::integer) AS e(j)
WHERE j->>'decision' IS DISTINCT FROM d.decision
   OR j->'decision_reasons' IS DISTINCT FROM to_jsonb(d.decision_reasons);

DROP TABLE decided;
DROP TABLE decision_vectors;

--
-- decide and score_credit agree on the score and segment they share, over
-- the 3,000 golden vectors (tests/golden_vectors.csv).  Expect 0, 0.
--
CREATE TEMP TABLE golden (
    line                serial PRIMARY KEY,
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

SELECT count(*) AS vectors,
       count(*) FILTER (WHERE d.credit_score IS DISTINCT FROM s.credit_score
                           OR d.credit_score IS DISTINCT FROM g.credit_score::integer)
           AS credit_score_differs,
       count(*) FILTER (WHERE d.segment IS DISTINCT FROM s.segment
                           OR d.segment IS DISTINCT FROM g.segment)
           AS segment_differs
FROM golden g
CROSS JOIN LATERAL credit.score_credit(g.monthly_income::numeric, g.assets::numeric,
                                       g.loan_amount::numeric, g.tenor_months::integer) AS s
CROSS JOIN LATERAL credit.decide(g.monthly_income::numeric, g.assets::numeric,
                                 g.loan_amount::numeric, g.tenor_months::integer) AS d;

-- How the golden portfolio would be decided.
SELECT d.decision, count(*) AS applications
FROM golden g
CROSS JOIN LATERAL credit.decide(g.monthly_income::numeric, g.assets::numeric,
                                 g.loan_amount::numeric, g.tenor_months::integer) AS d
GROUP BY d.decision
ORDER BY d.decision COLLATE "C";

DROP TABLE golden;

--
-- explain_score gains decision and decision_reasons (a JSON string and a
-- JSON array, empty when approved).
--
SELECT v.n, j->'credit_score' AS credit_score, j->'decision' AS decision,
       j->'decision_reasons' AS decision_reasons,
       jsonb_typeof(j->'decision_reasons') AS reasons_type
FROM (VALUES (1, 5000000::numeric, 20000000::numeric, 10000000::numeric, 12),
             (2, 10000000, 5000000, 50000000, 24),
             (3, 2000000, 0, 10000000, 6),
             (4, 287.499999, 1000, 100, 1)) AS v(n, i, a, l, t)
CROSS JOIN LATERAL credit.explain_score(v.i, v.a, v.l, v.t) AS e(j)
ORDER BY v.n;

--
-- Errors and NULLs: decide behaves exactly like score_credit (same
-- SQLSTATEs, same messages; STRICT, so NULL in gives NULL out).
--
SELECT * FROM credit.decide(-5, 20000000, 10000000, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 20000000, 10000000, 0);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 'NaN', 10000000, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 20000000, '-Infinity', 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 20000000, 1e16, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(0.1234567890123456789012345, 20000000, 10000000, 12);
\echo SQLSTATE :SQLSTATE
-- The named variant: the same, plus 42704 for a scorecard that does not exist.
SELECT * FROM credit.decide(5000000, 20000000, 10000000, 0, 'reference');
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 20000000, 10000000, 12, 'no_such_scorecard');
\echo SQLSTATE :SQLSTATE

-- Case by case, decide raises what score_credit raises (same SQLSTATE and
-- same message).  Expect same = t on every row.
CREATE FUNCTION pg_temp.error_of(sql text, OUT err_sqlstate text, OUT err_message text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    err_sqlstate := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_sqlstate = RETURNED_SQLSTATE,
                            err_message  = MESSAGE_TEXT;
END
$$;

SELECT v.n, v.label, s.err_sqlstate AS sqlstate,
       (d.err_sqlstate, d.err_message) IS NOT DISTINCT FROM (s.err_sqlstate, s.err_message)
           AS same,
       (n.err_sqlstate, n.err_message) IS NOT DISTINCT FROM (s.err_sqlstate, s.err_message)
           AS same_named
FROM (VALUES
  (1, 'negative income',   '-5, 20000000, 10000000, 12'),
  (2, 'negative assets',   '5000000, -1, 10000000, 12'),
  (3, 'negative amount',   '5000000, 20000000, -100, 12'),
  (4, 'tenor 0',           '5000000, 20000000, 10000000, 0'),
  (5, 'NaN income',        '''NaN'', 20000000, 10000000, 12'),
  (6, 'Infinity assets',   '5000000, ''Infinity'', 10000000, 12'),
  (7, '1e16 amount',       '5000000, 20000000, 1e16, 12'),
  (8, '21 decimal places', '5000000, 0.000000000000000000001, 10000000, 12'),
  (9, 'valid',             '5000000, 20000000, 10000000, 12')
) AS v(n, label, args)
CROSS JOIN LATERAL pg_temp.error_of(format('SELECT credit.score_credit(%s)', v.args)) AS s
CROSS JOIN LATERAL pg_temp.error_of(format('SELECT credit.decide(%s)', v.args)) AS d
CROSS JOIN LATERAL pg_temp.error_of(format('SELECT credit.decide(%s, %L)', v.args, 'reference')) AS n
ORDER BY v.n;

-- STRICT: a NULL in any argument gives NULL, not an error (the last row
-- only concerns the named variant: the 4-argument decide has no scorecard).
SELECT v.null_argument,
       credit.decide(v.monthly_income, v.assets, v.loan_amount, v.tenor_months) IS NULL
           AS result_is_null,
       credit.decide(v.monthly_income, v.assets, v.loan_amount, v.tenor_months, v.scorecard) IS NULL
           AS named_result_is_null
FROM (VALUES
  (1, 'monthly_income', NULL::numeric, 20000000::numeric, 10000000::numeric, 12,            'reference'),
  (2, 'assets',         5000000,       NULL,              10000000,          12,            'reference'),
  (3, 'loan_amount',    5000000,       20000000,          NULL,              12,            'reference'),
  (4, 'tenor_months',   5000000,       20000000,          10000000,          NULL::integer, 'reference'),
  (5, 'scorecard',      5000000,       20000000,          10000000,          12,            NULL::text)
) AS v(n, null_argument, monthly_income, assets, loan_amount, tenor_months, scorecard)
ORDER BY v.n;

--
-- A table with scoring enabled gets a decision column: an application is
-- approved, declined or sent to review the moment it is inserted, and the
-- decision follows every rescoring.
--
CREATE TABLE decide_applications (
    id             integer PRIMARY KEY,
    applicant      text NOT NULL,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('decide_applications');

-- The column is there, of type text, next to the score columns.
SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = 'decide_applications'::regclass AND a.attname = 'decision'
  AND NOT a.attisdropped;

INSERT INTO decide_applications VALUES
  (1, 'Ayu',   5000000,  20000000, 10000000, 12),   -- 600: approve
  (2, 'Budi',  10000000, 5000000,  50000000, 24),   -- 420: decline {score_under_450}
  (3, 'Citra', 2000000,  0,        10000000, 6),    -- 300: decline {dsr_over_60,score_under_450}
  (4, 'Dewi',  287.499999, 1000,   100,      1),    -- 450: review {score_under_550,dsr_over_40}
  (5, 'Eko',   NULL,     NULL,     2500000,  60),   -- no income (NULL as 0): decline
  (6, 'Fajar', 7500000,  20000000, NULL,     12);   -- no amount: not scored, not decided

SELECT id, applicant, credit_score, segment, decision
FROM decide_applications
ORDER BY id;

-- The decision column agrees with credit.decide on the same inputs (NULL
-- income and assets counted as 0, as the triggers do).  Expect 0.
SELECT count(*) AS disagreeing_rows
FROM decide_applications a
WHERE a.decision IS DISTINCT FROM
      (credit.decide(coalesce(a.monthly_income, 0), coalesce(a.assets_value, 0),
                     a.loan_amount, a.tenor_months)).decision;

-- Kept current on UPDATE: Dewi earns a little more (dsr exactly 0.40 =>
-- approve), Ayu stretches her loan to 48 months (600 - 100 = 500 => review
-- {score_under_550}), Fajar's amount arrives (10,000,000 over 12 months
-- against 7,500,000 and assets x2 => 600, approve).
UPDATE decide_applications SET monthly_income = 287.5 WHERE id = 4;
UPDATE decide_applications SET tenor_months = 48 WHERE id = 1;
UPDATE decide_applications SET loan_amount = 10000000 WHERE id = 6;
-- An unrelated update neither rescores nor changes the decision.
UPDATE decide_applications SET applicant = 'Budi Santoso' WHERE id = 2;

SELECT id, applicant, credit_score, segment, decision
FROM decide_applications
ORDER BY id;

-- History records every decision and the rules behind it, next to the
-- score and the scorecard that made them (ids differ between runs; the order
-- of the rows is the order of the scorings).
SELECT h.row_key, h.monthly_income, h.loan_amount, h.tenor_months,
       h.credit_score, h.decision, h.decision_reasons, h.scorecard
FROM credit.score_history h
WHERE h.table_name = 'public.decide_applications'
ORDER BY h.row_key::integer, h.id;

-- History agrees with credit.decide on every decided row.  Expect 0.
SELECT count(*) AS decided_in_history,
       count(*) FILTER (WHERE (h.decision, h.decision_reasons, h.credit_score)
                              IS DISTINCT FROM (d.decision, d.decision_reasons, d.credit_score))
           AS history_disagrees
FROM credit.score_history h
CROSS JOIN LATERAL credit.decide(h.monthly_income, h.assets, h.loan_amount,
                                 h.tenor_months, h.scorecard) AS d
WHERE h.table_name = 'public.decide_applications'
  AND h.credit_score IS NOT NULL;

--
-- The BI views.
--

-- current_scores: the latest decision of every row, reasons as one text
-- column (comma-separated; empty when approved, NULL when not decided).
SELECT row_key, credit_score, segment, decision, decision_reasons,
       pg_typeof(decision_reasons) AS reasons_type
FROM credit.current_scores
WHERE table_name = 'public.decide_applications'
ORDER BY row_key::integer;

-- portfolio_summary: the share of loans decided without a person (approve
-- or decline) per segment.  Latest decisions: high = Budi (decline), Citra
-- (decline), Eko (decline), Ayu (review) => 3/4 = 0.75; medium = Dewi,
-- Fajar (approve) => 1.
SELECT segment, loans, automation_rate
FROM credit.portfolio_summary
WHERE table_name = 'public.decide_applications'
ORDER BY segment COLLATE "C";

-- decision_summary: per table and day, every scoring of a row counts as a
-- decision (6 inserted, 1 of them undecided, and 3 rescorings: 8 decided).
-- approved: Ayu, Dewi (after), Fajar (after) = 3; reviewed: Dewi (before),
-- Ayu (after) = 2; declined: Budi, Citra, Eko = 3; undecided: Fajar (before)
-- = 1; automation rate (3 + 3) / 9 = 0.6667.
SELECT day = current_date AS today, approved, reviewed, declined, undecided,
       automation_rate
FROM credit.decision_summary
WHERE table_name = 'public.decide_applications';

-- The view's columns are plain types a BI tool reads.
SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = 'credit.decision_summary'::regclass AND a.attnum > 0
ORDER BY a.attnum;

DROP TABLE decide_applications;
