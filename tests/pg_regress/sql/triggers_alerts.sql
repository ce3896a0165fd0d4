--
-- triggers_alerts: the alert rules of SPEC section 3 and the settings of
-- section 5.
--
--   score_drop     the score fell by at least credit_scoring.alert_drop_points
--                  (default 15) below the highest score the row had within
--                  credit_scoring.alert_window (default 30 days; 0: the
--                  previous score only).  One alert per fall: a further alert
--                  for the row in the window needs a further fall of the
--                  threshold below the last alert's score.
--   dsr_critical   DSR rose above credit_scoring.dsr_alert_ratio (0.60).
--   invalid_input  the row could not be scored and credit_scoring.on_invalid
--                  is flag (the default): the write succeeds, score columns
--                  are NULL, details.reason says why.  With reject the write
--                  fails with the error.
--
-- Alerts and history are written in the transaction of the change.
-- Timestamps are never printed.  Every query on credit.score_alerts and
-- credit.score_history filters on this test's tables.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- The settings are defined by the extension's library, which a session
-- loads on its first call of a credit function or scoring trigger (or at
-- connection, with session_preload_libraries / shared_preload_libraries).
SELECT (credit.score_credit(5000000, 20000000, 10000000, 12)).credit_score;

-- As a DBA finds them: user-settable (per session, role or database), with
-- the documented defaults and values.
SELECT name, setting, vartype, context, enumvals
FROM pg_settings
WHERE name LIKE 'credit\_scoring.%'
ORDER BY name COLLATE "C";
SHOW credit_scoring.on_invalid;

-- A value that is not valid is refused when it is set, not when a scored
-- table is next written to.
SET credit_scoring.alert_window = 'soon';
\echo SQLSTATE :SQLSTATE
SET credit_scoring.dsr_alert_ratio = 'high';
\echo SQLSTATE :SQLSTATE
SET credit_scoring.alert_drop_points = 0;
\echo SQLSTATE :SQLSTATE
SET credit_scoring.on_invalid = 'ignore';
\echo SQLSTATE :SQLSTATE
SHOW credit_scoring.alert_window;
SHOW credit_scoring.dsr_alert_ratio;
RESET credit_scoring.alert_window;
RESET credit_scoring.dsr_alert_ratio;

