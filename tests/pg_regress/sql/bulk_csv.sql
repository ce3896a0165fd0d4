--
-- bulk_csv: scoring an uploaded CSV file, the way the old bulk endpoint did,
-- without its silent skipping.
--
-- The file (tests/data/upload.csv) has the old endpoint's columns
--   monthly_income,assets_value,loan_amount,tenor_months
-- and junk: empty cells, text ('abc', '5,000,000', '12 months'), NaN,
-- negative numbers, tenor 0, a fractional tenor, numbers too large for the
-- scorecard or for an integer, too many decimals.
--
-- The recipe:
--   1. \copy the file into a staging table of TEXT columns: every line
--      arrives, whatever is in its cells (HEADER MATCH checks the header).
--   2. Convert each cell safely: a regular expression decides whether the
--      text is a number before it is cast, so junk becomes a reason instead
--      of an error that would stop the whole upload (PostgreSQL 15 has no
--      pg_input_is_valid; that is 16).
--   3. credit.try_score_credit scores the rows it can (NULL otherwise) and
--      credit.validate_application says why it cannot score the others.
--   4. credit.risk_summary gives the old response's totals (total_rows,
--      high_risk_count) plus counts per segment.
-- Every line ends up scored or rejected with its reason: scored + rejected
-- = uploaded = lines in the file.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- pg_regress exports the input directory (tests/pg_regress); the file lives
-- in tests/data.  \copy reads it on the client, so this works against a
-- remote server and without superuser.
\getenv abs_srcdir PG_ABS_SRCDIR
\cd :abs_srcdir

--
-- 1. Stage: one TEXT column per CSV column, and the line number.
--
CREATE TEMP TABLE upload_raw (
    line           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- data line, from 1
    monthly_income text,
    assets_value   text,
    loan_amount    text,
    tenor_months   text
);
\copy upload_raw (monthly_income, assets_value, loan_amount, tenor_months) FROM '../data/upload.csv' WITH (FORMAT csv, HEADER match)

-- Unquoted empty cells arrive as NULL, quoted ones ("") as empty strings;
-- spaces around a value are kept (both are dealt with below).
SELECT line, monthly_income, assets_value, loan_amount, tenor_months
FROM upload_raw ORDER BY line;

-- A file whose header is not the old endpoint's is refused as a whole
-- (HEADER MATCH, new in PostgreSQL 15), rather than loaded into the wrong
-- columns.  Likewise a line with too few or too many cells stops the \copy
-- with an error naming the line: loud, never silent.
\copy upload_raw (assets_value, monthly_income, loan_amount, tenor_months) FROM '../data/upload.csv' WITH (FORMAT csv, HEADER match)
SELECT count(*) AS still_staged FROM upload_raw;

--
-- 2. Safe conversion.  Session-local helpers (pg_temp: gone when the session
-- ends, nothing to clean up in the database).
--
-- as_number: the cell as numeric, or NULL when it is empty or not a plain
-- decimal number (optionally signed, with an exponent of up to 3 digits, so
-- that the cast itself can never fail).
CREATE FUNCTION pg_temp.as_number(cell text) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN btrim(cell, E' \t') ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'
                THEN btrim(cell, E' \t')::numeric END
$$;
-- as_months: the cell as integer, or NULL when it is empty, not a number,
-- not whole, or beyond the integer range.
CREATE FUNCTION pg_temp.as_months(cell text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n = trunc(n) AND n BETWEEN -2147483648 AND 2147483647 THEN n::integer END
    FROM (SELECT pg_temp.as_number(cell) AS n) AS x
$$;
-- cell_problem: why a non-empty cell could not be converted (NULL when it
-- could, or when it is empty: a missing value is validate_application's to
-- report).
CREATE FUNCTION pg_temp.cell_problem(column_name text, cell text, whole boolean DEFAULT false)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN cell IS NULL OR btrim(cell, E' \t') = '' THEN NULL
        WHEN btrim(cell, E' \t') ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)[eE][+-]?[0-9]{4,}$'
            THEN format('%s is out of range, got %s', column_name, cell)
        WHEN pg_temp.as_number(cell) IS NULL
            THEN format('%s is not a number, got ''%s''', column_name, cell)
        WHEN whole AND pg_temp.as_number(cell) <> trunc(pg_temp.as_number(cell))
            THEN format('%s must be a whole number, got %s', column_name, cell)
        WHEN whole AND pg_temp.as_months(cell) IS NULL
            THEN format('%s is out of range, got %s', column_name, cell)
    END
$$;

-- The typed upload: numbers where the cells hold numbers, and the first
-- conversion problem of the line.
CREATE TEMP TABLE upload AS
SELECT r.line,
       pg_temp.as_number(r.monthly_income) AS monthly_income,
       pg_temp.as_number(r.assets_value)   AS assets_value,
       pg_temp.as_number(r.loan_amount)    AS loan_amount,
       pg_temp.as_months(r.tenor_months)   AS tenor_months,
       coalesce(pg_temp.cell_problem('monthly_income', r.monthly_income),
                pg_temp.cell_problem('assets_value', r.assets_value),
                pg_temp.cell_problem('loan_amount', r.loan_amount),
                pg_temp.cell_problem('tenor_months', r.tenor_months, whole => true)) AS cell_problem
