--
-- scorecards: scorecards as data (SPEC section 6).
--
-- A risk team tunes weights, bands, thresholds and the decision policy
-- (SPEC section 9) as JSON in credit.scorecards, without recompiling:
--   * the `reference` scorecard is installed with the extension and is what
--     the 4-argument score_credit computes;
--   * credit.score_credit(..., scorecard) / credit.decide(..., scorecard)
--     score with a named one; enable_scoring(..., scorecard => name) uses one;
--   * definitions are validated on the way in (22023, naming the JSON path);
--   * a scorecard in use is immutable (55000): a change is a new name, and
--     history records which one scored;
--   * credit.lint_scorecard(jsonb) says what a scorecard can and cannot reach.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- The reference scorecard.
--

-- Installed with the extension, in use from the start.
SELECT name, description, first_used_at IS NOT NULL AS in_use,
       definition = credit.reference_scorecard() AS is_reference_definition
FROM credit.scorecards
WHERE name = 'reference';

-- Its definition, as a risk analyst reads it: the weights of SPEC section 1
-- and the decision policy of SPEC section 9.
SELECT jsonb_pretty(credit.reference_scorecard());

-- Stored in canonical form: validating it changes nothing.
SELECT credit.check_scorecard(credit.reference_scorecard()) = credit.reference_scorecard()
       AS canonical;

-- Every golden vector scored by name ('reference') and by the 4-argument
-- function: the same composite, field by field, and both as the CSV says.
-- A copy of the reference definition under another name is read from the
-- table and compiled from its JSON (the 'reference' name itself may be
-- served by the built-in), so it proves the JSON round trip too.
INSERT INTO credit.scorecards (name, definition, description)
VALUES ('reference_copy', credit.reference_scorecard(),
        'The reference definition under another name');

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

CREATE TEMP TABLE golden_by_name AS
SELECT g.*,
       credit.score_credit(g.monthly_income::numeric, g.assets::numeric,
                           g.loan_amount::numeric, g.tenor_months::integer) AS builtin,
       credit.score_credit(g.monthly_income::numeric, g.assets::numeric,
                           g.loan_amount::numeric, g.tenor_months::integer,
                           'reference') AS by_reference,
       credit.score_credit(g.monthly_income::numeric, g.assets::numeric,
                           g.loan_amount::numeric, g.tenor_months::integer,
                           'reference_copy') AS by_copy
FROM golden g;

-- Expect 3000 vectors and 0 in every other column.  "*_vs_csv" compares
-- every field, as text, with the expected values of the CSV.
\x on
SELECT count(*) AS vectors,
       count(*) FILTER (WHERE by_reference IS DISTINCT FROM builtin) AS reference_vs_builtin,
       count(*) FILTER (WHERE by_copy IS DISTINCT FROM builtin) AS copy_vs_builtin,
       count(*) FILTER (WHERE by_reference::text IS DISTINCT FROM builtin::text)
           AS reference_vs_builtin_text,
       count(*) FILTER (WHERE by_copy::text IS DISTINCT FROM builtin::text)
           AS copy_vs_builtin_text,
       count(*) FILTER (WHERE ((by_reference).credit_score, (by_reference).default_probability::text,
                               (by_reference).segment, (by_reference).dsr::text,
                               (by_reference).monthly_installment::text, (by_reference).dsr_points,
                               (by_reference).acr_points, (by_reference).tenor_points,
                               (by_reference).persona, (by_reference).reasons::text,
                               (by_reference).recommendation)
                              IS DISTINCT FROM
                              (credit_score::integer, default_probability, segment, dsr,
                               monthly_installment, dsr_points::integer, acr_points::integer,
                               tenor_points::integer, persona, reasons, recommendation))
           AS reference_vs_csv,
       count(*) FILTER (WHERE ((by_copy).credit_score, (by_copy).default_probability::text,
                               (by_copy).segment, (by_copy).dsr::text,
                               (by_copy).monthly_installment::text, (by_copy).dsr_points,
                               (by_copy).acr_points, (by_copy).tenor_points,
                               (by_copy).persona, (by_copy).reasons::text,
                               (by_copy).recommendation)
                              IS DISTINCT FROM
                              (credit_score::integer, default_probability, segment, dsr,
                               monthly_installment, dsr_points::integer, acr_points::integer,
                               tenor_points::integer, persona, reasons, recommendation))
           AS copy_vs_csv
