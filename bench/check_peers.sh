#!/usr/bin/env bash
# bench/check_peers.sh — proves the benchmark peers compute the reference
# scorecard exactly, against the golden vectors (expected outputs from
# reference/exact_engine.py).
#
#   bench/check_peers.sh [VECTORS.csv ...]     (default: tests/golden_vectors.csv)
#
# Checks, on every vector, every field as text (so 0.40 vs 0.4 is a mismatch):
#   - bench.score_plpgsql (PL/pgSQL peer): all 11 fields of credit.score_result
#   - bench.inline_case_scores (inline SQL CASE peer): credit_score and segment
#   - credit.score_credit, when the extension is installable: all 11 fields
#   - the timed aggregate views (bench.q_*) give the expected sum of scores
# Exits non-zero on any mismatch.
#
# Connection: standard libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD...).
# Work happens in a scratch database, BENCH_SCRATCH_DB (default bench_scratch),
# created here and dropped at the end (BENCH_KEEP_SCRATCH=1 keeps it). It is
# created/dropped from BENCH_MAINTENANCE_DB (default postgres). A database of
# that name that this script did not create is never touched.
# If the credit_scoring extension is not available on the server (or with
# BENCH_STUB=1), a stand-in `credit.score_result` type is created so the peers
# can still be checked; credit.score_credit is then not checked.
#
# Example, as root against the Debian system cluster:
#   sudo -u postgres bench/check_peers.sh
#   PGHOST=/var/run/postgresql PGUSER=postgres bench/check_peers.sh   (if auth allows)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
SCRATCH=${BENCH_SCRATCH_DB:-bench_scratch}
MAINT=${BENCH_MAINTENANCE_DB:-postgres}
MARK='credit_scoring bench scratch database (bench/check_peers.sh)'

if [ "$#" -eq 0 ]; then set -- "$ROOT/tests/golden_vectors.csv"; fi
for f in "$@"; do [ -r "$f" ] || { echo "check_peers: cannot read $f" >&2; exit 2; }; done

q_maint() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$MAINT" "$@"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$SCRATCH" "$@"; }

# --- scratch database -------------------------------------------------------
exists=$(q_maint -v db="$SCRATCH" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)
if [ "$exists" != 0 ]; then
    comment=$(q_maint -v db="$SCRATCH" <<'SQL'
SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = :'db';
SQL
)
    if [ "$comment" != "$MARK" ]; then
        echo "check_peers: database \"$SCRATCH\" exists and was not created by this script; refusing to use it (set BENCH_SCRATCH_DB)" >&2
        exit 2
    fi
    q_maint -v db="$SCRATCH" <<'SQL'
SELECT format('DROP DATABASE %I', :'db') \gexec
SQL
fi
q_maint -v db="$SCRATCH" -v mark="$MARK" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') \gexec
SELECT format('COMMENT ON DATABASE %I IS %L', :'db', :'mark') \gexec
SQL
cleanup() {
    if [ "${BENCH_KEEP_SCRATCH:-0}" != 1 ]; then
        q_maint -v db="$SCRATCH" <<'SQL' || true
SELECT format('DROP DATABASE IF EXISTS %I', :'db') \gexec
SQL
    else
        echo "check_peers: kept database $SCRATCH"
    fi
}
trap cleanup EXIT

# --- the extension, or a stand-in for its result type ------------------------
available=$(q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'credit_scoring'")
if [ "$available" != 0 ] && [ "${BENCH_STUB:-0}" != 1 ]; then
    q -c "CREATE EXTENSION credit_scoring"
    with_extension=1
    echo "check_peers: using the installed credit_scoring extension"
else
    with_extension=0
    echo "check_peers: credit_scoring not available here; using a stand-in credit.score_result type"
    q <<'SQL'
CREATE SCHEMA credit;
CREATE TYPE credit.score_result AS (
    credit_score        integer,
    default_probability numeric,
    segment             text,
    dsr                 numeric,
    monthly_installment numeric,
    dsr_points          integer,
    acr_points          integer,
    tenor_points        integer,
    persona             text,
    reasons             text[],
    recommendation      text
);
SQL
fi
q -f "$HERE/peers.sql"

# --- the vectors --------------------------------------------------------------
q <<'SQL'
CREATE TABLE bench.golden (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monthly_income text, assets text, loan_amount text, tenor_months text,
    credit_score text, default_probability text, segment text, dsr text,
    monthly_installment text, dsr_points text, acr_points text, tenor_points text,
    persona text, reasons text, recommendation text);
SQL
for f in "$@"; do
    q -c "COPY bench.golden (monthly_income, assets, loan_amount, tenor_months,
            credit_score, default_probability, segment, dsr, monthly_installment,
            dsr_points, acr_points, tenor_points, persona, reasons, recommendation)
          FROM STDIN WITH (FORMAT csv, HEADER true)" < "$f"
