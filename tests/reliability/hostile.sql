-- Hostile input at the SQL level: huge, tiny, non-finite and negative-zero
-- numerics and huge tenors, straight into the functions and through the
-- triggers.  Each call runs inside reliability.attempt(), which records its
-- SQLSTATE (a crashed backend ends this script, and run.sh notices).  The
-- last query prints "name|value" lines; every *_violations value must be 0.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION reliability.attempt(q text, OUT state text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    state := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
END
$$;

-- Hostile numerics (as SQL literals' text).
CREATE TABLE reliability.hostile_values (label text PRIMARY KEY, v text NOT NULL);
INSERT INTO reliability.hostile_values VALUES
    ('1000_digits',         '1' || repeat('0', 999)),
    ('minus_1000_digits',   '-' || repeat('9', 1000)),
    ('1000_decimals',       '0.' || repeat('0', 998) || '1'),
    ('500.500_digits',      repeat('9', 500) || '.' || repeat('9', 500)),
    ('1e-1000',             '1e-1000'),
    ('NaN',                 'NaN'),
    ('Infinity',            'Infinity'),
    ('-Infinity',           '-Infinity'),
    ('-0',                  '-0'),
    ('-0.000000',           '-0.000000'),
    ('0',                   '0'),
    ('1e-20',               '1e-20'),
    ('-1e-20',              '-1e-20'),
    ('1e-21',               '1e-21'),
    ('trailing_zeros',      '12345.' || repeat('0', 40)),
    ('1e15',                '1e15'),
    ('1e15+1e-6',           '1000000000000000.000001'),
    ('max_exact',           '999999999999999.999999'),
    ('-1e15',               '-1000000000000000'),
    ('1e16',                '1e16'),
    ('negative',            '-5');
CREATE TABLE reliability.hostile_tenors (label text PRIMARY KEY, t integer NOT NULL);
INSERT INTO reliability.hostile_tenors VALUES
    ('int_max', 2147483647), ('int_min', -2147483648), ('zero', 0), ('minus_one', -1),
    ('one', 1), ('twelve', 12), ('huge_valid', 2000000000);

-- Argument sets: one hostile numeric in each position with sane others,
-- every hostile tenor with sane others, and everything hostile at once.
CREATE TABLE reliability.arg_sets AS
SELECT row_number() OVER () AS id, label, income, assets, amount, tenor FROM (
    SELECT 'income=' || label AS label, v AS income, '20000000' AS assets, '10000000' AS amount, 12 AS tenor
    FROM reliability.hostile_values
    UNION ALL SELECT 'assets=' || label, '5000000', v, '10000000', 12 FROM reliability.hostile_values
    UNION ALL SELECT 'amount=' || label, '5000000', '20000000', v, 12 FROM reliability.hostile_values
    UNION ALL SELECT 'tenor=' || label, '5000000', '20000000', '10000000', t FROM reliability.hostile_tenors
    UNION ALL SELECT 'all=' || v.label || '/' || t.label, v.v, v.v, v.v, t.t
              FROM reliability.hostile_values v, reliability.hostile_tenors t
    UNION ALL SELECT 'small=' || v.label, v.v, v.v, '100', 1 FROM reliability.hostile_values v
) s;

-- 1. Straight into the functions.
CREATE TABLE reliability.calls AS
SELECT a.id, a.label, f.fn, r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN (VALUES ('score_credit'), ('score_credit_named'), ('decide'), ('decide_named'),
                   ('explain_score'), ('try_score_credit'), ('validate_application')) AS f(fn)
CROSS JOIN LATERAL reliability.attempt(format(
    CASE f.fn
        WHEN 'score_credit'         THEN 'SELECT (credit.score_credit(%L::numeric, %L::numeric, %L::numeric, %s)).*'
        WHEN 'score_credit_named'   THEN 'SELECT (credit.score_credit(%L::numeric, %L::numeric, %L::numeric, %s, ''reference'')).*'
        WHEN 'decide'               THEN 'SELECT (credit.decide(%L::numeric, %L::numeric, %L::numeric, %s)).*'
        WHEN 'decide_named'         THEN 'SELECT (credit.decide(%L::numeric, %L::numeric, %L::numeric, %s, ''reference'')).*'
        WHEN 'explain_score'        THEN 'SELECT credit.explain_score(%L::numeric, %L::numeric, %L::numeric, %s)::text'
        WHEN 'try_score_credit'     THEN 'SELECT (credit.try_score_credit(%L::numeric, %L::numeric, %L::numeric, %s)).*'
        WHEN 'validate_application' THEN 'SELECT credit.validate_application(%L::numeric, %L::numeric, %L::numeric, %s)'
    END, a.income, a.assets, a.amount, a.tenor)) AS r;

-- What the functions say, side by side, per argument set.
CREATE TABLE reliability.outcomes AS
SELECT a.*,
       t.credit_score AS tried_score, t.default_probability AS tried_pd, t.segment AS tried_segment,
       credit.validate_application(a.income::numeric, a.assets::numeric, a.amount::numeric, a.tenor) AS invalid_because,
       (SELECT c.state FROM reliability.calls c WHERE c.id = a.id AND c.fn = 'score_credit') AS score_state,
       r.credit_score AS ref_score, r.default_probability AS ref_pd, r.segment AS ref_segment
FROM reliability.arg_sets a
LEFT JOIN LATERAL credit.try_score_credit(a.income::numeric, a.assets::numeric, a.amount::numeric, a.tenor) t ON true
LEFT JOIN LATERAL (SELECT * FROM reliability.ref_score(a.income::numeric, a.assets::numeric, a.amount::numeric, a.tenor)
                   WHERE a.income !~ '^(NaN|-?Infinity)$' AND a.assets !~ '^(NaN|-?Infinity)$'
                     AND a.amount !~ '^(NaN|-?Infinity)$') r ON true;

-- 2. Through the triggers (layout 1), every argument set as an INSERT into
-- a scored table with unconstrained numeric columns, then again with
-- on_invalid = reject.
CREATE TABLE public.hostile_apps (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   numeric
);
SELECT credit.enable_scoring('hostile_apps');
CREATE TABLE reliability.trigger_calls AS
SELECT a.id, a.label, 'insert_flag' AS mode, r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_apps VALUES (%s, %L::numeric, %L::numeric, %L::numeric, %s)',
    a.id, a.income, a.assets, a.amount, a.tenor)) r;
