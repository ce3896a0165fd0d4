--
-- 00_setup: install the extension and look at what it put in the database.
--
-- This runs first (see ../schedule) in a freshly created database; the other
-- tests rely on the extension installed here.
--
\set ON_ERROR_STOP 0
\set VERBOSITY default
\set SHOW_CONTEXT never

-- All a DBA types:
CREATE EXTENSION credit_scoring;

-- Installed in schema credit, at the version the control file advertises,
-- not relocatable (trigger code refers to credit.* by name).
SELECT e.extname,
       e.extnamespace::regnamespace AS schema,
       e.extrelocatable AS relocatable,
       e.extversion = a.default_version AS is_default_version
FROM pg_extension e
JOIN pg_available_extensions a ON a.name = e.extname
WHERE e.extname = 'credit_scoring';

-- The composite every scoring function returns: fields in this order, with
-- these types (BI tools and `SELECT *` depend on the order).
SELECT a.attnum,
       a.attname AS field,
       format_type(a.atttypid, a.atttypmod) AS type
FROM pg_attribute a
WHERE a.attrelid = 'credit.score_result'::regclass
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum;

-- Every function, aggregate and procedure in schema credit, with the
-- properties the planner relies on.  Argument names are part of the API
-- (named notation: score_credit(monthly_income => ..., ...)).
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature,
       pg_get_function_result(p.oid) AS returns,
       CASE p.prokind
            WHEN 'f' THEN 'function' WHEN 'a' THEN 'aggregate'
            WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window' END AS kind,
       CASE p.provolatile
            WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable'
            WHEN 'v' THEN 'volatile' END AS volatility,
       p.proisstrict AS strict,
       CASE p.proparallel
            WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted'
            WHEN 'u' THEN 'unsafe' END AS parallel,
       p.prosecdef AS security_definer
FROM pg_proc p
WHERE p.pronamespace = 'credit'::regnamespace
ORDER BY p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C";

-- Contract of the pure scoring functions (SPEC section 2): the same inputs
-- always give the same answer, so they must be IMMUTABLE and PARALLEL SAFE
-- (usable in indexes, generated columns and parallel scans), and
-- score_credit and decide must be STRICT.  The variants taking a scorecard
-- name read credit.scorecards, so they are STABLE (still PARALLEL SAFE and
-- STRICT).  Expect zero rows.
SELECT p.oid::regprocedure AS violates_contract,
       p.provolatile, p.proparallel, p.proisstrict
FROM pg_proc p
WHERE p.pronamespace = 'credit'::regnamespace
  AND p.proname IN ('score_credit', 'try_score_credit', 'decide',
                    'validate_application', 'explain_score')
  AND (p.provolatile <> CASE WHEN p.pronargs = 5 THEN 's' ELSE 'i' END
       OR p.proparallel <> 's'
       OR (p.proname IN ('score_credit', 'decide') AND NOT p.proisstrict));

-- The documented entry points (SPEC section 2) exist with these argument
-- types and result types.  Expect as_documented = t on every row.
SELECT v.signature,
       pg_get_function_result(to_regprocedure(v.signature)) AS returns,
       pg_get_function_result(to_regprocedure(v.signature)) IS NOT DISTINCT FROM v.documented
           AS as_documented
FROM (VALUES
  (1, 'credit.score_credit(numeric,numeric,numeric,integer)',          'credit.score_result'),
  (2, 'credit.try_score_credit(numeric,numeric,numeric,integer)',      'credit.score_result'),
  (3, 'credit.validate_application(numeric,numeric,numeric,integer)',  'text'),
  (4, 'credit.explain_score(numeric,numeric,numeric,integer)',         'jsonb'),
  (5, 'credit.risk_summary(credit.score_result)',                      'jsonb')
) AS v(n, signature, documented)
ORDER BY v.n;

-- Every object carries a COMMENT, so \df+, \dT+ and \d+ explain themselves.
-- Checked: the schema, every member of the extension, and every function,
-- type and relation in schema credit.  Not checked: array types, row types
-- of tables, indexes, and sequences owned by a column (PostgreSQL creates
-- those implicitly).  Expect zero rows.
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'credit_scoring'
), objects(classid, objid) AS (
    SELECT d.classid, d.objid
    FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass
      AND d.refobjid = ext.oid
      AND d.deptype = 'e'
    UNION
    SELECT 'pg_namespace'::regclass, 'credit'::regnamespace::oid
    UNION
    SELECT 'pg_proc'::regclass, p.oid
    FROM pg_proc p
    WHERE p.pronamespace = 'credit'::regnamespace
    UNION
    SELECT 'pg_type'::regclass, t.oid
    FROM pg_type t
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE t.typnamespace = 'credit'::regnamespace
      AND t.typcategory <> 'A'
      AND (t.typrelid = 0 OR c.relkind = 'c')
    UNION
    SELECT 'pg_class'::regclass, c.oid
    FROM pg_class c
    WHERE c.relnamespace = 'credit'::regnamespace
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
)
SELECT i.type AS object_type, i.identity AS missing_comment
FROM objects o
CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, 0) AS i
WHERE NOT EXISTS (
        SELECT 1 FROM pg_description d
        WHERE d.classoid = o.classid AND d.objoid = o.objid AND d.objsubid = 0)
  -- implicit sequences behind serial / identity columns
  AND NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE o.classid = 'pg_class'::regclass
          AND d.classid = 'pg_class'::regclass AND d.objid = o.objid
          AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
  -- composite types are commented on their pg_type entry, not pg_class
  AND NOT (o.classid = 'pg_class'::regclass
           AND (SELECT relkind FROM pg_class WHERE oid = o.objid) = 'c')
ORDER BY i.type COLLATE "C", i.identity COLLATE "C";

-- Nothing in schema credit lives outside the extension (it would survive
-- DROP EXTENSION and be missed by pg_dump's extension handling).
-- Expect zero rows.
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'credit_scoring'
), in_schema(classid, objid) AS (
    SELECT 'pg_proc'::regclass, oid FROM pg_proc
    WHERE pronamespace = 'credit'::regnamespace
    UNION
    SELECT 'pg_type'::regclass, t.oid FROM pg_type t
    LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE t.typnamespace = 'credit'::regnamespace
      AND t.typcategory <> 'A'
      AND (t.typrelid = 0 OR c.relkind = 'c')
    UNION
    SELECT 'pg_class'::regclass, oid FROM pg_class
    WHERE relnamespace = 'credit'::regnamespace
      AND relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT i.identity AS not_an_extension_member
FROM in_schema s
CROSS JOIN ext
CROSS JOIN LATERAL pg_identify_object(s.classid, s.objid, 0) AS i
WHERE NOT EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = s.classid AND d.objid = s.objid
          AND d.refclassid = 'pg_extension'::regclass
          AND d.refobjid = ext.oid AND d.deptype = 'e')
ORDER BY i.identity COLLATE "C";

-- SECURITY DEFINER code must pin its search_path (SPEC section 3: trigger
-- code is immune to search_path tricks).  Expect zero rows.
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_proc p
WHERE p.pronamespace = 'credit'::regnamespace
  AND p.prosecdef
  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                  WHERE c LIKE 'search\_path=%')
ORDER BY 1;
