--
-- errors: bad input gets a clear ERROR with a proper SQLSTATE, naming the
-- argument and the value (SPEC section 2) -- never a wrong score, a panic
-- message (XX000) or a crashed backend.
--
--   22023 invalid_parameter_value   tenor < 1, negative amounts, NaN, +-Infinity
--   22003 numeric_value_out_of_range |x| > 10^15, more than 20 decimal places
--
-- try_score_credit returns NULL instead, and validate_application returns
-- the very message the error would have (NULL when the input is valid).
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- What a DBA sees at the psql prompt: the message, then its SQLSTATE.
--
SELECT * FROM credit.score_credit(-5, 20000000, 10000000, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(5000000, 20000000, 10000000, 0);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(5000000, 'NaN', 10000000, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(5000000, 'Infinity', 10000000, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(5000000, 20000000, 1e16, 12);
\echo SQLSTATE :SQLSTATE
SELECT * FROM credit.score_credit(0.1234567890123456789012345, 20000000, 10000000, 12);
\echo SQLSTATE :SQLSTATE

-- The same errors from the other raising entry point.
SELECT credit.explain_score(-5, 20000000, 10000000, 12);
\echo SQLSTATE :SQLSTATE

-- An error aborts the transaction as usual; try_score_credit does not.
BEGIN;
SELECT credit.try_score_credit(-5, 20000000, 10000000, 12) IS NULL AS try_is_null;
SELECT (credit.score_credit(5000000, 20000000, 10000000, 12)).credit_score;
COMMIT;

--
-- Every error class, one row per case.  For each case:
--   sqlstate / error   what score_credit raises ('00000': no error)
--   validate_agrees    validate_application returns exactly that message
--                      (NULL for valid input)
--   try_is_null        try_score_credit returns NULL exactly when
--                      score_credit raises
--
-- score_error() runs score_credit and catches the error it raises.
CREATE FUNCTION pg_temp.score_error(monthly_income numeric, assets numeric,
                                    loan_amount numeric, tenor_months integer,
                                    OUT err_sqlstate text, OUT err_message text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM credit.score_credit(monthly_income, assets, loan_amount, tenor_months);
    err_sqlstate := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_sqlstate = RETURNED_SQLSTATE,
                            err_message  = MESSAGE_TEXT;
END
$$;

CREATE TEMP TABLE error_cases (
    n              integer PRIMARY KEY,
    label          text NOT NULL,
    monthly_income numeric,
    assets         numeric,
    loan_amount    numeric,
    tenor_months   integer
);
INSERT INTO error_cases VALUES
  -- negative amounts (22023), each argument in turn
  ( 1, 'negative monthly_income',        -5,        20000000,  10000000,  12),
  ( 2, 'negative assets',                5000000,   -1,        10000000,  12),
  ( 3, 'negative loan_amount',           5000000,   20000000,  -100,      12),
  ( 4, 'smallest negative income',       -0.000001, 20000000,  10000000,  12),
  -- tenor (22023)
  ( 5, 'tenor 0',                        5000000,   20000000,  10000000,  0),
  ( 6, 'tenor -1',                       5000000,   20000000,  10000000,  -1),
  ( 7, 'tenor -2147483648',              5000000,   20000000,  10000000,  -2147483648),
  -- not a number (22023)
  ( 8, 'NaN monthly_income',             'NaN',     20000000,  10000000,  12),
  ( 9, 'NaN assets',                     5000000,   'NaN',     10000000,  12),
  (10, 'NaN loan_amount',                5000000,   20000000,  'NaN',     12),
  -- not finite (22023)
  (11, 'Infinity monthly_income',        'Infinity', 20000000, 10000000,  12),
  (12, 'Infinity assets',                5000000,   'Infinity', 10000000, 12),
  (13, 'Infinity loan_amount',           5000000,   20000000,  'Infinity', 12),
  (14, '-Infinity monthly_income',       '-Infinity', 20000000, 10000000, 12),
  (15, '-Infinity assets',               5000000,   '-Infinity', 10000000, 12),
  (16, '-Infinity loan_amount',          5000000,   20000000,  '-Infinity', 12),
  -- out of range (22003)
  (17, '1e16 monthly_income',            1e16,      20000000,  10000000,  12),
  (18, '1e16 assets',                    5000000,   1e16,      10000000,  12),
  (19, '1e16 loan_amount',               5000000,   20000000,  1e16,      12),
  (20, '10^15 + 0.000001 loan_amount',   5000000,   20000000,  1000000000000000.000001, 12),
  (21, '-1e16 monthly_income',           -1e16,     20000000,  10000000,  12),
  (22, '1000 nines loan_amount',         5000000,   20000000,  repeat('9', 1000)::numeric, 12),
  (23, '25 decimal places income',       0.1234567890123456789012345, 20000000, 10000000, 12),
  (24, '21 decimal places assets',       5000000,   0.000000000000000000001, 10000000, 12),
  (25, '1e-30 loan_amount',              5000000,   20000000,  1e-30,     12),
  (26, '1.000...0 (scale 24) income',    1.000000000000000000000000, 20000000, 10000000, 12),
  -- several problems at once: which one is reported
  (27, 'negative income and tenor 0',    -5,        20000000,  10000000,  0),
  (28, 'NaN income, negative assets',    'NaN',     -1,        10000000,  12),
  -- valid: the edges of the accepted range
  (29, '-0.0 everywhere (is zero)',      -0.0,      -0.0,      -0.0,      1),
  (30, '10^15 loan_amount',              5000000,   20000000,  1000000000000000, 12),
  (31, '-0.000000 income (is zero)',     -0.000000, 20000000,  10000000,  12),
  (32, '20 decimal places income',       0.00000000000000000001, 20000000, 10000000, 12),
  (33, 'tenor 2147483647',               5000000,   20000000,  10000000,  2147483647),
  (34, 'valid: the first example',       5000000,   20000000,  10000000,  12);

\x on
SELECT c.n, c.label,
       e.err_sqlstate AS sqlstate,
       e.err_message  AS error,
       credit.validate_application(c.monthly_income, c.assets,
                                   c.loan_amount, c.tenor_months)
         IS NOT DISTINCT FROM e.err_message AS validate_agrees,
       credit.try_score_credit(c.monthly_income, c.assets,
                               c.loan_amount, c.tenor_months)
         IS NULL AS try_is_null
FROM error_cases c
CROSS JOIN LATERAL pg_temp.score_error(c.monthly_income, c.assets,
                                       c.loan_amount, c.tenor_months) AS e
ORDER BY c.n;
\x off

-- Summary of the above: every rejected case has one of the two documented
-- SQLSTATEs (never XX000), validate_application and try_score_credit agree
-- with score_credit on every case.
SELECT e.err_sqlstate AS sqlstate,
       count(*) AS cases,
       bool_and(credit.validate_application(c.monthly_income, c.assets,
                                            c.loan_amount, c.tenor_months)
                  IS NOT DISTINCT FROM e.err_message) AS validate_agrees,
       bool_and((credit.try_score_credit(c.monthly_income, c.assets,
                                         c.loan_amount, c.tenor_months)
                   IS NULL) = (e.err_sqlstate <> '00000')) AS try_agrees
FROM error_cases c
CROSS JOIN LATERAL pg_temp.score_error(c.monthly_income, c.assets,
                                       c.loan_amount, c.tenor_months) AS e
GROUP BY e.err_sqlstate
ORDER BY e.err_sqlstate COLLATE "C";

-- Negative zero is zero: -0.0 scores exactly like 0 (no income, no loan).
\x on
SELECT * FROM credit.score_credit(-0.0, -0.0, -0.0, 1);
\x off
SELECT credit.score_credit(-0.0, -0.0, -0.0, 1) = credit.score_credit(0, 0, 0, 1)
       AS same_as_zero;

-- NULL input is not an error: score_credit and try_score_credit return NULL.
-- validate_application on NULL input is shown as it is.
SELECT v.null_argument,
       credit.try_score_credit(v.monthly_income, v.assets, v.loan_amount, v.tenor_months)
           IS NULL AS try_is_null,
       credit.validate_application(v.monthly_income, v.assets, v.loan_amount, v.tenor_months)
           AS validate_application
FROM (VALUES
  (1, 'monthly_income', NULL::numeric, 20000000::numeric, 10000000::numeric, 12),
  (2, 'assets',         5000000,       NULL,              10000000,          12),
  (3, 'loan_amount',    5000000,       20000000,          NULL,              12),
  (4, 'tenor_months',   5000000,       20000000,          10000000,          NULL::integer)
) AS v(n, null_argument, monthly_income, assets, loan_amount, tenor_months)
ORDER BY v.n;

-- Invalid input in the middle of a set-based statement: score_credit stops
-- the statement at the first bad row; try_score_credit scores the rest.
SELECT count(*) AS scored
FROM error_cases c
CROSS JOIN LATERAL credit.score_credit(c.monthly_income, c.assets,
                                       c.loan_amount, c.tenor_months) AS s;
\echo SQLSTATE :SQLSTATE
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s.credit_score IS NOT NULL) AS scored,
       count(*) FILTER (WHERE s.credit_score IS NULL) AS not_scored
FROM error_cases c
CROSS JOIN LATERAL credit.try_score_credit(c.monthly_income, c.assets,
                                           c.loan_amount, c.tenor_months) AS s;

-- The backend survived everything above.
SELECT 'still connected' AS status;

DROP TABLE error_cases;
