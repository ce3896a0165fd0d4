-- bench/harness.sql — deterministic loan applications for the benchmark, and
-- the server-side timer.  Loaded by bench/run.sh after bench/peers.sql.
--
-- ---------------------------------------------------------------------------
-- Data
-- ---------------------------------------------------------------------------
--
-- bench.generate_apps(n) returns rows 1..n.  Every value is a pure function of
-- the row id (hashint8 of id and a salt, integer and numeric arithmetic only,
-- no floating point, no random()), so any two runs, on any machine, score the
-- same applications, and a row's values do not depend on how many rows are
-- generated.  The spread is meant to look like a real book and to exercise
-- every band:
--   tenor        70 % common products (3,6,12,18,24,36,48,60 months),
--                30 % any of 1..60
--   income       2 % zero (no_income); else 0.5M..100M, skewed low
--                (product of two uniforms), 25 % with cents
--   loan amount  sized from a target DSR (60 % of rows 5..30 %, 20 % 30..40 %,
--                10 % 40..50 %, 10 % 50..80 %) of income over the tenor, rounded
--                to thousands; 1 % zero amount; zero-income rows 1M..500M
--   assets       10 % zero; else 20 %..300 % of the amount (ACR edges 80/120 %),
--                rounded to thousands
-- Resulting mix (1M rows): every DSR, ACR and tenor band and every reason code
-- occurs; scores 300..600, about 17 % at the 300 floor, 25 % segment medium,
-- the rest high (`low` is unreachable with the reference weights).

-- h(id, salt): a non-negative 31-bit hash, deterministic across platforms
-- (hashint8 works on the value, not on its bytes).
CREATE OR REPLACE FUNCTION bench.h(id bigint, salt integer)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN hashint8(id * 16 + salt)::bigint & 2147483647;


CREATE OR REPLACE FUNCTION bench.generate_apps(n bigint)
RETURNS SETOF bench.apps
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT id, income, assets, amount, tenor
    FROM (
        SELECT id, tenor, income, amount,
               CASE WHEN bench.h(id, 7) % 10 = 0 THEN 0::numeric
                    WHEN amount = 0 THEN (bench.h(id, 8) % 100000) * 1000::numeric
                    ELSE round(amount * (20 + bench.h(id, 8) % 281) / 100, -3)   -- ACR 20 %..300 %
               END AS assets
        FROM (
            SELECT id, tenor, income,
                   CASE WHEN bench.h(id, 5) % 100 = 0 THEN 0::numeric
                        WHEN income = 0 THEN (1 + bench.h(id, 6) % 500) * 1000000::numeric
                        -- target DSR in percent: 60 % of rows 5..30, 20 % 30..40, 10 % 40..50, 10 % 50..80
                        ELSE greatest(1000, round(income * tenor / 115 *
                             CASE WHEN bench.h(id, 10) % 10 < 6 THEN  5 + bench.h(id, 6) % 26
                                  WHEN bench.h(id, 10) % 10 < 8 THEN 30 + bench.h(id, 6) % 11
                                  WHEN bench.h(id, 10) % 10 < 9 THEN 40 + bench.h(id, 6) % 11
                                  ELSE 50 + bench.h(id, 6) % 31 END, -3))
                   END AS amount
            FROM (
                SELECT id,
                       CASE WHEN bench.h(id, 1) % 10 < 7
                            THEN (ARRAY[3, 6, 12, 12, 18, 24, 24, 36, 36, 48, 60])[1 + bench.h(id, 2) % 11]
                            ELSE 1 + bench.h(id, 2) % 60
                       END::integer AS tenor,
                       CASE WHEN bench.h(id, 3) % 50 = 0 THEN 0::numeric
                            ELSE 500000 + (bench.h(id, 3) % 200) * (bench.h(id, 4) % 200) * 2500::numeric
                                 + CASE WHEN bench.h(id, 4) % 4 = 0 THEN (bench.h(id, 9) % 100) * 0.01 ELSE 0 END
                       END AS income
                FROM generate_series(1::bigint, n) AS id
            ) t
        ) u
    ) v
$fn$;

-- ---------------------------------------------------------------------------
-- Timer
--
-- Why server-side: psql's \timing measures round trip, i.e. it adds
-- connection latency and the client's own work, and a query returning rows
-- would also pay for transferring and printing them.  Here the clock is read in
-- the backend immediately around the execution of the query, and every timed
-- query returns a single aggregated row, so the measurement is scan + scoring.
--
-- Two modes:
--   explain = false  clock_timestamp() before and after EXECUTE of the query.
--                    No instrumentation in the plan, so the cheap cases (the
--                    call floor) are not inflated by per-row bookkeeping.  The
--                    figure includes planning (a fraction of a millisecond).
--   explain = true   EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON): the server's
--                    own "Execution Time" (planning excluded; TIMING OFF so no
--                    clock reads per row, only row counters), and it reports
--                    "Workers Launched", which proves a parallel run really ran
--                    with its workers.  Used for the serial/parallel pair,
--                    both sides measured the same way.
-- `workers` sets max_parallel_workers_per_gather for this query only
-- (set_config(..., is_local => true) lasts until the end of the transaction,
-- i.e. this statement).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION bench.time_query(
    query text,
    workers integer DEFAULT 0,
    explain boolean DEFAULT false,
    OUT seconds double precision,
    OUT result text,
    OUT workers_launched integer)
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
    t0   timestamptz;
    plan jsonb;
BEGIN
    PERFORM set_config('max_parallel_workers_per_gather', workers::text, true);
    IF explain THEN
        EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON, FORMAT JSON) ' || query INTO plan;
        seconds := (plan -> 0 ->> 'Execution Time')::double precision / 1000;
        workers_launched := coalesce((jsonb_path_query_first(plan, 'strict $.**."Workers Launched"'))::integer, 0);
    ELSE
        t0 := clock_timestamp();
        EXECUTE query INTO result;
        seconds := extract(epoch FROM clock_timestamp() - t0)::double precision;
    END IF;
END
$fn$;
COMMENT ON FUNCTION bench.time_query(text, integer, boolean) IS
    'Runs one benchmark query and returns its server-side execution time in seconds (bench/harness.sql)';

-- The trigger-cost phase times data-modifying statements: EXECUTE between two
-- clock_timestamp() readings, like time_query's default mode.  AFTER
-- triggers (row and statement, with their transition tables) fire at the end
-- of the EXECUTEd statement, so they are inside the measurement; the commit
-- (WAL flush) is not.  result = the statement's row count.
CREATE OR REPLACE FUNCTION bench.time_dml(
    query text,
    OUT seconds double precision,
    OUT result text)
LANGUAGE plpgsql VOLATILE
AS $fn$
DECLARE
    t0 timestamptz;
    n  bigint;
BEGIN
    t0 := clock_timestamp();
    EXECUTE query;
    GET DIAGNOSTICS n = ROW_COUNT;
    seconds := extract(epoch FROM clock_timestamp() - t0)::double precision;
    result := n::text;
END
$fn$;
COMMENT ON FUNCTION bench.time_dml(text) IS
    'Runs one INSERT/UPDATE and returns its server-side time in seconds, AFTER triggers included (bench/harness.sql)';

-- Which generator and row count each data table was loaded with, so
-- bench/run.sh reloads only when something changed (BENCH_RELOAD=1 forces).
CREATE TABLE IF NOT EXISTS bench.data_loads (
    table_name text PRIMARY KEY,
    signature  text NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bench.data_loads IS 'Generator signature and row count of each loaded benchmark table (bench/run.sh)';