FROM golden_by_name;

-- The first differing vectors, if any (expect no rows).
SELECT line, monthly_income, assets, loan_amount, tenor_months,
       builtin::text AS builtin, by_reference::text AS by_reference, by_copy::text AS by_copy
FROM golden_by_name
WHERE by_reference::text IS DISTINCT FROM builtin::text
   OR by_copy::text IS DISTINCT FROM builtin::text
ORDER BY line
LIMIT 10;
\x off

-- The decisions of the copy agree with the built-in ones.  Expect 0.
SELECT count(*) AS decisions_differ
FROM golden g
WHERE (credit.decide(g.monthly_income::numeric, g.assets::numeric,
                     g.loan_amount::numeric, g.tenor_months::integer, 'reference_copy')).decision_reasons
      IS DISTINCT FROM
      (credit.decide(g.monthly_income::numeric, g.assets::numeric,
                     g.loan_amount::numeric, g.tenor_months::integer)).decision_reasons;

DROP TABLE golden_by_name;
DROP TABLE golden;

--
-- A custom scorecard: tighter DSR bands, a 20 % margin, and a decision
-- policy that declines above 0.55 and approves up to 0.35.  Only the keys
-- given replace the reference's (|| merges top-level keys).
--
--   margin_rate  0.20      installment = amount x 1.20 / tenor
--   dsr bands    <= 0.25: 150, <= 0.35: 100, <= 0.45: 0, above: -100
--                (reason codes dsr_over_25, dsr_over_35, dsr_over_45)
--   decision     decline: no income, dsr > 0.55 (dsr_over_55), score < 350
--                (score_under_350); approve: score >= 550 and dsr <= 0.35;
--                else review (score_under_550, dsr_over_35)
--   the rest     as reference: acr >= 1.2: 100, >= 0.8: 50, else -50;
--                tenor <= 12: 50, ...; base 300, bounds 300..850; segments,
--                default probabilities and personas.
--
INSERT INTO credit.scorecards (name, definition, description)
VALUES ('tight_dsr',
        credit.reference_scorecard() || '{
          "margin_rate": 0.20,
          "dsr": {"no_income_points": -200,
                  "bands": [{"max_ratio": 0.25, "points": 150},
                            {"max_ratio": 0.35, "points": 100},
                            {"max_ratio": 0.45, "points": 0}],
                  "above_points": -100},
          "decision": {"decline_without_income": true,
                       "decline_dsr_above": 0.55,
                       "decline_score_below": 350,
                       "approve_score_at_least": 550,
                       "approve_dsr_at_most": 0.35}
        }',
        'Tighter DSR bands, 20 % margin, decline above 0.55');

SELECT name, first_used_at IS NOT NULL AS in_use,
       definition->'margin_rate' AS margin_rate,
       definition->'dsr' AS dsr,
       definition->'decision' AS decision
FROM credit.scorecards
WHERE name = 'tight_dsr';

-- Worked examples.  Income 12,000, assets 100,000, tenor 1 month, so
--   installment = 1.20 x amount,  dsr = 1.20 x amount / 12,000 = amount / 10,000,
--   acr = 100,000 / amount >= 1.2 (+100),  tenor 1 (+50),
--   score = 300 + dsr points + 100 + 50 = 450 + dsr points.
-- With reference weights the same loan costs 1.15 x amount a month.
--
--   amount        tight_dsr: dsr        points  score  decision
--   2500          0.25 exactly           150     600    approve
--   2500.000001   0.2500000001           100     550    approve (dsr <= 0.35)
--   3500          0.35 exactly           100     550    approve
--   3500.000001   0.3500000001             0     450    review {score_under_550,dsr_over_35}
--   4500          0.45 exactly             0     450    review {score_under_550,dsr_over_35}
--   4500.000001   0.4500000001          -100     350    review (350 is not < 350)
--   5500          0.55 exactly          -100     350    review (0.55 is not > 0.55)
--   5500.000001   0.5500000001          -100     350    decline {dsr_over_55}
-- installment 1.2 x 2500 = 3000.00 ... 1.2 x 5500.000001 = 6600.0000012 -> 6600.00;
-- default probability 0.15 from 550, else 0.40; segment medium from 550.
SELECT v.amount, s.credit_score AS score, s.default_probability AS pd, s.segment,
       s.dsr, s.monthly_installment, s.dsr_points, s.reasons, s.recommendation
