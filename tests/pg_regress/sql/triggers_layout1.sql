--
-- triggers_layout1: scoring kept current on a single application table
-- (SPEC section 3, layout 1).
--
--   credit.enable_scoring(table)   adds credit_score, default_probability,
--                                  segment, decision (SPEC section 9) and
--                                  scored_at, scores the rows
--                                  already there, and keeps them current on
--                                  INSERT and on UPDATE of an input column
--   credit.score_history           one row per scoring: inputs -> result
--   credit.disable_scoring(table)  detaches; columns and history stay
--
-- Timestamps (scored_at, created_at) change on every run: they are never
-- printed, only compared or tested for NULL.  credit.score_history and
-- credit.score_alerts are shared by every test, so every query on them
-- filters on this test's table names.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- The old service's application table, as it is in production: inputs and a
-- free-text note, no score columns yet.
CREATE TABLE loan_applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer,
    note           text
);

-- The default column names are those of this table; the row key is its
-- primary key.
SELECT credit.enable_scoring('loan_applications');

-- The score columns were added, after the table's own columns.
SELECT a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = 'loan_applications'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

-- The triggers attached to it.
SELECT t.tgname, t.tgenabled = 'O' AS enabled
FROM pg_trigger t
WHERE t.tgrelid = 'loan_applications'::regclass AND NOT t.tgisinternal
ORDER BY t.tgname COLLATE "C";

-- Registered, with the configuration used.
SELECT table_name, key_column, income_column, assets_column, amount_column,
       tenor_column, customers, scorecard
FROM credit.scored_tables
WHERE relid = 'loan_applications'::regclass;

--
-- INSERT: the three examples of the old service are scored on the way in,
-- and decided (SPEC section 9):
--   5,000,000 / 20,000,000 / 10,000,000 / 12  ->  600  medium  0.15  approve
--  10,000,000 /  5,000,000 / 50,000,000 / 24  ->  420  high    0.40  decline
--   2,000,000 /          0 / 10,000,000 /  6  ->  300  high    0.40  decline
--
INSERT INTO loan_applications (id, monthly_income, assets_value, loan_amount, tenor_months, note)
VALUES (1,  5000000, 20000000, 10000000, 12, 'first example'),
       (2, 10000000,  5000000, 50000000, 24, 'second example'),
       (3,  2000000,        0, 10000000,  6, 'third example');

SELECT id, credit_score, default_probability, segment, decision, scored_at IS NOT NULL AS scored
FROM loan_applications
ORDER BY id;

-- A score or decision written by the application is not taken: the trigger
-- computes them.
INSERT INTO loan_applications (id, monthly_income, assets_value, loan_amount, tenor_months,
                               credit_score, default_probability, segment, decision, note)
VALUES (4, 2000000, 0, 10000000, 6, 850, 0.01, 'low', 'approve', 'forged score');
SELECT id, credit_score, default_probability, segment, decision
FROM loan_applications WHERE id = 4;

-- One history row per scoring, with the inputs used and the result;
-- table_name is schema-qualified, row_key is the key as text, scored_at is
-- the row's scored_at.
SELECT h.table_name, h.row_key, pg_typeof(h.row_key) AS row_key_type,
       h.monthly_income, h.assets, h.loan_amount, h.tenor_months,
       h.credit_score, h.default_probability, h.segment, h.decision, h.decision_reasons,
       h.scorecard, h.scored_at = l.scored_at AS same_scored_at
FROM credit.score_history h
JOIN loan_applications l ON l.id::text = h.row_key
WHERE h.table_name = 'public.loan_applications'
ORDER BY h.id;

--
-- UPDATE of an input column rescores the row and appends to the history.
-- Income 5,000,000 -> 3,000,000: dsr 0.32 (+100 instead of +150) -> 550.
--
CREATE TEMP TABLE before_update AS
SELECT id, credit_score, scored_at FROM loan_applications;

UPDATE loan_applications SET monthly_income = 3000000 WHERE id = 1;

SELECT l.id, b.credit_score AS old_score, l.credit_score AS new_score, l.segment,
       l.scored_at > b.scored_at AS rescored
FROM loan_applications l JOIN before_update b USING (id)
ORDER BY l.id;

SELECT row_key, monthly_income, credit_score, segment
FROM credit.score_history
WHERE table_name = 'public.loan_applications' AND row_key = '1'
ORDER BY id;

-- Every input column is watched: assets, amount and tenor rescore too.
UPDATE loan_applications SET assets_value = 60000000 WHERE id = 2;   -- acr 1.2: +100
UPDATE loan_applications SET loan_amount = 1000000 WHERE id = 3;     -- dsr 0.10: +150
UPDATE loan_applications SET tenor_months = 12 WHERE id = 2;         -- dsr 0.48, tenor +50
SELECT l.id, b.credit_score AS old_score, l.credit_score AS new_score, l.segment,
       l.scored_at > b.scored_at AS rescored
FROM loan_applications l JOIN before_update b USING (id)
ORDER BY l.id;

