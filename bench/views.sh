#!/usr/bin/env bash
# Dashboard queries on the BI views over a scored portfolio of a million
# loans: how long each takes (server-side, median of BENCH_RUNS).
#
#   sudo -u postgres bench/views.sh            # or PGHOST/PGUSER for another server
#
# Uses database credit_bench_views (created; BENCH_VIEWS_KEEP=1 keeps it).
# The portfolio: the demo generator (demo/portfolio.sql) with
# BENCH_VIEWS_CUSTOMERS customers (default 400000: about 1M loans), scoring
# enabled in the customers + loans layout, then a month of income changes
# (one customer in ten), so history, moves and alerts exist.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
db=credit_bench_views
customers=${BENCH_VIEWS_CUSTOMERS:-400000}
runs=${BENCH_RUNS:-3}

q() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q -c "CREATE EXTENSION credit_scoring"
echo "bench/views: loading $customers customers" >&2
start=$(date +%s)
q -v customers="$customers" < "$here/../demo/portfolio.sql"
q -c "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers')" >/dev/null
q -c "UPDATE customers SET monthly_income = round(monthly_income * 0.6, -3) WHERE id % 10 = 3" >/dev/null
q -c "VACUUM ANALYZE" >/dev/null
echo "bench/views: loaded and scored in $(( $(date +%s) - start )) s" >&2

q -v runs="$runs" <<'SQL'
CREATE FUNCTION pg_temp.time_query(sql text, runs int) RETURNS TABLE (median_ms numeric, rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    times numeric[] := '{}';
    n bigint;
BEGIN
    FOR i IN 1..runs LOOP
        t0 := clock_timestamp();
        EXECUTE 'SELECT count(*) FROM (' || sql || ') q' INTO n;
        times := times || (extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric;
    END LOOP;
    RETURN QUERY SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 1), n FROM unnest(times) x;
END
$$;
\pset format aligned
\echo
SELECT (SELECT count(*) FROM loans) AS loans, (SELECT count(*) FROM credit.score_history) AS history_rows,
       (SELECT count(*) FROM credit.score_alerts) AS alerts;
SELECT c.label AS dashboard_query, t.median_ms, t.rows
FROM (VALUES
  (1, 'portfolio_summary, whole', 'SELECT * FROM credit.portfolio_summary'),
  (2, 'current_scores, riskiest 50 of a table', $q$SELECT * FROM credit.current_scores WHERE table_name = 'public.loans' ORDER BY credit_score LIMIT 50$q$),
  (3, 'current_scores, one loan', $q$SELECT * FROM credit.current_scores WHERE table_name = 'public.loans' AND row_key = '4242'$q$),
  (4, 'segment_migration, whole', 'SELECT * FROM credit.segment_migration'),
  (5, 'decision_summary, whole', 'SELECT * FROM credit.decision_summary'),
  (6, 'open_alerts, newest 50', 'SELECT * FROM credit.open_alerts ORDER BY created_at DESC LIMIT 50'),
  (7, 'open_alerts, count by kind', 'SELECT kind, count(*) FROM credit.open_alerts GROUP BY kind'),
  (8, 'early_warnings, top 50 by DSR', 'SELECT * FROM credit.early_warnings ORDER BY dsr DESC LIMIT 50')
) AS c(n, label, sql)
CROSS JOIN LATERAL pg_temp.time_query(c.sql, :runs) AS t
ORDER BY c.n;
SQL
[ "${BENCH_VIEWS_KEEP:-0}" = 1 ] || psql -X -q -d postgres -c "DROP DATABASE $db"