-- Numeric tenors an integer column cannot hold.
INSERT INTO reliability.trigger_calls
SELECT 100000 + i, 'numeric_tenor=' || t, 'insert_flag', r.state, r.message
FROM unnest(ARRAY['1' || repeat('0', 999), '2147483648', '-2147483649', '12.5', '12.000000000000000000001',
                  'NaN', 'Infinity', '-Infinity', '-0', '1e-20', '0.5']) WITH ORDINALITY AS x(t, i)
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_apps VALUES (%s, 5000000, 20000000, 10000000, %L::numeric)', 100000 + i, t)) r;
-- UPDATE of good rows to hostile values.
INSERT INTO public.hostile_apps SELECT 200000 + id, 5000000, 20000000, 10000000, 12 FROM reliability.arg_sets;
INSERT INTO reliability.trigger_calls
SELECT 200000 + a.id, a.label, 'update_flag', r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN LATERAL reliability.attempt(format(
    'UPDATE public.hostile_apps SET monthly_income = %L::numeric, assets_value = %L::numeric,
            loan_amount = %L::numeric, tenor_months = %s WHERE id = %s',
    a.income, a.assets, a.amount, a.tenor, 200000 + a.id)) r;
SET credit_scoring.on_invalid = 'reject';
INSERT INTO reliability.trigger_calls
SELECT 300000 + a.id, a.label, 'insert_reject', r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_apps VALUES (%s, %L::numeric, %L::numeric, %L::numeric, %s)',
    300000 + a.id, a.income, a.assets, a.amount, a.tenor)) r;
RESET credit_scoring.on_invalid;

-- Floating-point and integer columns (enable_scoring accepts real, double
-- precision, smallint, integer and bigint inputs).
CREATE TABLE public.hostile_float_apps (
    id             bigint PRIMARY KEY,
    monthly_income double precision,
    assets_value   double precision,
    loan_amount    double precision,
    tenor_months   double precision
);
SELECT credit.enable_scoring('hostile_float_apps');
INSERT INTO reliability.trigger_calls
SELECT 400000 + i, 'float8=' || v, 'insert_flag', r.state, r.message
FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', '-0', '1e308', '-1e308', '1e-300', '5e-324', '1e15', '1e16',
                  '-1e-20', '1e-20', '0.1', '0.00001', '5000000', '20000000', '123456789.125']) WITH ORDINALITY AS x(v, i)
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_float_apps VALUES (%1$s, %2$L::float8, %2$L::float8, %2$L::float8, 12),
                                                  (%3$s, 5000000, 20000000, 10000000, %2$L::float8)',
    400000 + i, v, 450000 + i)) r;