--
-- An unrelated UPDATE (the note) does not rescore: scored_at is unchanged
-- and no history row is written.
--
DROP TABLE before_update;
CREATE TEMP TABLE before_update AS
SELECT id, credit_score, scored_at FROM loan_applications;
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.loan_applications';

UPDATE loan_applications SET note = note || ' (reviewed)';

SELECT l.id, l.note, l.credit_score = b.credit_score AS same_score,
       l.scored_at = b.scored_at AS same_scored_at
FROM loan_applications l JOIN before_update b USING (id)
ORDER BY l.id;
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.loan_applications';

-- Changing the key together with an input: the row is rescored and the
-- history row carries the new key.
UPDATE loan_applications SET id = 40, monthly_income = 20000000 WHERE id = 4;
SELECT id, credit_score, segment FROM loan_applications WHERE id = 40;
SELECT row_key, monthly_income, credit_score, segment
FROM credit.score_history
WHERE table_name = 'public.loan_applications' AND row_key IN ('4', '40')
ORDER BY id;

-- The row left its old key, as a deleted row does: the current views know
-- it by its new key only (its history under the old key stays).
SELECT row_key, credit_score
FROM credit.current_scores
WHERE table_name = 'public.loan_applications' AND row_key IN ('4', '40')
ORDER BY row_key;

-- A change of the key alone (no input changed) moves the row too: its
-- first history row under the new key, and the old key leaves the views.
UPDATE loan_applications SET id = 41 WHERE id = 40;
SELECT row_key, credit_score, first_scoring
FROM credit.score_history
WHERE table_name = 'public.loan_applications' AND row_key IN ('40', '41')
ORDER BY id;
SELECT row_key, credit_score
FROM credit.current_scores
WHERE table_name = 'public.loan_applications' AND row_key IN ('40', '41')
ORDER BY row_key;

-- Several keys moved in one statement, and back: the current views follow.
UPDATE loan_applications SET id = id + 100 WHERE id IN (1, 2);
SELECT row_key, credit_score
FROM credit.current_scores
WHERE table_name = 'public.loan_applications' AND row_key IN ('1', '2', '101', '102')
ORDER BY row_key;
UPDATE loan_applications SET id = id - 100 WHERE id IN (101, 102);
SELECT count(*) AS rows, (SELECT count(*) FROM credit.latest_scores
                          WHERE table_name = 'public.loan_applications') AS current_rows
FROM loan_applications;

--
-- NULL income or assets count as 0 (as the old service did): the row is
-- scored as with 0, not left unscored, and the history records 0.
--
INSERT INTO loan_applications (id, monthly_income, assets_value, loan_amount, tenor_months, note)
VALUES (5, 5000000, NULL,     10000000, 12, 'no assets given'),
       (6, NULL,    20000000, 10000000, 12, 'no income given'),
       (7, NULL,    NULL,     10000000, 12, 'neither');
SELECT l.id, l.credit_score, l.segment,
       l.credit_score = (credit.score_credit(coalesce(l.monthly_income, 0), coalesce(l.assets_value, 0),
                                             l.loan_amount, l.tenor_months)).credit_score AS scored_as_zero
FROM loan_applications l
WHERE l.id IN (5, 6, 7)
ORDER BY l.id;
SELECT row_key, monthly_income, assets, credit_score
FROM credit.score_history
WHERE table_name = 'public.loan_applications' AND row_key IN ('5', '6', '7')
ORDER BY id;

--
-- enable_scoring is idempotent: calling it again with the same arguments
-- leaves the same three triggers, the same columns, quietly, and rescores
-- nothing that has not changed (no new history rows).
--
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.loan_applications';
SELECT credit.enable_scoring('loan_applications');
SELECT credit.enable_scoring('loan_applications');
SELECT t.tgname, t.tgenabled = 'O' AS enabled
FROM pg_trigger t
WHERE t.tgrelid = 'loan_applications'::regclass AND NOT t.tgisinternal
ORDER BY t.tgname COLLATE "C";
SELECT count(*) AS score_columns
FROM pg_attribute
WHERE attrelid = 'loan_applications'::regclass AND NOT attisdropped
  AND attname IN ('credit_score', 'default_probability', 'segment', 'decision', 'scored_at');
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.loan_applications';
SELECT count(*) AS registrations
FROM credit.scored_tables WHERE relid = 'loan_applications'::regclass;

--
-- Other column names, given as arguments; a row key that is not the primary
-- key (key =>); integer types of any width.  Rows already in the table are
-- scored when scoring is enabled, each with a first history row.
--
CREATE TABLE applications_custom (
    internal_id  serial PRIMARY KEY,
    app_ref      text NOT NULL UNIQUE,
    income_month numeric(14,2),
    collateral   bigint,
    requested    numeric(14,2),
    months       smallint
);
INSERT INTO applications_custom (app_ref, income_month, collateral, requested, months)
VALUES ('APP-001',  5000000, 20000000, 10000000, 12),
       ('APP-002', 10000000,  5000000, 50000000, 24),
       ('APP-003',  2000000,        0, 10000000,  6);