FROM (VALUES (1, 2500::numeric), (2, 2500.000001), (3, 3500), (4, 3500.000001),
             (5, 4500), (6, 4500.000001), (7, 5500), (8, 5500.000001)) AS v(n, amount)
CROSS JOIN LATERAL credit.score_credit(12000, 100000, v.amount, 1, 'tight_dsr') AS s
ORDER BY v.n;

-- The same applications decided by both scorecards.  Reference: dsr =
-- 1.15 x amount / 12,000, so 0.2396, 0.2396, 0.3354, 0.3354, 0.4313, 0.4313,
-- 0.5271, 0.5271: points 150, 150, 100, 100, 0, 0, -150, -150.
SELECT v.amount,
       t.credit_score AS tight_score, t.decision AS tight_decision,
       t.decision_reasons AS tight_reasons,
       r.credit_score AS ref_score, r.decision AS ref_decision,
       r.decision_reasons AS ref_reasons
FROM (VALUES (1, 2500::numeric), (2, 2500.000001), (3, 3500), (4, 3500.000001),
             (5, 4500), (6, 4500.000001), (7, 5500), (8, 5500.000001)) AS v(n, amount)
CROSS JOIN LATERAL credit.decide(12000, 100000, v.amount, 1, 'tight_dsr') AS t
CROSS JOIN LATERAL credit.decide(12000, 100000, v.amount, 1) AS r
ORDER BY v.n;

-- More of the policy:
--   no income: -200 + 100 + 50 = -50 -> 300 => decline {no_income,score_under_350}
--   income 12,000, assets 1,000,000, amount 48 x 5500.000001 over 48
--     months: installment 1.2 x 5500.000001, dsr 0.5500000001 (-100), acr
--     3.79 (+100), tenor 48 (-50) => -50 -> 300
--     => decline {dsr_over_55,score_under_350}
--   income 12,000, assets 0, amount 2,500, tenor 12: dsr 0.25 (150),
--     acr 0 (-50), tenor 12 (50) => 450: review {score_under_550}
SELECT v.probe, d.*
FROM (VALUES (1, 'no income',                0::numeric, 100000::numeric, 1000::numeric, 1),
             (2, 'dsr over 0.55, 48 months', 12000, 1000000, 5500.000001 * 48, 48),
             (3, 'no assets',                12000, 0, 2500 * 12, 12)) AS v(n, probe, i, a, l, t)
CROSS JOIN LATERAL credit.decide(v.i, v.a, v.l, v.t, 'tight_dsr') AS d
ORDER BY v.n;

-- The scorecard name is part of the result.
SELECT (credit.decide(12000, 100000, 2500, 1, 'tight_dsr')).scorecard;

--
-- Definitions are validated on the way in: 22023, naming the JSON path of
-- the offending value.  check_scorecard (what the table's trigger calls)
-- and INSERT say the same.
--

-- A wrong type: a number given as a JSON string.
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{base_points}', '"300"'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{dsr,bands,1,points}', '"100"'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{dsr,bands,1,max_ratio}', 'true'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{base_points}', '300.5'));
\echo SQLSTATE :SQLSTATE

-- An unknown key (a typo must not be ignored silently).
SELECT credit.check_scorecard(credit.reference_scorecard() || '{"margin": 0.20}');
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{tenor,bands,0,max_month}', '12'));
\echo SQLSTATE :SQLSTATE