CREATE TABLE public.hostile_real_apps (
    id             bigint PRIMARY KEY,
    monthly_income real,
    assets_value   real,
    loan_amount    real,
    tenor_months   real
);
SELECT credit.enable_scoring('hostile_real_apps');
INSERT INTO reliability.trigger_calls
SELECT 800000 + i, 'real=' || v, 'insert_flag', r.state, r.message
FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', '-0', '3.4e38', '1e-37', '1e-20', '1e15', '0.5',
                  '5000000', '20000000', '12']) WITH ORDINALITY AS x(v, i)
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_real_apps VALUES (%1$s, %2$L::real, %2$L::real, %2$L::real, 12),
                                                 (%3$s, 5000000, 20000000, 10000000, %2$L::real)',
    800000 + i, v, 850000 + i)) r;
CREATE TABLE public.hostile_bigint_apps (
    id             bigint PRIMARY KEY,
    monthly_income bigint,
    assets_value   smallint,
    loan_amount    bigint,
    tenor_months   bigint
);
SELECT credit.enable_scoring('hostile_bigint_apps');
INSERT INTO reliability.trigger_calls
SELECT 500000 + i, 'bigint=' || v, 'insert_flag', r.state, r.message
FROM unnest(ARRAY['9223372036854775807', '-9223372036854775808', '0', '-1', '1000000000000000',
                  '1000000000000001', '2147483647', '2147483648']) WITH ORDINALITY AS x(v, i)
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_bigint_apps VALUES (%1$s, %2$s, 32767, %2$s, 12),
                                                   (%3$s, 5000000, -32768, 10000000, %2$s)',
    500000 + i, v, 550000 + i)) r;