SELECT credit.enable_scoring('applications_custom',
                             income => 'income_month',
                             assets => 'collateral',
                             amount => 'requested',
                             tenor  => 'months',
                             key    => 'app_ref');

SELECT app_ref, credit_score, default_probability, segment, scored_at IS NOT NULL AS scored
FROM applications_custom
ORDER BY app_ref;
SELECT table_name, row_key, monthly_income, assets, loan_amount, tenor_months, credit_score
FROM credit.score_history
WHERE table_name = 'public.applications_custom'
ORDER BY id;

INSERT INTO applications_custom (app_ref, income_month, collateral, requested, months)
VALUES ('APP-004', 5000000, 20000000, 10000000, 36);
UPDATE applications_custom SET collateral = 9000000 WHERE app_ref = 'APP-001';   -- acr 0.9: +50
SELECT app_ref, credit_score, segment
FROM applications_custom
ORDER BY app_ref;
SELECT row_key, collateral_used, credit_score
FROM (SELECT id, row_key, assets AS collateral_used, credit_score
      FROM credit.score_history
      WHERE table_name = 'public.applications_custom') h
ORDER BY id;

-- Misconfigurations are refused before anything is changed.
SELECT credit.enable_scoring('applications_custom',
                             income => 'no_such_column', assets => 'collateral',
                             amount => 'requested', tenor => 'months', key => 'app_ref');
\echo SQLSTATE :SQLSTATE
SELECT credit.enable_scoring('applications_custom',
                             income => 'app_ref', assets => 'collateral',
                             amount => 'requested', tenor => 'months', key => 'app_ref');