-- Bands out of order, and overlapping (the same edge twice).
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{dsr,bands}',
    '[{"max_ratio": 0.40, "points": 100}, {"max_ratio": 0.30, "points": 150}]'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{dsr,bands}',
    '[{"max_ratio": 0.30, "points": 150}, {"max_ratio": 0.30, "points": 100}]'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{acr,bands}',
    '[{"min_ratio": 0.8, "points": 50}, {"min_ratio": 1.2, "points": 100}]'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{tenor,bands}',
    '[{"max_months": 24, "points": 20}, {"max_months": 12, "points": 50}]'));
\echo SQLSTATE :SQLSTATE

-- min > max.
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{score_bounds}',
    '{"min": 900, "max": 850}'));
\echo SQLSTATE :SQLSTATE

-- A missing field, at the top and inside the decision policy.
SELECT credit.check_scorecard(credit.reference_scorecard() - 'tenor');
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(credit.reference_scorecard() #- '{decision,approve_dsr_at_most}');
\echo SQLSTATE :SQLSTATE

-- Values out of range: a negative margin, more than 6 decimal places.
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{margin_rate}', '-0.1'));
\echo SQLSTATE :SQLSTATE
SELECT credit.check_scorecard(jsonb_set(credit.reference_scorecard(), '{decision,decline_dsr_above}', '0.1234567'));
\echo SQLSTATE :SQLSTATE

-- INSERT runs the same validation, and nothing is stored.
INSERT INTO credit.scorecards (name, definition)
VALUES ('typo', credit.reference_scorecard() || '{"margin": 0.20}');
\echo SQLSTATE :SQLSTATE
INSERT INTO credit.scorecards (name, definition)
VALUES ('unsorted', jsonb_set(credit.reference_scorecard(), '{dsr,bands}',
    '[{"max_ratio": 0.40, "points": 100}, {"max_ratio": 0.30, "points": 150}]'));
\echo SQLSTATE :SQLSTATE
SELECT count(*) AS stored FROM credit.scorecards WHERE name IN ('typo', 'unsorted');

-- Exactness of the definition itself: a band edge or rate with more than 6
-- decimal places is rejected, whether written as a JSON number or a JSON
-- string -- never silently rounded to a nearby value (0.3000...01 must not
-- become 0.30; SPEC section 1: decimal arithmetic only, never f64).
-- Each row: the SQLSTATE and whether the message names the JSON path.
-- Expect 22023 and t on every row.
CREATE FUNCTION pg_temp.check_error(definition jsonb, OUT err_sqlstate text, OUT err_message text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credit.check_scorecard(definition);
    err_sqlstate := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_sqlstate = RETURNED_SQLSTATE,
                            err_message  = MESSAGE_TEXT;
END
$$;

SELECT v.n, v.probe, e.err_sqlstate AS sqlstate,
       strpos(coalesce(e.err_message, ''), v.path) > 0 AS names_path
FROM (VALUES
  (1, 'max_ratio 0.30000000000000000001 (number)', '{dsr,bands,0,max_ratio}', '0.30000000000000000001'::jsonb,
      '$.dsr.bands[0].max_ratio'),
  (2, 'max_ratio 0.30000000000000000001 (string)', '{dsr,bands,0,max_ratio}', '"0.30000000000000000001"',
      '$.dsr.bands[0].max_ratio'),
  (3, 'margin_rate 0.15000000000000001 (number)', '{margin_rate}', '0.15000000000000001',
      '$.margin_rate'),
  (4, 'decline_dsr_above 0.6000000000000000001 (number)', '{decision,decline_dsr_above}', '0.6000000000000000001',
      '$.decision.decline_dsr_above'),
  (5, 'margin_rate 0.1500001 (number)', '{margin_rate}', '0.1500001',
      '$.margin_rate')
) AS v(n, probe, at, value, path)
CROSS JOIN LATERAL pg_temp.check_error(jsonb_set(credit.reference_scorecard(), v.at::text[], v.value)) AS e
ORDER BY v.n;

-- Fields left out where a default is documented: a definition without a
-- decision block gets the reference policy, stored in canonical form.
INSERT INTO credit.scorecards (name, definition, description)
VALUES ('no_policy', credit.reference_scorecard() - 'decision', 'Reference weights, no decision block');
SELECT name, definition->'decision' = credit.reference_scorecard()->'decision' AS reference_policy,
       definition = credit.reference_scorecard() AS same_as_reference
FROM credit.scorecards
WHERE name = 'no_policy';

-- Scorecard names are identifiers (letters, digits, _ . -).
\set VERBOSITY terse
INSERT INTO credit.scorecards (name, definition) VALUES ('bad name!', credit.reference_scorecard());
\echo SQLSTATE :SQLSTATE
\set VERBOSITY default

--
-- Unknown scorecard names: 42704 (undefined_object), from every entry point.
--
SELECT * FROM credit.score_credit(5000000, 20000000, 10000000, 12, 'no_such_scorecard');
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.decide(5000000, 20000000, 10000000, 12, 'no_such_scorecard');
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(5000000, 20000000, 10000000, 12, 'Reference');
\echo SQLSTATE :SQLSTATE

CREATE TABLE scorecard_applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('scorecard_applications', scorecard => 'no_such_scorecard');
\echo SQLSTATE :SQLSTATE

-- A NULL name is a NULL result (STRICT), not an error.
SELECT credit.score_credit(5000000, 20000000, 10000000, 12, NULL) IS NULL AS score_is_null,
       credit.decide(5000000, 20000000, 10000000, 12, NULL) IS NULL AS decision_is_null;

--
-- An unused scorecard can still be changed or removed, and the next call
-- scores with what is stored now (a backend's compiled copy is not stale).
--
INSERT INTO credit.scorecards (name, definition, description)
VALUES ('draft', credit.reference_scorecard(), 'Work in progress');
-- reference weights: 300 + 150 + 100 + 50 = 600
SELECT (credit.score_credit(5000000, 20000000, 10000000, 12, 'draft')).credit_score;
UPDATE credit.scorecards
SET definition = jsonb_set(definition, '{base_points}', '250')
WHERE name = 'draft';
-- base 250: 250 + 150 + 100 + 50 = 550
SELECT (credit.score_credit(5000000, 20000000, 10000000, 12, 'draft')).credit_score;
-- An update is validated like an insert.
UPDATE credit.scorecards
SET definition = jsonb_set(definition, '{base_points}', '"250"')
WHERE name = 'draft';
\echo SQLSTATE :SQLSTATE
DELETE FROM credit.scorecards WHERE name = 'draft';
SELECT (credit.score_credit(5000000, 20000000, 10000000, 12, 'draft')).credit_score;
\echo SQLSTATE :SQLSTATE

--
-- Scorecards in use are immutable (55000 object_not_in_prerequisite_state):
-- the reference one always, others once a table uses them.
--
UPDATE credit.scorecards SET definition = jsonb_set(definition, '{base_points}', '310')
WHERE name = 'reference';
\echo SQLSTATE :SQLSTATE
UPDATE credit.scorecards SET description = 'renamed' WHERE name = 'reference';
\echo SQLSTATE :SQLSTATE
DELETE FROM credit.scorecards WHERE name = 'reference';
\echo SQLSTATE :SQLSTATE

-- tight_dsr is not in use yet.
SELECT name, first_used_at IS NOT NULL AS in_use
FROM credit.scorecards WHERE name = 'tight_dsr';

-- A table scored by tight_dsr: the scorecard is in use from now on.
SELECT credit.enable_scoring('scorecard_applications', scorecard => 'tight_dsr');
SELECT name, first_used_at IS NOT NULL AS in_use
FROM credit.scorecards WHERE name = 'tight_dsr';
SELECT table_name, scorecard FROM credit.scored_tables
WHERE table_name = 'public.scorecard_applications';

UPDATE credit.scorecards SET definition = jsonb_set(definition, '{margin_rate}', '0.25')
WHERE name = 'tight_dsr';
\echo SQLSTATE :SQLSTATE
UPDATE credit.scorecards SET name = 'tight_dsr_v1' WHERE name = 'tight_dsr';
\echo SQLSTATE :SQLSTATE
DELETE FROM credit.scorecards WHERE name = 'tight_dsr';
\echo SQLSTATE :SQLSTATE
-- Nor can it be marked unused again.
UPDATE credit.scorecards SET first_used_at = NULL WHERE name = 'tight_dsr';
\echo SQLSTATE :SQLSTATE

-- An unused one can (reference_copy scored vectors above, but no table uses it).
UPDATE credit.scorecards SET description = 'Copy of the reference definition'
WHERE name = 'reference_copy';
DELETE FROM credit.scorecards WHERE name = 'no_policy';
SELECT name, description, first_used_at IS NOT NULL AS in_use
FROM credit.scorecards
WHERE name IN ('reference', 'reference_copy', 'no_policy', 'tight_dsr')
ORDER BY name COLLATE "C";

--
-- The table scored by tight_dsr, with the worked examples above as rows.
--
INSERT INTO scorecard_applications VALUES
  (1, 12000, 100000, 2500,        1),   -- 600 approve
  (2, 12000, 100000, 2500.000001, 1),   -- 550 approve, reasons {dsr_over_25}
  (3, 12000, 100000, 3500.000001, 1),   -- 450 review {score_under_550,dsr_over_35}
  (4, 12000, 100000, 5500.000001, 1),   -- 350 decline {dsr_over_55}
  (5, 0,     100000, 1000,        1);   -- 300 decline {no_income,score_under_350}

SELECT id, credit_score, default_probability, segment, decision
FROM scorecard_applications
ORDER BY id;

-- The row columns agree with score_credit / decide by the same scorecard.
-- Expect 0, 0.
SELECT count(*) FILTER (WHERE (a.credit_score, a.default_probability, a.segment)
                              IS DISTINCT FROM (s.credit_score, s.default_probability, s.segment))
           AS score_differs,
       count(*) FILTER (WHERE a.decision IS DISTINCT FROM d.decision) AS decision_differs
FROM scorecard_applications a
CROSS JOIN LATERAL credit.score_credit(a.monthly_income, a.assets_value, a.loan_amount,
                                       a.tenor_months, 'tight_dsr') AS s
CROSS JOIN LATERAL credit.decide(a.monthly_income, a.assets_value, a.loan_amount,
                                 a.tenor_months, 'tight_dsr') AS d;

-- History records which scorecard scored, with the decision it made.
SELECT row_key, loan_amount, credit_score, segment, decision, decision_reasons, scorecard
FROM credit.score_history
WHERE table_name = 'public.scorecard_applications'
ORDER BY row_key::integer, id;

-- current_scores shows the row as its own scorecard scored it: installment
-- and DSR with the 20 % margin (1.2 x 2500.000001 = 3000.00, dsr 0.25) and
-- tight_dsr's reason codes (dsr_over_25, dsr_over_35, dsr_over_45), not the
-- reference's (which would say 2875.00, 0.24 and no reason for row 2).
SELECT row_key, credit_score, dsr, monthly_installment, persona, reasons,
       recommendation, decision, decision_reasons, scorecard
FROM credit.current_scores
WHERE table_name = 'public.scorecard_applications'
ORDER BY row_key::integer;

-- Switching the table back to the reference scorecard (enable_scoring is
-- idempotent and rescoring what is there): every row is scored again, and
-- history shows both scorecards.  Reference, as computed above: 600
-- approve, 600 approve, 550 approve, 300 decline {score_under_450}, and
-- no income 300 decline {no_income,score_under_450}.  (The notices that
-- the score columns already exist are not the point here.)
SET client_min_messages = warning;
SELECT credit.enable_scoring('scorecard_applications');
RESET client_min_messages;
SELECT row_key, credit_score, decision, decision_reasons, scorecard
FROM credit.score_history
WHERE table_name = 'public.scorecard_applications'
ORDER BY row_key::integer, id;

-- tight_dsr stays immutable: history refers to it.
DELETE FROM credit.scorecards WHERE name = 'tight_dsr';
\echo SQLSTATE :SQLSTATE

DROP TABLE scorecard_applications;

--
-- lint_scorecard: what a scorecard can and cannot reach.
--

-- The reference weights reach 300..600 only (SPEC section 1): segment low
-- and the 1 % and 5 % default probabilities are unreachable, and review
-- always comes with score_under_550 (a DSR over 0.40 costs at least 100
-- points, so no score of 550 reaches review for its DSR alone).
SELECT l->'score_range' AS score_range,
       l->'unreachable_segments' AS unreachable_segments,
       l->'unreachable_default_probabilities' AS unreachable_default_probabilities,
       l->'unreachable_personas' AS unreachable_personas
FROM credit.lint_scorecard(credit.reference_scorecard()) AS l;

SELECT l->'decisions_always_with' AS decisions_always_with,
       l->'unreachable_decisions' AS unreachable_decisions,
       l->'unreachable_decision_codes' AS unreachable_decision_codes
FROM credit.lint_scorecard(credit.reference_scorecard()) AS l;

-- Every decision with the lists of codes it can come with.
SELECT d.decision, r.codes AS decision_reasons
FROM credit.lint_scorecard(credit.reference_scorecard()) AS l,
     jsonb_each(l->'decisions') AS d(decision, lists),
     jsonb_array_elements(d.lists) AS r(codes)
ORDER BY d.decision COLLATE "C", r.codes::text COLLATE "C";

SELECT l->'reachable_scores' AS reachable_scores,
       l->'non_monotonic' AS non_monotonic,
       l->'unreachable_bands' AS unreachable_bands,
       l->'warnings' AS warnings
FROM credit.lint_scorecard(credit.reference_scorecard()) AS l;

-- The stored reference row lints the same.
SELECT credit.lint_scorecard(definition) = credit.lint_scorecard(credit.reference_scorecard())
       AS same_lint
FROM credit.scorecards WHERE name = 'reference';

-- Every score a golden vector gets is one the lint calls reachable.
-- Expect 0.
\cd :abs_srcdir
CREATE TEMP TABLE golden_scores (monthly_income text, assets text, loan_amount text,
                                 tenor_months text, credit_score integer,
                                 rest1 text, rest2 text, rest3 text, rest4 text,
                                 rest5 text, rest6 text, rest7 text, rest8 text,
                                 rest9 text, rest10 text);
\copy golden_scores FROM '../golden_vectors.csv' WITH (FORMAT csv, HEADER true)
SELECT count(*) FILTER (WHERE NOT to_jsonb(g.credit_score) <@ (l->'reachable_scores'))
           AS golden_scores_called_unreachable
FROM golden_scores g,
     credit.lint_scorecard(credit.reference_scorecard()) AS l;
DROP TABLE golden_scores;

-- tight_dsr: decline can now come from the DSR alone (dsr_over_55 with a
-- score of 350, which is not under 350).
SELECT l->'score_range' AS score_range,
       l->'decisions'->'decline' AS decline,
       l->'decisions_always_with' AS always_with
FROM credit.scorecards s, credit.lint_scorecard(s.definition) AS l
WHERE s.name = 'tight_dsr';

-- Raising base_points to 450 makes low reachable (450 + 300 = 750: PD 1 %,
-- golden_anchor), and review possible for the DSR alone.
SELECT l->'score_range' AS score_range,
       l->'unreachable_segments' AS unreachable_segments,
       l->'unreachable_default_probabilities' AS unreachable_default_probabilities,
       l->'unreachable_personas' AS unreachable_personas,
       l->'decisions_always_with' AS always_with
FROM credit.lint_scorecard(credit.reference_scorecard() || '{"base_points": 450}') AS l;

-- Points that run the wrong way: a DSR of 0.30 to 0.40 earning more than
-- one under 0.30, and 13..24 months earning more than 12.
SELECT jsonb_array_elements_text(l->'non_monotonic') AS non_monotonic
FROM credit.lint_scorecard(jsonb_set(jsonb_set(credit.reference_scorecard(),
                                               '{dsr,bands,0,points}', '90'),
                                     '{tenor,bands,1,points}', '80')) AS l;

-- Lint validates first: an invalid definition is an error, not a report.
SELECT credit.lint_scorecard(credit.reference_scorecard() - 'margin_rate');
\echo SQLSTATE :SQLSTATE

-- What is left: the scorecards this test created that are still there.
SELECT name, first_used_at IS NOT NULL AS in_use
FROM credit.scorecards
WHERE name IN ('reference', 'reference_copy', 'tight_dsr', 'no_policy', 'draft')
ORDER BY name COLLATE "C";