CREATE TABLE alert_loans (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('alert_loans');

-- With income 1,000,000 and a loan of 1,000,000 the DSR stays under 0.30
-- (+150) for any tenor of 12 months or more; assets and tenor then give
-- these scores (checked against score_credit):
CREATE TEMP TABLE score_inputs (score integer PRIMARY KEY, assets numeric, tenor integer);
INSERT INTO score_inputs VALUES
  (600, 2000000, 12),   -- +150 +100 +50
  (570, 2000000, 24),   -- +150 +100 +20
  (550, 1000000, 12),   -- +150  +50 +50
  (530, 2000000, 36),   -- +150 +100 -20
  (520, 1000000, 24),   -- +150  +50 +20
  (500, 2000000, 48),   -- +150 +100 -50
  (450,       0, 12);   -- +150  -50 +50
SELECT i.score, (credit.score_credit(1000000, i.assets, 1000000, i.tenor)).credit_score AS computed
FROM score_inputs i ORDER BY i.score DESC;

-- The alerts of this table, oldest first.
CREATE TEMP VIEW loan_alerts AS
SELECT row_key, kind, old_score, new_score, score_drop, old_segment, new_segment
FROM credit.score_alerts
WHERE table_name = 'public.alert_loans'
ORDER BY id;

-- Rows 1 to 9 start at 600, except row 6, which starts at 530.
INSERT INTO alert_loans (id, monthly_income, assets_value, loan_amount, tenor_months)
SELECT id, 1000000, i.assets, 1000000, i.tenor
FROM generate_series(1, 9) AS id, score_inputs i
WHERE i.score = CASE WHEN id = 6 THEN 530 ELSE 600 END;
SELECT id, credit_score FROM alert_loans ORDER BY id;
SELECT count(*) AS alerts FROM loan_alerts;

--
-- The window's peak: threshold 60, two falls of 30 and 50.  Neither fall
-- alone reaches 60, but the second leaves the row 80 below the highest
-- score of the window: one alert, measured from 600.
--
SET credit_scoring.alert_drop_points = 60;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 1 AND i.score = 570;
SELECT * FROM loan_alerts WHERE row_key = '1';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 1 AND i.score = 520;
SELECT * FROM loan_alerts WHERE row_key = '1';

--
-- alert_window = 0 compares with the previous score only: the same two
-- falls of 30 and 50 raise nothing; a single fall of 70 does (from the
-- previous score, 520).
--
SET credit_scoring.alert_window = '0';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 2 AND i.score = 570;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 2 AND i.score = 520;
SELECT * FROM loan_alerts WHERE row_key = '2';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 2 AND i.score = 450;
SELECT * FROM loan_alerts WHERE row_key = '2';
RESET credit_scoring.alert_window;

--
-- One alert per fall (threshold 60, window 30 days):
--   600 -> 520  alert (80 below the peak)
--   520 -> 500  no alert: 100 below the peak, but only 20 below the last
--               alert's score (520)
--   500 -> 450  alert: 70 below the last alert's score; measured from the
--               peak (600, a drop of 150)
--   450 -> 600 -> 520  no alert: 520 is not 60 below the last alert's
--               score (450), as SPEC section 3 words the rule
--
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 3 AND i.score = 520;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 3 AND i.score = 500;
SELECT * FROM loan_alerts WHERE row_key = '3';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 3 AND i.score = 450;
SELECT * FROM loan_alerts WHERE row_key = '3';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 3 AND i.score = 600;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 3 AND i.score = 520;
SELECT * FROM loan_alerts WHERE row_key = '3';

--
-- "At least" the threshold: a fall of exactly 30 alerts with a threshold of
-- 30, not with 31.
--
SET credit_scoring.alert_drop_points = 30;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 4 AND i.score = 570;
SET credit_scoring.alert_drop_points = 31;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 5 AND i.score = 570;
SELECT * FROM loan_alerts WHERE row_key IN ('4', '5');

--
-- The default threshold is 15: a fall of 10 (530 -> 520) is not alerted;
-- the next fall (520 -> 500) leaves the row 30 below the peak and is.
--
RESET credit_scoring.alert_drop_points;
SHOW credit_scoring.alert_drop_points;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 6 AND i.score = 520;
SELECT * FROM loan_alerts WHERE row_key = '6';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 6 AND i.score = 500;
SELECT * FROM loan_alerts WHERE row_key = '6';
-- The alert says which rule raised it.
SELECT details FROM credit.score_alerts
WHERE table_name = 'public.alert_loans' AND row_key = '6';

--
-- The window is a window: a peak older than alert_window does not count.
-- Rows 7 and 8 fall 600 -> 570 (threshold 60: no alert), then their history
-- is moved 40 days into the past (as if the fall had happened then).
-- A further fall to 520 is 80 below the old peak but only 50 below anything
-- within 30 days: no alert for row 7; with a 60-day window, row 8 is alerted.
--
SET credit_scoring.alert_drop_points = 60;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id IN (7, 8) AND i.score = 570;
UPDATE credit.score_history SET scored_at = scored_at - interval '40 days'
WHERE table_name = 'public.alert_loans' AND row_key IN ('7', '8');
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 7 AND i.score = 520;
SET credit_scoring.alert_window = '60 days';
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 8 AND i.score = 520;
SELECT * FROM loan_alerts WHERE row_key IN ('7', '8');
RESET credit_scoring.alert_window;
RESET credit_scoring.alert_drop_points;

-- A rise is never alerted.
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id IN (1, 2, 3, 4, 5, 6, 7, 8) AND i.score = 600;
SELECT count(*) AS alerts FROM loan_alerts;

-- A per-table threshold (credit.scored_tables.alert_drop_points) wins over
-- the session's setting: with 100, a fall of 80 is not alerted, one of 150
-- is.
UPDATE credit.scored_tables SET alert_drop_points = 100 WHERE relid = 'alert_loans'::regclass;
SET credit_scoring.alert_drop_points = 15;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 9 AND i.score = 520;
SELECT count(*) AS alerts FROM loan_alerts;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 9 AND i.score = 450;
SELECT * FROM loan_alerts WHERE row_key = '9';
UPDATE credit.scored_tables SET alert_drop_points = NULL WHERE relid = 'alert_loans'::regclass;
RESET credit_scoring.alert_drop_points;

--
-- dsr_critical: DSR (installment / income, installment = amount x 1.15 /
-- tenor) rose above 0.60.  Income 1,000 over 23 months: a loan of 12,000
-- is an installment of exactly 600, DSR exactly 0.60 -- not above.
-- (Every score here is 300, so no score_drop alerts mix in.)
--
CREATE TEMP VIEW dsr_alerts AS
SELECT row_key, kind, old_score, new_score, details
FROM credit.score_alerts
WHERE table_name = 'public.alert_loans' AND kind = 'dsr_critical'
ORDER BY id;

INSERT INTO alert_loans VALUES (20, 1000, 0, 12000, 23);
SELECT count(*) AS dsr_alerts FROM dsr_alerts;
-- 12,000.01: just above 0.60 -> alert.
UPDATE alert_loans SET loan_amount = 12000.01 WHERE id = 20;
SELECT * FROM dsr_alerts;
-- Still above (0.65): not alerted again.
UPDATE alert_loans SET loan_amount = 13000 WHERE id = 20;
SELECT count(*) AS dsr_alerts FROM dsr_alerts;
-- Back to 0.50, then above again: alerted again.
UPDATE alert_loans SET loan_amount = 10000 WHERE id = 20;
UPDATE alert_loans SET loan_amount = 13000 WHERE id = 20;
SELECT * FROM dsr_alerts;
-- The ratio is a setting: with 0.70, DSR 0.70 exactly is not above, just
-- over it is.
SET credit_scoring.dsr_alert_ratio = 0.70;
UPDATE alert_loans SET loan_amount = 14000 WHERE id = 20;
SELECT count(*) AS dsr_alerts FROM dsr_alerts;
UPDATE alert_loans SET loan_amount = 14000.01 WHERE id = 20;
SELECT * FROM dsr_alerts;
RESET credit_scoring.dsr_alert_ratio;
-- A new loan that is above the ratio from the start is alerted on INSERT.
INSERT INTO alert_loans VALUES (21, 1000, 0, 13000, 23);
SELECT * FROM dsr_alerts WHERE row_key = '21';

--
-- invalid_input, on_invalid = flag (the default): the write succeeds, the
-- score columns are NULL, and the alert says why -- in the words of the error
-- that on_invalid = reject raises for the same row.
--
-- A table whose tenor column is numeric, so that every kind of bad value can
-- be stored.
CREATE TABLE alert_inputs (
    id             integer PRIMARY KEY,
    label          text,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   numeric
);
SELECT credit.enable_scoring('alert_inputs');

CREATE TEMP TABLE bad_inputs (id integer, label text, monthly_income numeric, assets_value numeric,
                              loan_amount numeric, tenor_months numeric);
INSERT INTO bad_inputs VALUES
  (1, 'loan amount NULL',      5000000, 20000000, NULL,     12),
  (2, 'tenor NULL',            5000000, 20000000, 10000000, NULL),
  (3, 'negative income',       -5,      20000000, 10000000, 12),
  (4, 'negative assets',       5000000, -1,       10000000, 12),
  (5, 'tenor 0',               5000000, 20000000, 10000000, 0),
  (6, 'tenor 1.5',             5000000, 20000000, 10000000, 1.5),
  (7, 'tenor 10^12',           5000000, 20000000, 10000000, 1e12),
  (8, 'income NaN',            'NaN',   20000000, 10000000, 12),
  (9, 'amount 10^16',          5000000, 20000000, 1e16,     12);

-- reject: each row alone, the error caught.
CREATE FUNCTION pg_temp.reject_error(n integer, OUT err_sqlstate text, OUT err_message text)
LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL credit_scoring.on_invalid = reject;
    INSERT INTO alert_inputs SELECT * FROM bad_inputs WHERE id = n;
    err_sqlstate := '00000';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS err_sqlstate = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT;
END
$$;
CREATE TEMP TABLE reject_errors AS
SELECT b.id, e.err_sqlstate, e.err_message
FROM bad_inputs b CROSS JOIN LATERAL pg_temp.reject_error(b.id) AS e;
SELECT count(*) AS rows_written_under_reject FROM alert_inputs;

-- flag: all nine rows in one statement.
INSERT INTO alert_inputs SELECT * FROM bad_inputs;

\x on
SELECT a.id, a.label,
       a.credit_score, a.default_probability, a.segment, a.scored_at IS NOT NULL AS scored_at_set,
       al.kind, al.old_score, al.new_score,
       al.details->>'reason' AS reason,
       r.err_sqlstate AS reject_sqlstate,
       al.details->>'reason' = r.err_message AS reason_is_reject_error
FROM alert_inputs a
JOIN reject_errors r ON r.id = a.id
LEFT JOIN credit.score_alerts al ON al.table_name = 'public.alert_inputs' AND al.row_key = a.id::text
ORDER BY a.id;
\x off

-- The alert's details carry the inputs as written.
SELECT row_key, details - 'reason' AS inputs
FROM credit.score_alerts
WHERE table_name = 'public.alert_inputs'
ORDER BY row_key::integer;

-- The history records the attempt: NULL score, the inputs as written
-- (NULL where the history column cannot hold the value: a tenor of 1.5 or
-- 10^12 months is not an integer).
SELECT row_key, monthly_income, assets, loan_amount, tenor_months, credit_score, segment
FROM credit.score_history
WHERE table_name = 'public.alert_inputs'
ORDER BY row_key::integer;

-- Fixing the input scores the row; no score_drop from or to "no score".
UPDATE alert_inputs SET loan_amount = 10000000 WHERE id = 1;
UPDATE alert_loans SET loan_amount = NULL WHERE id = 2;
SELECT 'alert_inputs' AS table_name, id, credit_score FROM alert_inputs WHERE id = 1
UNION ALL
SELECT 'alert_loans', id, credit_score FROM alert_loans WHERE id = 2
ORDER BY 1;
SELECT row_key, kind, old_score, new_score, details->>'reason' AS reason
FROM credit.score_alerts
WHERE (table_name = 'public.alert_inputs' AND row_key = '1')
   OR (table_name = 'public.alert_loans' AND row_key = '2' AND kind <> 'score_drop')
ORDER BY id;

-- on_invalid = reject: the write fails with the clear error, and nothing of
-- it is kept (no row, no history, no alert).
SET credit_scoring.on_invalid = reject;
SHOW credit_scoring.on_invalid;
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;
INSERT INTO alert_loans VALUES (30, 5000000, 20000000, NULL, 12);
\echo SQLSTATE :SQLSTATE
UPDATE alert_loans SET monthly_income = -1 WHERE id = 1;
\echo SQLSTATE :SQLSTATE
-- One bad row fails the whole statement.
UPDATE alert_loans SET tenor_months = CASE WHEN id = 8 THEN 0 ELSE 24 END WHERE id BETWEEN 3 AND 8;
\echo SQLSTATE :SQLSTATE
SELECT count(*) AS row_30 FROM alert_loans WHERE id = 30;
SELECT id, monthly_income, tenor_months, credit_score FROM alert_loans WHERE id BETWEEN 1 AND 8 ORDER BY id;
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;
RESET credit_scoring.on_invalid;

--
-- Same transaction: a rolled-back change leaves no history and no alert;
-- a committed one keeps both.
--
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;
BEGIN;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 4 AND i.score = 450;
SELECT id, credit_score FROM alert_loans WHERE id = 4;
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;
ROLLBACK;
SELECT id, credit_score FROM alert_loans WHERE id = 4;
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;

-- A savepoint rolled back takes its part away; the rest commits.
BEGIN;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 4 AND i.score = 450;
SAVEPOINT s;
UPDATE alert_loans l SET assets_value = i.assets, tenor_months = i.tenor
FROM score_inputs i WHERE l.id = 5 AND i.score = 450;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT id, credit_score FROM alert_loans WHERE id IN (4, 5) ORDER BY id;
SELECT row_key, kind, old_score, new_score
FROM credit.score_alerts
WHERE table_name = 'public.alert_loans' AND row_key IN ('4', '5')
ORDER BY id;
SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.alert_loans') AS history_rows,
       (SELECT count(*) FROM credit.score_alerts WHERE table_name = 'public.alert_loans') AS alerts;

DROP VIEW loan_alerts;
DROP VIEW dsr_alerts;
DROP TABLE alert_inputs;
DROP TABLE alert_loans;