\echo SQLSTATE :SQLSTATE
CREATE TABLE applications_no_key (monthly_income numeric, assets_value numeric,
                                  loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('applications_no_key');
\echo SQLSTATE :SQLSTATE
CREATE VIEW applications_view AS SELECT * FROM loan_applications;
SELECT credit.enable_scoring('applications_view');
\echo SQLSTATE :SQLSTATE
-- Nothing was attached or added by the failed calls.
SELECT count(*) AS triggers
FROM pg_trigger WHERE tgrelid = 'applications_no_key'::regclass AND NOT tgisinternal;
SELECT count(*) AS score_columns
FROM pg_attribute WHERE attrelid = 'applications_no_key'::regclass AND attname = 'credit_score';
-- The configuration of applications_custom is still the one given above.
SELECT income_column, assets_column, amount_column, tenor_column, key_column
FROM credit.scored_tables WHERE relid = 'applications_custom'::regclass;
DROP VIEW applications_view;
DROP TABLE applications_no_key;

--
-- disable_scoring: the triggers go; the score columns, their values and the
-- history stay.  Afterwards writes are not scored.
--
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.applications_custom';
SELECT credit.disable_scoring('applications_custom');
SELECT count(*) AS triggers
FROM pg_trigger WHERE tgrelid = 'applications_custom'::regclass AND NOT tgisinternal;
SELECT count(*) AS registrations
FROM credit.scored_tables WHERE relid = 'applications_custom'::regclass;
SELECT a.attname
FROM pg_attribute a
WHERE a.attrelid = 'applications_custom'::regclass
  AND a.attname IN ('credit_score', 'default_probability', 'segment', 'decision', 'scored_at')
ORDER BY a.attnum;
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.applications_custom';
-- Again: nothing to do, and it says so once.
SET client_min_messages = notice;
SELECT credit.disable_scoring('applications_custom');
RESET client_min_messages;

INSERT INTO applications_custom (app_ref, income_month, collateral, requested, months)
VALUES ('APP-005', 5000000, 20000000, 10000000, 12);
UPDATE applications_custom SET income_month = 1 WHERE app_ref = 'APP-002';
SELECT app_ref, credit_score, segment, scored_at IS NOT NULL AS scored
FROM applications_custom
ORDER BY app_ref;
SELECT count(*) AS history_rows
FROM credit.score_history WHERE table_name = 'public.applications_custom';

-- Enabling again catches up: every row's stored score is that of its
-- current inputs, and the rows written while scoring was off now have a
-- history row with that score.
SELECT credit.enable_scoring('applications_custom',
                             income => 'income_month', assets => 'collateral',
                             amount => 'requested', tenor => 'months', key => 'app_ref');
SELECT a.app_ref, a.credit_score, a.segment,
       a.credit_score = (credit.score_credit(a.income_month, a.collateral, a.requested, a.months)).credit_score
           AS current,
       (SELECT h.credit_score FROM credit.score_history h
        WHERE h.table_name = 'public.applications_custom' AND h.row_key = a.app_ref
        ORDER BY h.id DESC LIMIT 1) = a.credit_score AS history_current
FROM applications_custom a
ORDER BY a.app_ref;

--
-- Upserts and MERGE, as applications write: the inserted rows and the
-- updated ones are scored, with history and alerts like plain INSERT and
-- UPDATE.  Application 1: income 5,000,000 -> 3,000,000 (upsert, 600 -> 550)
-- -> 1,000,000 (MERGE, 550 -> 300, DSR 0.96).
--
CREATE TABLE applications_upsert (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer,
    note           text
);
SELECT credit.enable_scoring('applications_upsert');
INSERT INTO applications_upsert VALUES (1, 5000000, 20000000, 10000000, 12, 'first');
INSERT INTO applications_upsert VALUES (1, 3000000, 20000000, 10000000, 12, 'resubmitted'),
                                       (2, 5000000, 20000000, 10000000, 12, 'new')
ON CONFLICT (id) DO UPDATE SET monthly_income = EXCLUDED.monthly_income, note = EXCLUDED.note;
-- An upsert that only touches the note does not rescore.
INSERT INTO applications_upsert VALUES (2, 5000000, 20000000, 10000000, 12, 'noted')
ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note;
MERGE INTO applications_upsert a
USING (VALUES (1, 1000000), (3, 5000000)) AS v(id, income) ON a.id = v.id
WHEN MATCHED THEN UPDATE SET monthly_income = v.income
WHEN NOT MATCHED THEN INSERT VALUES (v.id, v.income, 20000000, 10000000, 12, 'merged');
SELECT id, note, credit_score, segment, decision FROM applications_upsert ORDER BY id;
SELECT row_key, monthly_income, credit_score
FROM credit.score_history WHERE table_name = 'public.applications_upsert'
ORDER BY id;
SELECT row_key, kind, old_score, new_score
FROM credit.score_alerts WHERE table_name = 'public.applications_upsert'
ORDER BY id;
DROP TABLE applications_upsert;

--
-- Bulk: COPY (with two bad rows among 242) and a 10,000-row
-- INSERT ... SELECT.  Every stored score equals score_credit of the row's
-- inputs, and there is exactly one history row per row.
--
CREATE TABLE loan_batch (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer,
    note           text
);
SELECT credit.enable_scoring('loan_batch');

COPY loan_batch (id, monthly_income, assets_value, loan_amount, tenor_months, note) FROM STDIN;
1001	330356	\N	51523039	37	batch 1
1002	311765	\N	25364443	1	batch 2
1003	12298703.92	\N	12320620	36	batch 3
1004	3317206	16225592	29959942	25	batch 0
1005	850404	5446157.5	53882119	6	batch 1
1006	5157898.29	0	50415183	120	batch 2
1007	\N	\N	5517254	36	batch 3
1008	12195125	5286791.5	13910099	120	batch 0
1009	2531348.89	\N	25963715	24	batch 1
1010	12384110	6927516.5	2998490	13	batch 2
1011	3451314	7566726.5	1414050	60	batch 3
1012	615679.80	3716486.5	29914603	25	batch 0
1013	5182	0	10418278	25	batch 1
1014	12050551	\N	5841978	37	batch 2
1015	5573603.13	2550124	12311312	120	batch 3
1016	3103145	\N	2626526	37	batch 0
1017	5699284	10649752	54705274	36	batch 1
1018	5886030.60	6978353.5	29820790	1	batch 2
1019	12128644	\N	3923025	120	batch 3
1020	413300	0	51314530	60	batch 0
1021	5539952.99	56558673	12065367	60	batch 1
1022	12141057	33074520	4357498	120	batch 2
1023	665797	7387100.5	28676884	120	batch 3
1024	490124.02	\N	5584381	12	batch 0
1025	12274057	\N	54206456	1	batch 1
1026	161241	5168430.5	27878110	1	batch 2
1027	12635052.11	0	29167437	12	batch 3
1028	584532	0	5086627	120	batch 0
1029	5220451	0	11877661	25	batch 1
1030	1070766.12	6091184	52324355	60	batch 2
1031	12924976	54231377	53908163	25	batch 3
1032	12197911	5783191	28656998	12	batch 0
1033	12110734.72	6004834	10084616	13	batch 1
1034	2558099	\N	26777137	37	batch 2
1035	5379588	\N	25791295	120	batch 3
1036	3300496.81	\N	25830077	60	batch 0
1037	5227503	5740523.5	12017342	36	batch 1
1038	646945	916011.5	28066555	12	batch 2
1039	449999.84	12149847	3111415	24	batch 3
1040	784795	0	11382844	37	batch 0
1041	5949867	53209648	13458334	25	batch 1
1042	12504287.14	735409	5166978	60	batch 2
1043	12559756	5115768.5	27259940	1	batch 3
1044	2911977	0	51102994	25	batch 0
1045	363966.49	11449840	11688111	6	batch 1
1046	5291241	6633652.5	29043004	25	batch 2
1047	\N	58399146	1277441	25	batch 3
1048	3451443.04	0	12529601	37	batch 0
1049	386322	11010271	12016903	120	batch 1
1050	5467804	\N	5322735	6	batch 2
1051	2768241.18	0	26345744	60	batch 3
1052	470566	31916966	13221215	36	batch 0
1053	12079666	1851568	3925491	13	batch 1
1054	5133314.01	2607469.5	1244065	1	batch 2
1055	332854	21572038	54048536	120	batch 3
1056	12322841	\N	13509758	25	batch 0
1057	180439.53	8165440.5	4468665	6	batch 1
1058	12548723	\N	28887646	25	batch 2
1059	2888473	\N	26098623	1	batch 3
1060	12407134.90	\N	4319604	13	batch 0
1061	5737122	32356953	26439715	24	batch 1
1062	3016570	1360858	27978148	24	batch 2
1063	779124.84	0	52197603	60	batch 3
1064	378627	\N	11911935	12	batch 0
1065	481612	0	11882126	37	batch 1
1066	906934.84	5759626.5	29819209	120	batch 2
1067	834090	\N	54554661	24	batch 3
1068	674828	\N	53779714	24	batch 0
1069	426679.20	0	50601550	60	batch 1
1070	12027208	1233711.5	26578222	37	batch 2
1071	203228	28104098	25915289	13	batch 3
1072	12780746.22	\N	14044697	36	batch 0
1073	311584	0	28400902	36	batch 1
1074	212609	2322036.5	12305714	25	batch 2
1075	305319.27	4380868.5	52734971	37	batch 3
1076	861751	0	53915612	6	batch 0
1077	2848163	8839438.5	2089952	25	batch 1
1078	100008.07	\N	10686014	37	batch 2
1079	436882	0	14549741	24	batch 3
1080	5453403	0	25568123	13	batch 0
1081	12748930.80	5938211.5	28007892	25	batch 1
1082	701615	316210.5	10719912	25	batch 2
1083	1124533	48351231	52247751	1	batch 3
1084	5091154.35	\N	11923768	13	batch 0
1085	138969	1389375.5	28296964	1	batch 1
1086	5573023	6150532.5	54577009	6	batch 2
1087	\N	3022641.5	54037164	25	batch 3
1088	453862	1259925.5	3550306	60	batch 0
1089	3008170	\N	52527466	1	batch 1
1090	12952894.23	0	2573393	60	batch 2
1091	3294661	11292.5	29440211	1	batch 3
1092	930226	18826680	26800528	60	batch 0
1093	809000.96	3443633.5	51308716	1	batch 1
1094	920179	\N	10911533	24	batch 2
1095	5349743	0	51080416	25	batch 3
1096	891106.21	2116919.5	4600826	37	batch 0
1097	12961811	\N	50976555	12	batch 1
1098	12055000	716568.5	26820011	60	batch 2
1099	540053.38	0	28744024	36	batch 3
1100	5657542	39778214	51677739	120	batch 0
1101	3411052	0	13472765	60	batch 1
1102	884252.25	\N	25340948	12	batch 2
1103	983940	\N	53351963	120	batch 3
1104	820277	\N	4579931	6	batch 0
1105	12608959.03	\N	50791505	13	batch 1
1106	329260	985027.5	14958637	1	batch 2
1107	2789308	0	25268076	60	batch 3
1108	5914143.90	5998775.5	10728446	13	batch 0
1109	1059298	\N	29364747	6	batch 1
1110	589235	0	28032351	24	batch 2
1111	12102074.14	35357521	5285345	36	batch 3
1112	5569279	\N	26392490	6	batch 0
1113	12918861	8820074.5	12777019	25	batch 1
1114	839425.37	0	25036635	1	batch 2
1115	5950237	33942574	3127201	24	batch 3
1116	5036125	0	50274225	36	batch 0
1117	924637.02	10267652	29872761	12	batch 1
1118	2998842	4656460.5	1721663	24	batch 2
1119	878051	0	26805855	25	batch 3
1120	5290828.59	42060697	14628900	13	batch 0
1121	12155224	\N	13788078	36	batch 1
1122	818305	3704453.5	3787199	13	batch 2
1123	12450205.83	\N	2583777	36	batch 3
1124	5087650	50559508	2868225	60	batch 0
1125	406618	0	13922539	24	batch 1
1126	5051394.65	37428974	1522235	13	batch 2
1127	\N	0	26814714	25	batch 3
1128	294955	0	4663583	6	batch 0
1129	535985.82	703909	29221655	36	batch 1
1130	12116446	0	25611391	12	batch 2
1131	2716570	0	2969435	36	batch 3
1132	5155548.47	7626228.5	27601938	120	batch 0
1133	5323573	0	26623217	37	batch 1
1134	565987	54154606	10158920	37	batch 2
1135	12956808.24	22516079	11472527	37	batch 3
1136	12014466	8194498.5	14644686	13	batch 0
1137	383934	0	54910324	24	batch 1
1138	191058.06	18685885	50842886	1	batch 2
1139	12719563	0	1758326	60	batch 3
1140	3109396	0	28737526	12	batch 0
1141	262537.14	\N	13301878	120	batch 1
1142	5641910	\N	1985351	120	batch 2
1143	2733274	0	25866243	120	batch 3
1144	936704.90	35382413	10563595	36	batch 0
1145	504207	\N	3831683	60	batch 1
1146	12146798	0	1383397	120	batch 2
1147	12189682.75	0	13374551	24	batch 3
1148	901641	0	54044150	36	batch 0
1149	12110302	\N	1109250	60	batch 1
1150	12948049.60	0	53569191	25	batch 2
1151	12064617	48684597	3557052	37	batch 3
1152	864615	4407782.5	54945710	6	batch 0
1153	5546532.21	\N	2878827	37	batch 1
1154	5880116	0	1553948	24	batch 2
1155	12697119	0	5745009	1	batch 3
1156	3380504.85	0	25001984	36	batch 0
1157	1104654	55883115	12769723	13	batch 1
1158	12774006	\N	50916391	24	batch 2
1159	346600.78	53086383	50486118	60	batch 3
1160	67465	0	28110438	12	batch 0
1161	12042086	8400759	1270254	24	batch 1
1162	2998007.19	0	10956288	12	batch 2
1163	785773	33930138	2393070	1	batch 3
1164	5451648	52597.5	5304124	24	batch 0
1165	3364210.29	0	11151316	120	batch 1
1166	12009924	7360274.5	27478286	60	batch 2
1167	\N	5765891.5	3310015	36	batch 3
1168	5134272.64	1265005.5	53267793	6	batch 0
1169	12842579	48110098	26013806	25	batch 1
1170	2820493	49048368	11700585	1	batch 2
1171	3240246.53	321116.5	50109363	36	batch 3
1172	5326178	0	14022489	12	batch 0
1173	3472534	\N	27845605	36	batch 1
1174	5969962.50	0	50746008	24	batch 2
1175	5787545	\N	54428324	12	batch 3
1176	229964	21954966	29400643	24	batch 0
1177	907586.27	\N	5960831	120	batch 1
1178	5648115	6571372.5	5566138	13	batch 2
1179	586794	\N	29900439	120	batch 3
1180	5097606.19	\N	12611468	24	batch 0
1181	175701	0	12256041	12	batch 1
1182	3167886	24667828	26351993	36	batch 2
1183	2999723.80	0	27039641	60	batch 3
1184	3238805	1380689	25133349	1	batch 0
1185	5170970	43864376	26888355	37	batch 1
1186	588613.93	3895812.5	5123050	36	batch 2
1187	3252962	0	29829628	12	batch 3
1188	241093	\N	25641010	6	batch 0
1189	3489500.99	\N	3938028	13	batch 1
1190	5976259	0	28168607	1	batch 2
1191	5470179	\N	5710313	6	batch 3
1192	3330583.04	0	5416455	37	batch 0
1193	12888752	\N	14295915	1	batch 1
1194	618002	0	26376452	6	batch 2
1195	12627765.30	0	50105810	25	batch 3
1196	408266	5224403	54881843	24	batch 0
1197	12733971	0	1354328	37	batch 1
1198	767208.37	0	26133733	6	batch 2
1199	946889	4515637	27793925	24	batch 3
1200	2991342	9553895	29548082	36	batch 0
1201	607635.60	27495783	25568678	25	batch 1
1202	810130	59131459	50254276	36	batch 2
1203	1094360	\N	10768755	12	batch 3
1204	5260154.79	0	54319154	60	batch 0
1205	2982174	\N	28635647	6	batch 1
1206	138434	0	14897160	12	batch 2
1207	\N	1307227.5	28691331	1	batch 3
1208	508508	30041205	11647262	24	batch 0
1209	12086230	\N	10490833	120	batch 1
1210	12966411.17	\N	14345958	6	batch 2
1211	12580782	0	1275449	60	batch 3
1212	471440	4686442.5	52528873	6	batch 0
1213	12998509.97	\N	54930157	24	batch 1
1214	938404	7552088.5	27661592	24	batch 2
1215	2691915	\N	2436988	1	batch 3
1216	2885570.26	0	11544368	24	batch 0
1217	37803	0	1524797	60	batch 1
1218	771892	\N	28770617	12	batch 2
1219	591195.84	4848636.5	51210395	37	batch 3
1220	3497250	47598886	2679454	6	batch 0
1221	563742	0	10875374	24	batch 1
1222	12292825.14	0	2561704	12	batch 2
1223	5587640	41991362	3185196	24	batch 3
1224	2639355	441802.5	53488885	24	batch 0
1225	675804.85	0	28105710	24	batch 1
1226	12310411	57215875	50247783	13	batch 2
1227	12337286	0	2352290	6	batch 3
1228	12352519.10	0	2019926	120	batch 0
1229	899635	\N	29041649	1	batch 1
1230	12763114	\N	13248635	60	batch 2
1231	1024975.03	32737467	27319347	1	batch 3
1232	999968	1698003.5	1132151	13	batch 0
1233	5772498	7726677.5	54192982	25	batch 1
1234	784480.09	9478936	25170684	24	batch 2
1235	3250525	5403397.5	14470787	24	batch 3
1236	1045593	4240036.5	14891753	13	batch 0
1237	147218.30	5582772.5	52591647	37	batch 1
1238	12385479	7993276.5	4934677	37	batch 2
1239	2686541	3021170.5	12924139	60	batch 3
1240	2754648.31	\N	25007284	12	batch 0
1241	-5	0	1000000	12	bad: negative income
1242	5000000	0	1000000	0	bad: tenor 0
\.

SELECT count(*) AS rows,
       count(*) FILTER (WHERE credit_score IS NOT NULL) AS scored,
       count(*) FILTER (WHERE credit_score IS NULL) AS not_scored,
       count(*) FILTER (WHERE scored_at IS NULL) AS scored_at_null
FROM loan_batch;

-- Mismatches between stored and computed scores (NULL income or assets as
-- 0; try_score_credit is NULL for the bad rows): expect 0.
SELECT count(*) AS mismatches
FROM loan_batch b
CROSS JOIN LATERAL credit.try_score_credit(coalesce(b.monthly_income, 0), coalesce(b.assets_value, 0),
                                           b.loan_amount, b.tenor_months) AS s
WHERE b.credit_score IS DISTINCT FROM s.credit_score
   OR b.default_probability IS DISTINCT FROM s.default_probability
   OR b.segment IS DISTINCT FROM s.segment;

-- The bad rows went in unscored, each with an invalid_input alert naming
-- the reason (nothing is dropped silently, as the old bulk endpoint did).
SELECT row_key, kind, details->>'reason' AS reason
FROM credit.score_alerts
WHERE table_name = 'public.loan_batch' AND kind = 'invalid_input'
ORDER BY row_key;

-- One history row per row, equal to the row.
SELECT count(*) AS history_rows,
       count(DISTINCT h.row_key) AS distinct_keys,
       count(*) FILTER (WHERE h.credit_score IS DISTINCT FROM b.credit_score
                           OR h.scored_at IS DISTINCT FROM b.scored_at) AS differing
FROM credit.score_history h
JOIN loan_batch b ON b.id::text = h.row_key
WHERE h.table_name = 'public.loan_batch';

-- 10,000 rows in one statement, inputs spread over every band.
INSERT INTO loan_batch (id, monthly_income, assets_value, loan_amount, tenor_months, note)
SELECT g,
       (g * 7919 % 10007) * 1000 + (g % 100) / 100.0,
       CASE WHEN g % 17 = 0 THEN NULL ELSE (g * 104729 % 30011) * 1000 END,
       (g * 15485863 % 20011) * 1000 + 1000,
       1 + g * 31 % 60,
       'generated'
FROM generate_series(10001::bigint, 20000) AS g;

SELECT count(*) AS rows,
       count(*) FILTER (WHERE credit_score IS NULL) AS not_scored,
       count(DISTINCT credit_score) AS distinct_scores,
       count(DISTINCT segment) AS distinct_segments,
       count(DISTINCT decision) AS distinct_decisions
FROM loan_batch WHERE id > 10000;

SELECT count(*) AS mismatches
FROM loan_batch b
CROSS JOIN LATERAL credit.score_credit(coalesce(b.monthly_income, 0), coalesce(b.assets_value, 0),
                                       b.loan_amount, b.tenor_months) AS s
WHERE b.id > 10000
  AND (b.credit_score IS DISTINCT FROM s.credit_score
       OR b.default_probability IS DISTINCT FROM s.default_probability
       OR b.segment IS DISTINCT FROM s.segment
       OR b.decision IS DISTINCT FROM
          (credit.decide(coalesce(b.monthly_income, 0), coalesce(b.assets_value, 0),
                         b.loan_amount, b.tenor_months)).decision);

SELECT count(*) AS history_rows,
       count(DISTINCT h.row_key) AS distinct_keys,
       count(*) FILTER (WHERE h.credit_score IS DISTINCT FROM b.credit_score
                           OR h.monthly_income IS DISTINCT FROM coalesce(b.monthly_income, 0)
                           OR h.assets IS DISTINCT FROM coalesce(b.assets_value, 0)
                           OR h.loan_amount IS DISTINCT FROM b.loan_amount
                           OR h.tenor_months IS DISTINCT FROM b.tenor_months) AS differing
FROM credit.score_history h
JOIN loan_batch b ON b.id::text = h.row_key
WHERE h.table_name = 'public.loan_batch' AND b.id > 10000;

-- A bulk UPDATE of an input (every income cut by a third) rescores every
-- row once; the unrelated bulk UPDATE after it rescores none.
UPDATE loan_batch SET monthly_income = round(monthly_income * 2 / 3, 2) WHERE id > 10000;
UPDATE loan_batch SET note = 'reviewed' WHERE id > 10000;

SELECT count(*) AS mismatches
FROM loan_batch b
CROSS JOIN LATERAL credit.score_credit(coalesce(b.monthly_income, 0), coalesce(b.assets_value, 0),
                                       b.loan_amount, b.tenor_months) AS s
WHERE b.id > 10000
  AND (b.credit_score IS DISTINCT FROM s.credit_score
       OR b.default_probability IS DISTINCT FROM s.default_probability
       OR b.segment IS DISTINCT FROM s.segment
       OR b.decision IS DISTINCT FROM
          (credit.decide(coalesce(b.monthly_income, 0), coalesce(b.assets_value, 0),
                         b.loan_amount, b.tenor_months)).decision);

SELECT count(*) AS history_rows,
       count(DISTINCT h.row_key) AS distinct_keys
FROM credit.score_history h
WHERE h.table_name = 'public.loan_batch'
  AND h.row_key IN (SELECT id::text FROM loan_batch WHERE id > 10000);

-- The alerts of the two bulk statements agree with the history, row by
-- row: score_drop where the rescored score is at least 15 (the default)
-- below the first; dsr_critical where DSR (installment / income) is above
-- 0.60 and was not before.  Expect no differing rows.
WITH h AS (
    SELECT row_key, credit_score, critical,
           lag(credit_score) OVER w AS previous_score,
           lag(critical) OVER w AS previous_critical
    FROM (SELECT id, row_key, credit_score,
                 monthly_income > 0
                   AND loan_amount * 1.15 > 0.60 * monthly_income * tenor_months AS critical
          FROM credit.score_history
          WHERE table_name = 'public.loan_batch'
            AND row_key IN (SELECT id::text FROM loan_batch WHERE id > 10000)) s
    WINDOW w AS (PARTITION BY row_key ORDER BY id)
), expected AS (
    SELECT row_key, 'score_drop' AS kind FROM h WHERE previous_score - credit_score >= 15
    UNION ALL
    SELECT row_key, 'dsr_critical' FROM h WHERE critical AND NOT coalesce(previous_critical, false)
), actual AS (
    SELECT row_key, kind
    FROM credit.score_alerts
    WHERE table_name = 'public.loan_batch'
      AND row_key IN (SELECT id::text FROM loan_batch WHERE id > 10000)
), differing AS (
    (SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
    UNION ALL
    (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)
)
SELECT k.kind,
       (SELECT count(*) FROM expected e WHERE e.kind = k.kind) AS expected,
       (SELECT count(*) FROM actual a WHERE a.kind = k.kind) AS alerts,
       (SELECT count(*) FROM differing d WHERE d.kind = k.kind) AS differing
FROM (VALUES ('score_drop'), ('dsr_critical'), ('invalid_input')) AS k(kind)
ORDER BY k.kind COLLATE "C";

DROP TABLE loan_batch;
DROP TABLE applications_custom;
DROP TABLE loan_applications;

-- Dropping a scored table forgets its registration (its history and alerts
-- stay: they are the audit trail), so a new table of the same name can be
-- scored.
SELECT table_name
FROM credit.scored_tables
WHERE table_name IN ('public.loan_applications', 'public.applications_custom', 'public.loan_batch');
-- ... nor rows in the current views.
SELECT count(*) AS current_rows
FROM credit.latest_scores
WHERE table_name IN ('public.loan_applications', 'public.applications_custom', 'public.loan_batch');
CREATE TABLE loan_batch (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('loan_batch');
INSERT INTO loan_batch VALUES (99999, 5000000, 20000000, 10000000, 12);
SELECT id, credit_score, segment FROM loan_batch;
DROP TABLE loan_batch;

--
-- What enable_scoring refuses, with the reason.
--
-- A generated input column: a row trigger runs before it is computed.
CREATE TABLE generated_income (
    id             integer PRIMARY KEY,
    annual_income  numeric,
    monthly_income numeric GENERATED ALWAYS AS (annual_income / 12) STORED,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('generated_income');
DROP TABLE generated_income;
-- A key whose text depends on the session's settings (TimeZone here).
CREATE TABLE timed_applications (
    applied_at     timestamptz PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
SELECT credit.enable_scoring('timed_applications');
DROP TABLE timed_applications;

--
-- real and double precision inputs are scored as their cast to numeric
-- (what history records), whatever extra_float_digits says.
--
CREATE TABLE float_applications (
    id             integer PRIMARY KEY,
    monthly_income double precision,
    assets_value   real,
    loan_amount    real,
    tenor_months   integer
);
SELECT credit.enable_scoring('float_applications');
SET extra_float_digits = -15;
INSERT INTO float_applications VALUES (1, 10000, 79999.96, 100000, 24), (2, 1234.5678, 0.1, 20000, 36);
RESET extra_float_digits;
SELECT a.id, h.monthly_income, h.assets, h.loan_amount, a.credit_score,
       a.credit_score = (credit.score_credit(a.monthly_income::numeric, a.assets_value::numeric,
                                             a.loan_amount::numeric, a.tenor_months)).credit_score AS as_numeric,
       h.credit_score = a.credit_score AS history_agrees
FROM float_applications a
JOIN credit.score_history h ON h.table_name = 'public.float_applications' AND h.row_key = a.id::text
ORDER BY a.id;
SELECT count(*) AS wrong_scores FROM credit.verify('float_applications');

-- disable_scoring: the table leaves the current views (history stays).
SELECT credit.disable_scoring('float_applications');
SELECT (SELECT count(*) FROM credit.latest_scores WHERE table_name = 'public.float_applications') AS current_rows,
       (SELECT count(*) FROM credit.score_history WHERE table_name = 'public.float_applications') AS history_rows;
DROP TABLE float_applications;