done
q <<'SQL'
TRUNCATE bench.apps;
INSERT INTO bench.apps
SELECT id, monthly_income::numeric, assets::numeric, loan_amount::numeric, tenor_months::integer
FROM bench.golden;
ANALYZE bench.apps;
SQL
echo "check_peers: $(q -c 'SELECT count(*) FROM bench.golden') vectors from: $*"

# --- field-by-field comparison of one scorer -----------------------------------
failed=0
check_scorer() {  # $1 = function name taking (numeric, numeric, numeric, integer)
    local fn=$1 out
    out=$(q -F ' ' -v fn="$fn" <<'SQL'
WITH s AS MATERIALIZED (
    SELECT g.*, (:fn(a.monthly_income, a.assets, a.loan_amount, a.tenor_months)) AS r
    FROM bench.golden g JOIN bench.apps a USING (id)
), d AS (
    SELECT s.*, array_remove(ARRAY[
        CASE WHEN (r).credit_score::text        IS DISTINCT FROM credit_score        THEN 'credit_score' END,
        CASE WHEN (r).default_probability::text IS DISTINCT FROM default_probability THEN 'default_probability' END,
        CASE WHEN (r).segment                   IS DISTINCT FROM segment             THEN 'segment' END,
        CASE WHEN (r).dsr::text                 IS DISTINCT FROM dsr                 THEN 'dsr' END,
        CASE WHEN (r).monthly_installment::text IS DISTINCT FROM monthly_installment THEN 'monthly_installment' END,
        CASE WHEN (r).dsr_points::text          IS DISTINCT FROM dsr_points          THEN 'dsr_points' END,
        CASE WHEN (r).acr_points::text          IS DISTINCT FROM acr_points          THEN 'acr_points' END,
        CASE WHEN (r).tenor_points::text        IS DISTINCT FROM tenor_points        THEN 'tenor_points' END,
        CASE WHEN (r).persona                   IS DISTINCT FROM persona             THEN 'persona' END,
        CASE WHEN (r).reasons::text             IS DISTINCT FROM reasons             THEN 'reasons' END,
        CASE WHEN (r).recommendation            IS DISTINCT FROM recommendation      THEN 'recommendation' END
    ], NULL) AS bad
    FROM s
)
SELECT 'rows', count(*)::text, 'mismatched_rows', (count(*) FILTER (WHERE bad <> '{}'))::text FROM d
UNION ALL
(SELECT 'MISMATCH id=' || id, format('%s,%s,%s,%s', monthly_income, assets, loan_amount, tenor_months),
        array_to_string(bad, ','), format('expected %s | got %s',
            concat_ws(',', credit_score, default_probability, segment, dsr, monthly_installment, dsr_points,
                      acr_points, tenor_points, persona, reasons, recommendation), r)
 FROM d WHERE bad <> '{}' ORDER BY id LIMIT 5);
SQL
)
    echo "  $fn: $(head -1 <<<"$out")"
    tail -n +2 <<<"$out" | sed 's/^/    /'
    if [ "$(head -1 <<<"$out" | awk '{print $4}')" != 0 ]; then failed=1; fi
}

echo "check_peers: every field, as text"
check_scorer bench.score_plpgsql
if [ "$with_extension" = 1 ]; then check_scorer credit.score_credit; fi

out=$(q -F ' ' <<'SQL'
SELECT 'rows', count(*), 'mismatched_rows',
       count(*) FILTER (WHERE i.credit_score::text IS DISTINCT FROM g.credit_score
                           OR i.segment IS DISTINCT FROM g.segment)
FROM bench.golden g LEFT JOIN bench.inline_case_scores i USING (id);
SQL
)
echo "  bench.inline_case_scores (credit_score, segment): $out"
if [ "$(awk '{print $4}' <<<"$out")" != 0 ]; then failed=1; fi

# --- the timed views compute what they claim --------------------------------------
views="q_call_floor q_inline_case q_inline_case_with_segment q_plpgsql"
if [ "$with_extension" = 1 ]; then views="$views q_score_credit q_score_credit_lateral"; fi
expected=$(q -c "SELECT sum(credit_score::int) FROM bench.golden")
floor_expected=0   # num_nulls over NOT NULL columns
for v in $views; do
    got=$(q -c "SELECT result FROM bench.$v")
    want=$expected; [ "$v" = q_call_floor ] && want=$floor_expected
    if [ "$got" = "$want" ]; then mark=ok; else mark=MISMATCH; failed=1; fi
    echo "  bench.$v = $got (expected $want) $mark"
done

if [ "$failed" != 0 ]; then
    echo "check_peers: FAILED" >&2
    exit 1
fi
echo "check_peers: all peers agree with the golden vectors"