FROM upload_raw r;

--
-- 3. Score, or say why not.  try_score_credit is NULL for a row it cannot
-- score (and, being STRICT, for a row with a cell that did not convert);
-- the reason is the conversion problem, else validate_application's.
--
CREATE TEMP TABLE upload_result AS
SELECT u.line, s.credit_score, s.default_probability, s.segment, s.dsr,
       s.monthly_installment, s.persona, array_to_string(s.reasons, ',') AS reasons,
       coalesce(u.cell_problem,
                credit.validate_application(u.monthly_income, u.assets_value,
                                            u.loan_amount, u.tenor_months)) AS rejected_because
FROM upload u
LEFT JOIN LATERAL credit.try_score_credit(u.monthly_income, u.assets_value,
                                          u.loan_amount, u.tenor_months) AS s ON true;

SELECT line, credit_score, default_probability, segment, dsr, monthly_installment, persona,
       reasons, rejected_because
FROM upload_result ORDER BY line;

-- The rejected lines grouped by reason: the report the old endpoint never
-- gave.
SELECT rejected_because, array_agg(line ORDER BY line) AS lines
FROM upload_result
WHERE rejected_because IS NOT NULL
GROUP BY rejected_because
ORDER BY min(line);

--
-- 4. The old bulk response's totals: total_rows and high_risk_count count
-- the scored rows (as the old endpoint did after skipping), with the
-- rejected rows counted next to them.
--
SELECT jsonb_pretty(credit.risk_summary(credit.try_score_credit(monthly_income, assets_value,
                                                                loan_amount, tenor_months))
                    || jsonb_build_object('rejected_rows', count(*) FILTER (WHERE cell_problem IS NOT NULL
                         OR credit.validate_application(monthly_income, assets_value,
                                                        loan_amount, tenor_months) IS NOT NULL)))
       AS response
FROM upload;

--
-- Closing the books.  Lines in the file, counted without parsing (each
-- physical line as one field; the header subtracted), against the rows
-- staged, scored and rejected.  Every row is exactly one of scored and
-- rejected, and risk_summary counted exactly the scored ones.
-- Expect nothing_dropped = t.
--
CREATE TEMP TABLE file_lines (l text);
\copy file_lines FROM '../data/upload.csv' WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')
SELECT (SELECT count(*) - 1 FROM file_lines) AS lines_in_file,
       count(*) AS uploaded,
       count(credit_score) AS scored,
       count(rejected_because) AS rejected,
       count(*) FILTER (WHERE (credit_score IS NULL) = (rejected_because IS NULL)) AS neither_or_both,
       (SELECT (credit.risk_summary(credit.try_score_credit(monthly_income, assets_value,
                                                            loan_amount, tenor_months))->>'total_rows')::bigint
        FROM upload) AS summary_total_rows,
       (SELECT count(*) - 1 FROM file_lines) = count(*)
         AND count(*) = count(credit_score) + count(rejected_because)
         AND count(*) FILTER (WHERE (credit_score IS NULL) = (rejected_because IS NULL)) = 0
         AND (SELECT (credit.risk_summary(credit.try_score_credit(monthly_income, assets_value,
                                                                  loan_amount, tenor_months))->>'total_rows')::bigint
              FROM upload) = count(credit_score)
           AS nothing_dropped
FROM upload_result;

-- The scores agree with score_credit on the converted values (the lines
-- score_credit accepts), so the conversion changed nothing it should not.
-- Expect zero rows.
SELECT r.line, r.credit_score, s.credit_score AS score_credit
FROM upload_result r
JOIN upload u USING (line)
CROSS JOIN LATERAL credit.score_credit(u.monthly_income, u.assets_value,
                                       u.loan_amount, u.tenor_months) AS s
WHERE r.rejected_because IS NULL
  AND (r.credit_score, r.segment, r.reasons)
      IS DISTINCT FROM (s.credit_score, s.segment, array_to_string(s.reasons, ','));

-- What the old endpoint would have done: stop at the first bad line (with
-- score_credit) -- or skip it silently.  One statement, one error, nothing
-- scored:
SELECT count(*) FROM upload u
CROSS JOIN LATERAL credit.score_credit(u.monthly_income, u.assets_value,
                                       u.loan_amount, u.tenor_months) AS s;
\echo SQLSTATE :SQLSTATE
-- and casting the text directly fails on the first junk cell:
SELECT count(*) FROM upload_raw r
WHERE r.monthly_income::numeric > 0;
\echo SQLSTATE :SQLSTATE

DROP TABLE upload_result, upload, upload_raw, file_lines;