-- Layout 2: hostile incomes and assets on customers, written before the
-- loans and changed afterwards (which rescores the loans).
CREATE TABLE public.hostile_customers (id bigint PRIMARY KEY, monthly_income numeric, assets_value numeric);
CREATE TABLE public.hostile_loans (
    id bigint PRIMARY KEY, customer_id bigint REFERENCES public.hostile_customers,
    principal_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('hostile_loans', amount => 'principal_amount', customers => 'hostile_customers');
INSERT INTO public.hostile_customers SELECT id, income::numeric, assets::numeric FROM reliability.arg_sets;
INSERT INTO reliability.trigger_calls
SELECT 600000 + a.id, a.label, 'layout2_insert', r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN LATERAL reliability.attempt(format(
    'INSERT INTO public.hostile_loans VALUES (%s, %s, %L::numeric, %s)', a.id, a.id, a.amount, a.tenor)) r;
-- Every customer's income and assets rotate to another argument set's.
INSERT INTO reliability.trigger_calls
SELECT 700000 + a.id, a.label, 'layout2_customer_update', r.state, r.message
FROM reliability.arg_sets a
CROSS JOIN LATERAL reliability.attempt(format(
    'UPDATE public.hostile_customers SET monthly_income = %L::numeric, assets_value = %L::numeric WHERE id = %s',
    a.income, a.assets, (a.id % (SELECT count(*) FROM reliability.arg_sets)) + 1)) r;

-- A tenor as the text of its column (integer, numeric or float, which
-- prints 5e+06): the whole number of months it is, or NULL.
CREATE FUNCTION reliability.whole_months(t text) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    n numeric;
BEGIN
    n := t::numeric;
    IF n = trunc(n) AND n BETWEEN -2147483648 AND 2147483647 THEN
        RETURN n::integer;
    END IF;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
END
$$;

-- The scored rows of every hostile table: scored and equal to the SQL
-- reference, or unscored with an invalid_input alert that says why.
CREATE TABLE reliability.scored_rows AS
SELECT 'public.hostile_apps' AS tbl, id::text AS row_key, monthly_income::text AS income, assets_value::text AS assets,
       loan_amount::text AS amount, tenor_months::text AS tenor, credit_score, default_probability, segment, decision
FROM public.hostile_apps
UNION ALL
SELECT 'public.hostile_float_apps', id::text, monthly_income::text, assets_value::text, loan_amount::text,
       tenor_months::text, credit_score, default_probability, segment, decision
FROM public.hostile_float_apps
UNION ALL
SELECT 'public.hostile_real_apps', id::text, monthly_income::text, assets_value::text, loan_amount::text,
       tenor_months::text, credit_score, default_probability, segment, decision
FROM public.hostile_real_apps
UNION ALL
SELECT 'public.hostile_bigint_apps', id::text, monthly_income::text, assets_value::text, loan_amount::text,
       tenor_months::text, credit_score, default_probability, segment, decision
FROM public.hostile_bigint_apps
UNION ALL
SELECT 'public.hostile_loans', l.id::text, coalesce(c.monthly_income, 0)::text, coalesce(c.assets_value, 0)::text,
       l.principal_amount::text, l.tenor_months::text, l.credit_score, l.default_probability, l.segment, l.decision
FROM public.hostile_loans l LEFT JOIN public.hostile_customers c ON c.id = l.customer_id;

CREATE TABLE reliability.verify_calls AS
SELECT t AS tbl, r.state, r.message
FROM unnest(ARRAY['hostile_apps', 'hostile_float_apps', 'hostile_real_apps', 'hostile_bigint_apps', 'hostile_loans']) t
CROSS JOIN LATERAL reliability.attempt(format(
    'DO $d$ BEGIN IF EXISTS (SELECT FROM credit.verify(%L)) THEN
         RAISE EXCEPTION ''credit.verify(%s) is not empty'' USING ERRCODE = ''P0001''; END IF; END $d$', t, t)) r;

\pset footer off
\pset tuples_only on
\pset format unaligned
SELECT 'function_calls', count(*) FROM reliability.calls
UNION ALL SELECT 'function_calls_ok', count(*) FROM reliability.calls WHERE state = '00000'
UNION ALL SELECT 'function_calls_22023', count(*) FROM reliability.calls WHERE state = '22023'
UNION ALL SELECT 'function_calls_22003', count(*) FROM reliability.calls WHERE state = '22003'
-- anything but success, 22023 or 22003 (XX000 above all)
UNION ALL SELECT 'function_state_violations', count(*) FROM reliability.calls
          WHERE state NOT IN ('00000', '22023', '22003')
-- try_score_credit and validate_application never raise
UNION ALL SELECT 'lenient_function_violations', count(*) FROM reliability.calls
          WHERE fn IN ('try_score_credit', 'validate_application') AND state <> '00000'
-- every function of an argument set agrees with score_credit (raises or not)
UNION ALL SELECT 'function_agreement_violations', count(*) FROM reliability.calls c
          JOIN reliability.calls s ON s.id = c.id AND s.fn = 'score_credit'
          WHERE c.fn IN ('score_credit_named', 'decide', 'decide_named', 'explain_score')
            AND c.state IS DISTINCT FROM s.state
UNION ALL SELECT 'validate_agreement_violations', count(*) FROM reliability.outcomes
          WHERE (score_state = '00000') <> (invalid_because IS NULL)
             OR (score_state = '00000') <> (tried_score IS NOT NULL)
-- errors name the argument
UNION ALL SELECT 'error_message_violations', count(*) FROM reliability.calls
          WHERE state IN ('22023', '22003')
            AND message !~ '(monthly_income|assets|loan_amount|tenor_months)'
-- accepted input scores as the SQL reference does
UNION ALL SELECT 'accepted_score_violations', count(*) FROM reliability.outcomes
          WHERE tried_score IS NOT NULL
            AND (tried_score, tried_pd, tried_segment) IS DISTINCT FROM (ref_score, ref_pd, ref_segment)
UNION ALL SELECT 'trigger_writes', count(*) FROM reliability.trigger_calls
UNION ALL SELECT 'trigger_writes_ok', count(*) FROM reliability.trigger_calls WHERE state = '00000'
UNION ALL SELECT 'trigger_writes_rejected', count(*) FROM reliability.trigger_calls WHERE state <> '00000'
-- flag mode: every write succeeds; reject mode: succeeds or 22023/22003
UNION ALL SELECT 'trigger_state_violations', count(*) FROM reliability.trigger_calls
          WHERE (mode = 'insert_reject' AND state NOT IN ('00000', '22023', '22003'))
             OR (mode <> 'insert_reject' AND state <> '00000')
UNION ALL SELECT 'scored_rows', count(*) FROM reliability.scored_rows
UNION ALL SELECT 'scored_rows_flagged', count(*) FROM reliability.scored_rows WHERE credit_score IS NULL
UNION ALL SELECT 'scored_row_violations', count(*) FROM reliability.scored_rows r
          LEFT JOIN LATERAL credit.try_score_credit(r.income::numeric, r.assets::numeric, r.amount::numeric,
                                                    reliability.whole_months(r.tenor)) s ON true
          WHERE r.credit_score IS NOT NULL
            AND (reliability.whole_months(r.tenor) IS NULL
                 OR (r.credit_score, r.default_probability, r.segment) IS DISTINCT FROM
                    (s.credit_score, s.default_probability, s.segment))
-- a row whose inputs are valid (try_score_credit scores them) is scored
UNION ALL SELECT 'valid_rows_flagged_violations', count(*) FROM reliability.scored_rows r
          CROSS JOIN LATERAL credit.try_score_credit(r.income::numeric, r.assets::numeric, r.amount::numeric,
                                                     reliability.whole_months(r.tenor)) s
          WHERE r.credit_score IS NULL AND s.credit_score IS NOT NULL
UNION ALL SELECT 'flagged_without_alert', count(*) FROM reliability.scored_rows r
          WHERE r.credit_score IS NULL
            AND NOT EXISTS (SELECT 1 FROM credit.score_alerts a
                            WHERE a.table_name = r.tbl AND a.row_key = r.row_key AND a.kind = 'invalid_input'
                              AND coalesce(a.details->>'reason', '') NOT IN ('', 'invalid input'))
UNION ALL SELECT 'verify_calls', count(*) FROM reliability.verify_calls
UNION ALL SELECT 'verify_violations', count(*) FROM reliability.verify_calls WHERE state <> '00000';

-- The details of any violation, for the report.
\pset tuples_only off
\pset format aligned
SELECT 'function' AS kind, label, fn AS call, state, left(message, 160) AS message FROM reliability.calls
WHERE state NOT IN ('00000', '22023', '22003')
   OR (fn IN ('try_score_credit', 'validate_application') AND state <> '00000')
   OR (state IN ('22023', '22003') AND message !~ '(monthly_income|assets|loan_amount|tenor_months)')
UNION ALL
SELECT 'trigger', label, mode, state, left(message, 160) FROM reliability.trigger_calls
WHERE (mode = 'insert_reject' AND state NOT IN ('00000', '22023', '22003'))
   OR (mode <> 'insert_reject' AND state <> '00000')
UNION ALL
SELECT 'verify', tbl, 'credit.verify', state, left(message, 160) FROM reliability.verify_calls WHERE state <> '00000'
UNION ALL
SELECT 'flagged', r.tbl || ' ' || r.row_key, format('%s, %s, %s, %s', r.income, r.assets, r.amount, r.tenor), 'alert',
       left(coalesce((SELECT a.details->>'reason' FROM credit.score_alerts a
                      WHERE a.table_name = r.tbl AND a.row_key = r.row_key AND a.kind = 'invalid_input'
                      ORDER BY a.id DESC LIMIT 1), '(no alert)'), 160)
FROM reliability.scored_rows r
WHERE r.credit_score IS NULL
  AND (NOT EXISTS (SELECT 1 FROM credit.score_alerts a
                   WHERE a.table_name = r.tbl AND a.row_key = r.row_key AND a.kind = 'invalid_input'
                     AND coalesce(a.details->>'reason', '') NOT IN ('', 'invalid input'))
       OR (credit.try_score_credit(r.income::numeric, r.assets::numeric, r.amount::numeric,
                                   CASE WHEN r.tenor ~ '^-?[0-9]{1,10}$'
                                         AND r.tenor::numeric BETWEEN -2147483648 AND 2147483647
                                        THEN r.tenor::integer END)).credit_score IS NOT NULL)
ORDER BY 1, 2, 3
LIMIT 60;
