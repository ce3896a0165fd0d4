#!/usr/bin/env bash
# bench/run.sh — the repository's speed benchmark (SPEC §7), in one command.
#
#   bench/run.sh
#
# What it does, in one run, in one database session per phase:
#   1. creates the database (default credit_bench) if missing, and
#      CREATE EXTENSION IF NOT EXISTS credit_scoring; loads bench/peers.sql
#      (the peers) and bench/harness.sql (data generator, timer)
#   2. loads 1M deterministic applications into bench.apps (UNLOGGED,
#      VACUUM (FREEZE, ANALYZE)); skipped when already loaded with the same
#      generator and row count
#   3. correctness gate: on every row, bench.score_plpgsql and
#      credit.score_credit must agree on every field (compared as text), and
#      the inline CASE peer on credit_score and segment.  Any mismatch: exit 1,
#      nothing is timed.  So the peers provably do the same work.
#   4. serial cases, max_parallel_workers_per_gather = 0, interleaved
#      round-robin (the starting case rotates each round), BENCH_RUNS rounds:
#        call_floor    sum(num_nulls(income, assets, amount, tenor))
#        inline_case   credit_score as inline SQL CASE expressions
#        plpgsql       bench.score_plpgsql (the scorecard in PL/pgSQL)
#        score_credit  credit.score_credit
#      and, for information (no target): score_credit_lateral (the same call
#      as LATERAL in FROM) and inline_case_with_segment (the inline peer also
#      producing the segment)
#      each a full scan aggregated to one row in the server (nothing per row
#      is sent to the client), timed in the server (see bench/harness.sql,
#      bench.time_query: clock_timestamp() around the query's execution;
#      psql's \timing would add round trip and client time).
#   5. parallel case: BENCH_PARALLEL_ROWS (default 10M) rows in
#      bench.apps_parallel, credit.score_credit with 0 workers vs 2 workers
#      (parallel plan forced with parallel_setup_cost = parallel_tuple_cost =
#      min_parallel_table_scan_size = 0), interleaved; both sides timed with
#      EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) so the run also proves how
#      many workers were actually launched.
#   5b. trigger cost (bench/triggers.sql): three tables of the same shape,
#      loan_applications(id, monthly_income, assets_value, loan_amount,
#      tenor_months): unscored; scored with credit.enable_scoring; scored by
#      a PL/pgSQL peer doing the same work (BEFORE ROW trigger for the score
#      columns and decision, AFTER ROW trigger writing one history row per
#      scoring and the score_drop / dsr_critical / invalid_input alerts with
#      the rules of SPEC §3).  Every measurement starts from the same reset
#      state (BENCH_TRIGGER_UPDATE_ROWS scored rows with their history and
#      alerts; VACUUM (FREEZE, ANALYZE); CHECKPOINT) and times, server-side
#      (bench.time_dml, AFTER triggers included, commit not):
#        INSERT of BENCH_TRIGGER_INSERT_ROWS new rows (INSERT ... SELECT)
#        UPDATE ... SET monthly_income = monthly_income * 0.8 of every row
#      Gate first (an untimed run of every case, also the warm-up): both
#      scored tables hold score_credit's / decide's outputs on every row,
#      both histories got one row per changed row with the same content, and
#      both raised the same alerts; any difference: exit 1, nothing timed.
#      Then BENCH_RUNS interleaved rounds (the starting case rotates), each
#      round checked to leave exactly what the gate run left.
#      It TRUNCATEs credit.score_history, latest_scores and score_alerts, so it runs
#      only in the database credit_bench and only while those hold nothing
#      but the benchmark's rows.
#   6. prints a Markdown report: medians, ratios against the SPEC §7 targets
#      with PASS / MISS.
#
# Connection: standard libpq environment variables — PGHOST, PGPORT, PGUSER,
# PGPASSWORD (or ~/.pgpass), PGDATABASE (default here: credit_bench).  The
# database is created from BENCH_MAINTENANCE_DB (default postgres) when
# missing.  The role needs to create the database (or it must exist) and, for
# CREATE EXTENSION, superuser (the extension is not trusted).
#   e.g. as root on Debian:  sudo -u postgres bench/run.sh
#        or:                 PGHOST=/var/run/postgresql PGUSER=postgres bench/run.sh
#
# Settings (environment):
#   BENCH_RUNS=5               rounds per case (>= 3); the median is reported
#   BENCH_ROWS=1000000         rows for the serial cases
#   BENCH_PARALLEL_ROWS=10000000   rows for the serial/parallel case
#   BENCH_PARALLEL_WORKERS=2   workers for the parallel side
#   BENCH_SKIP_PARALLEL=0      1 skips the parallel case (and its 10M-row load)
#   BENCH_SKIP_SERIAL=0        1 skips timing the serial cases (their
#                              correctness gate still runs)
#   BENCH_SKIP_TRIGGERS=0      1 skips the trigger-cost phase
#   BENCH_TRIGGER_INSERT_ROWS=200000   rows INSERTed in the trigger-cost phase
#   BENCH_TRIGGER_UPDATE_ROWS=1000000  rows in each table, all UPDATEd
#   BENCH_LEADER_PARTICIPATION=  on/off: parallel_leader_participation for the
#                              parallel side (default: the server's setting, on)
#   BENCH_JIT=off              jit for the timed queries (see below)
#   BENCH_WARMUP=1             one untimed round first (0 disables)
#   BENCH_RELOAD=0             1 regenerates the data even if already loaded
#   BENCH_STRICT=0             1 exits 1 when a ratio misses its target
#   BENCH_OUTPUT=              also write the report to this file
#   BENCH_FRESH_EXTENSION=0    1: DROP EXTENSION credit_scoring CASCADE and
#                              create it again first.  During development the
#                              version number does not change when the SQL
#                              does, and CREATE EXTENSION IF NOT EXISTS keeps
#                              the objects of the earlier install.
#   BENCH_NO_EXTENSION=0       1: do not CREATE EXTENSION; credit.score_credit
#                              must already exist (for testing the harness
#                              against a stand-in)
#
# JIT is off by default because PostgreSQL decides it per query from cost
# estimates: with defaults the PL/pgSQL case (function COST 100) is compiled
# while the others are not, so the cases would run under different regimes
# and the run would also time LLVM.  BENCH_JIT=on measures with JIT.
#
# Exit status: 0 when the run completed (whatever the ratios, unless
# BENCH_STRICT=1), 1 when the correctness gate failed or a ratio missed
# under BENCH_STRICT=1, 2 on bad settings, other non-zero on errors.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

export PGDATABASE=${PGDATABASE:-credit_bench}
RUNS=${BENCH_RUNS:-5}
ROWS=${BENCH_ROWS:-1000000}
PROWS=${BENCH_PARALLEL_ROWS:-10000000}
WORKERS=${BENCH_PARALLEL_WORKERS:-2}
SKIP_PARALLEL=${BENCH_SKIP_PARALLEL:-0}
JIT=${BENCH_JIT:-off}
WARMUP=${BENCH_WARMUP:-1}
RELOAD=${BENCH_RELOAD:-0}
STRICT=${BENCH_STRICT:-0}
OUTPUT=${BENCH_OUTPUT:-}
NO_EXTENSION=${BENCH_NO_EXTENSION:-0}
MAINT=${BENCH_MAINTENANCE_DB:-postgres}
LEADER=${BENCH_LEADER_PARTICIPATION:-}
FRESH_EXTENSION=${BENCH_FRESH_EXTENSION:-0}
SKIP_SERIAL=${BENCH_SKIP_SERIAL:-0}
SKIP_TRIGGERS=${BENCH_SKIP_TRIGGERS:-0}
TRIG_INSERT_ROWS=${BENCH_TRIGGER_INSERT_ROWS:-200000}
TRIG_UPDATE_ROWS=${BENCH_TRIGGER_UPDATE_ROWS:-1000000}

die() { echo "bench: $*" >&2; exit 2; }
log() { echo "bench: $*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$RUNS" && [ "$RUNS" -ge 3 ] || die "BENCH_RUNS must be an integer >= 3 (got '$RUNS')"
is_uint "$ROWS" && [ "$ROWS" -ge 1 ] || die "BENCH_ROWS must be a positive integer (got '$ROWS')"
is_uint "$PROWS" && [ "$PROWS" -ge 1 ] || die "BENCH_PARALLEL_ROWS must be a positive integer (got '$PROWS')"
is_uint "$WORKERS" && [ "$WORKERS" -ge 1 ] || die "BENCH_PARALLEL_WORKERS must be a positive integer (got '$WORKERS')"
[[ $JIT == on || $JIT == off ]] || die "BENCH_JIT must be on or off (got '$JIT')"
[[ -z $LEADER || $LEADER == on || $LEADER == off ]] || die "BENCH_LEADER_PARTICIPATION must be on or off (got '$LEADER')"
[[ $WARMUP == 0 || $WARMUP == 1 ]] || die "BENCH_WARMUP must be 0 or 1 (got '$WARMUP')"
is_uint "$TRIG_INSERT_ROWS" && [ "$TRIG_INSERT_ROWS" -ge 1 ] || die "BENCH_TRIGGER_INSERT_ROWS must be a positive integer (got '$TRIG_INSERT_ROWS')"
is_uint "$TRIG_UPDATE_ROWS" && [ "$TRIG_UPDATE_ROWS" -ge 1 ] || die "BENCH_TRIGGER_UPDATE_ROWS must be a positive integer (got '$TRIG_UPDATE_ROWS')"

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
q() { "${PSQL[@]}" "$@"; }                  # in $PGDATABASE
q_maint() { "${PSQL[@]}" -d "$MAINT" "$@"; }

# ---------------------------------------------------------------------------
# 1. database, extension, bench objects
# ---------------------------------------------------------------------------
db_exists=$(q_maint -v db="$PGDATABASE" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
)
if [ "$db_exists" = 0 ]; then
    log "creating database $PGDATABASE"
    q_maint -v db="$PGDATABASE" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') \gexec
SQL
fi

if [ "$NO_EXTENSION" != 1 ]; then
    if [ "$FRESH_EXTENSION" = 1 ]; then
        # CASCADE also drops the bench objects that use credit.score_result;
        # peers.sql recreates them below.  The data tables are kept.
        log "recreating extension credit_scoring (BENCH_FRESH_EXTENSION=1)"
        q -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS credit_scoring CASCADE"
    fi
    q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS credit_scoring"
    stale=$(q -c "SELECT format('installed %s, available %s', e.extversion, a.default_version)
                  FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname
                  WHERE e.extname = 'credit_scoring' AND e.extversion IS DISTINCT FROM a.default_version")
    if [ -n "$stale" ]; then
        log "credit_scoring in $PGDATABASE is not the available version ($stale): ALTER EXTENSION credit_scoring UPDATE"
        if ! q -c "SET client_min_messages = warning" -c "ALTER EXTENSION credit_scoring UPDATE"; then
            log "warning: no update path; measuring the installed version (BENCH_FRESH_EXTENSION=1 recreates it)"
        fi
    fi
fi
if [ "$(q -c "SELECT to_regprocedure('credit.score_credit(numeric,numeric,numeric,integer)') IS NOT NULL")" != t ]; then
    die "credit.score_credit(numeric, numeric, numeric, integer) not found in database $PGDATABASE"
fi
q -c "SET client_min_messages = warning" -f "$HERE/peers.sql" -f "$HERE/harness.sql"

server_version=$(q -c "SHOW server_version")
ext_version=$(q -c "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'credit_scoring'), 'not installed (stand-in)')")

# ---------------------------------------------------------------------------
# 2. data
# ---------------------------------------------------------------------------
load_table() {  # $1 table (bench.apps | bench.apps_parallel | ...), $2 rows, [$3 first id - 1, default 0]
    local table=$1 n=$2 skip=${3:-0} sig current count
    sig=$(q -c "SELECT 'generate_apps ' || md5(prosrc) || ' h ' || (SELECT md5(prosrc) FROM pg_proc WHERE oid = 'bench.h(bigint,integer)'::regprocedure) || ' rows $n'
                       || CASE WHEN $skip > 0 THEN ' after $skip' ELSE '' END
                FROM pg_proc WHERE oid = 'bench.generate_apps(bigint)'::regprocedure")
    current=$(q -c "SELECT signature FROM bench.data_loads WHERE table_name = '$table'")
    count=$(q -c "SELECT count(*) FROM $table")
    if [ "$RELOAD" != 1 ] && [ "$current" = "$sig" ] && [ "$count" = "$n" ]; then
        log "$table: $n rows already loaded"
        return
    fi
    log "$table: generating $n rows$([ "$skip" -gt 0 ] && echo ", ids from $((skip + 1))") (deterministic, see bench/harness.sql)"
    local t0=$SECONDS
    q <<SQL
DELETE FROM bench.data_loads WHERE table_name = '$table';
TRUNCATE $table;
INSERT INTO $table SELECT * FROM bench.generate_apps($n + $skip) WHERE id > $skip;
VACUUM (FREEZE, ANALYZE) $table;
INSERT INTO bench.data_loads (table_name, signature) VALUES ('$table', '$sig');
SQL
    log "$table: loaded in $((SECONDS - t0)) s"
}
load_table bench.apps "$ROWS"

# Optional cases: registered automatically when their view exists (the views
# are created by bench/peers.sql only when the extension provides the
# function).  HOOK: to add a case, create bench.q_<name> in peers.sql and add
# <name> here; a ratio with a target can be added in the report section.
SERIAL_CASES=(call_floor inline_case plpgsql score_credit score_credit_lateral inline_case_with_segment)
for optional in score_credit_named decide; do
    if [ "$(q -c "SELECT to_regclass('bench.q_$optional') IS NOT NULL")" = t ]; then
        SERIAL_CASES+=("$optional")
    fi
done

# ---------------------------------------------------------------------------
# 3. correctness gate: the peers compute the same thing as score_credit
# ---------------------------------------------------------------------------
log "correctness gate: bench.score_plpgsql vs credit.score_credit, every field, $ROWS rows"
# One pass, nothing materialised; OFFSET 0 keeps the subquery from being
# flattened, so each function is called once per row.
# Composites are compared as text, so a scale difference (0.4 vs 0.40) counts.
named=false; named_call=NULL
if [ "$(q -c "SELECT to_regprocedure('credit.score_credit(numeric,numeric,numeric,integer,text)') IS NOT NULL")" = t ]; then
    named=true
    named_call="credit.score_credit(a.monthly_income, a.assets, a.loan_amount, a.tenor_months, 'reference')"
fi
gate_sql() {  # $1: 'count' (one line of key value pairs) or 'examples'
    echo "SET jit = off;"
    echo "SET max_parallel_workers_per_gather = 0;"
    cat <<SQL
WITH s AS (
    SELECT a.id, a.monthly_income, a.assets, a.loan_amount, a.tenor_months,
           credit.score_credit(a.monthly_income, a.assets, a.loan_amount, a.tenor_months) AS c,
           bench.score_plpgsql(a.monthly_income, a.assets, a.loan_amount, a.tenor_months) AS p,
           ($named_call)::credit.score_result AS n,
           i.credit_score AS i_score, i.segment AS i_segment
    FROM bench.apps a JOIN bench.inline_case_scores i USING (id)
    OFFSET 0
), d AS (
    SELECT s.*,
           p::text IS DISTINCT FROM c::text AS p_bad,
           i_score IS DISTINCT FROM (c).credit_score OR i_segment IS DISTINCT FROM (c).segment AS i_bad,
           $named AND n::text IS DISTINCT FROM c::text AS n_bad
    FROM s
)
SQL
    if [ "$1" = count ]; then
        cat <<'SQL'
SELECT concat_ws(' ',
    'rows', count(*),
    'plpgsql', count(*) FILTER (WHERE p_bad),
    'inline_case', count(*) FILTER (WHERE i_bad),
    'named', count(*) FILTER (WHERE n_bad),
    'f_credit_score',        count(*) FILTER (WHERE (p).credit_score::text        IS DISTINCT FROM (c).credit_score::text),
    'f_default_probability', count(*) FILTER (WHERE (p).default_probability::text IS DISTINCT FROM (c).default_probability::text),
    'f_segment',             count(*) FILTER (WHERE (p).segment                   IS DISTINCT FROM (c).segment),
    'f_dsr',                 count(*) FILTER (WHERE (p).dsr::text                 IS DISTINCT FROM (c).dsr::text),
    'f_monthly_installment', count(*) FILTER (WHERE (p).monthly_installment::text IS DISTINCT FROM (c).monthly_installment::text),
    'f_dsr_points',          count(*) FILTER (WHERE (p).dsr_points                IS DISTINCT FROM (c).dsr_points),
    'f_acr_points',          count(*) FILTER (WHERE (p).acr_points                IS DISTINCT FROM (c).acr_points),
    'f_tenor_points',        count(*) FILTER (WHERE (p).tenor_points              IS DISTINCT FROM (c).tenor_points),
    'f_persona',             count(*) FILTER (WHERE (p).persona                   IS DISTINCT FROM (c).persona),
    'f_reasons',             count(*) FILTER (WHERE (p).reasons::text             IS DISTINCT FROM (c).reasons::text),
    'f_recommendation',      count(*) FILTER (WHERE (p).recommendation            IS DISTINCT FROM (c).recommendation))
FROM d;
SQL
    else
        cat <<'SQL'
SELECT format('id=%s inputs=(%s, %s, %s, %s)%s  score_credit: %s%s  plpgsql:      %s%s  inline_case:  (%s, %s)%s  named:        %s',
              id, monthly_income, assets, loan_amount, tenor_months, E'\n',
              c, E'\n', p, E'\n', i_score, i_segment, E'\n', coalesce(n::text, 'n/a'))
FROM d WHERE p_bad OR i_bad OR n_bad
ORDER BY id LIMIT 5;
SQL
    fi
}
gate=$(gate_sql count | q)
gate_value() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) { print $(i + 1); exit } }' <<<"$gate"; }
gate_rows=$(gate_value rows)
plpgsql_bad=$(gate_value plpgsql)
inline_bad=$(gate_value inline_case)
named_bad=$(gate_value named); [ "$named" = true ] || named_bad=n/a
log "  rows $gate_rows; mismatches: plpgsql $plpgsql_bad, inline_case $inline_bad, score_credit(..., 'reference') $named_bad"
if [ "$gate_rows" != "$ROWS" ] || [ "$plpgsql_bad" != 0 ] || [ "$inline_bad" != 0 ] \
   || { [ "$named_bad" != n/a ] && [ "$named_bad" != 0 ]; }; then
    echo "bench: mismatching rows per field (plpgsql vs score_credit):" >&2
    tr ' ' '\n' <<<"$gate" | paste - - | awk '$1 ~ /^f_/ && $2 != 0 { printf "  %-22s %s\n", substr($1, 3), $2 }' >&2
    echo "bench: first mismatching rows:" >&2
    gate_sql examples | q | sed 's/^/  /' >&2
    echo "bench: correctness gate FAILED: the peers do not compute what credit.score_credit computes; nothing timed" >&2
    exit 1
fi

# ---------------------------------------------------------------------------
# 4./5. timing
# ---------------------------------------------------------------------------
TIMINGS=$(mktemp)
TRIG_OUT=$(mktemp)
trap 'rm -f "$TIMINGS" "$TRIG_OUT"' EXIT

# Emits one psql line per measurement: T|case|round|seconds|result|workers
# round 0 is the warm-up (not counted).  Progress goes to stderr via \warn.
timing_script() {  # $1 phase (serial|parallel)
    local phase=$1 r k i idx name label
    echo "SET jit = $JIT;"
    echo "SET statement_timeout = 0;"
    echo "SET max_parallel_workers_per_gather = 0;"
    if [ "$phase" = serial ]; then
        local cases=("${SERIAL_CASES[@]}")
        k=${#cases[@]}
        for ((r = (WARMUP == 1 ? 0 : 1); r <= RUNS; r++)); do
            for ((i = 0; i < k; i++)); do
                idx=$(( (i + r) % k ))          # rotate the starting case each round
                name=${cases[$idx]}
                if [ "$r" = 0 ]; then label="warm-up"; else label="round $r/$RUNS"; fi
                echo "\\warn 'bench:   $label $name'"
                echo "SELECT 'T', '$name', $r, seconds, result, workers_launched FROM bench.time_query('SELECT result FROM bench.q_$name', 0, false);"
            done
        done
    else
        echo "SET parallel_setup_cost = 0;"
        echo "SET parallel_tuple_cost = 0;"
        echo "SET min_parallel_table_scan_size = 0;"
        echo "SET min_parallel_index_scan_size = 0;"
        if [ -n "$LEADER" ]; then echo "SET parallel_leader_participation = $LEADER;"; fi
        # warm-up: both plans once, untimed mode, results must agree
        if [ "$WARMUP" = 1 ]; then
            echo "\\warn 'bench:   warm-up: serial and parallel'"
            echo "SELECT 'T', 'serial', 0, seconds, result, workers_launched FROM bench.time_query('SELECT result FROM bench.q_parallel_score_credit', 0, false);"
            echo "SELECT 'T', 'parallel', 0, seconds, result, workers_launched FROM bench.time_query('SELECT result FROM bench.q_parallel_score_credit', $WORKERS, false);"
        fi
        for ((r = 1; r <= RUNS; r++)); do
            local pair=("serial 0" "parallel $WORKERS")
            [ $((r % 2)) = 0 ] && pair=("parallel $WORKERS" "serial 0")
            for p in "${pair[@]}"; do
                set -- $p
                echo "\\warn 'bench:   round $r/$RUNS $1'"
                echo "SELECT 'T', '$1', $r, seconds, result, workers_launched FROM bench.time_query('SELECT result FROM bench.q_parallel_score_credit', $2, true);"
            done
        done
    fi
}

if [ "$SKIP_SERIAL" = 1 ]; then
    log "skipping the serial cases (BENCH_SKIP_SERIAL=1)"
else
    log "timing ${#SERIAL_CASES[@]} serial cases x $RUNS rounds on $ROWS rows (jit=$JIT; this takes a while: the PL/pgSQL peer is slow)"
    timing_script serial | q -F '|' | grep '^T|' >>"$TIMINGS"
fi

parallel_note=
if [ "$SKIP_PARALLEL" = 1 ]; then
    parallel_note="skipped (BENCH_SKIP_PARALLEL=1)"
else
    max_workers=$(q -c "SELECT least(current_setting('max_parallel_workers')::int, current_setting('max_worker_processes')::int)")
    if [ "$max_workers" -lt "$WORKERS" ]; then
        log "warning: the server allows only $max_workers parallel workers (max_parallel_workers / max_worker_processes)"
    fi
    load_table bench.apps_parallel "$PROWS"
    log "timing serial vs $WORKERS workers x $RUNS rounds on $PROWS rows"
    timing_script parallel | q -F '|' | grep '^T|' >>"$TIMINGS"
fi

# ---------------------------------------------------------------------------
# 5b. trigger cost (SPEC §7): INSERT and UPDATE into an unscored table, a
#     table scored by credit.enable_scoring, and one scored by the PL/pgSQL
#     trigger peer (bench/triggers.sql)
# ---------------------------------------------------------------------------
TRIG_CASES=(unscored scored plpgsql)
TRIG_OPS=(insert update)
trig_rows() { if [ "$1" = insert ]; then echo "$TRIG_INSERT_ROWS"; else echo "$TRIG_UPDATE_ROWS"; fi; }
trigger_note=
declare -A TGATE_LINE TGATE_STATE

# The state every measurement starts from: bench.trig_reset, then VACUUM
# (FREEZE, ANALYZE) of the case's table, history and alerts (so no round pays
# for hint bits or runs on other statistics), then CHECKPOINT (so the WAL of
# the reset does not start a checkpoint inside the timed statement).
trig_prepare_sql() {  # $1 case
    echo "SELECT bench.trig_reset('$1', 'base');"
    echo "VACUUM (FREEZE, ANALYZE) bench.loan_applications_$1;"
    case $1 in
        scored)  echo "VACUUM (FREEZE, ANALYZE) credit.score_history;"
                 echo "VACUUM (FREEZE, ANALYZE) credit.latest_scores;"
                 echo "VACUUM (FREEZE, ANALYZE) credit.score_alerts;" ;;
        plpgsql) echo "VACUUM (FREEZE, ANALYZE) bench.trig_history;"
                 echo "VACUUM (FREEZE, ANALYZE) bench.trig_latest;"
                 echo "VACUUM (FREEZE, ANALYZE) bench.trig_alerts;" ;;
    esac
    echo "CHECKPOINT;"
}
trig_settings_sql() {
    echo "SET jit = $JIT;"
    echo "SET statement_timeout = 0;"
    echo "SET max_parallel_workers_per_gather = 0;"
    # the alert rules the PL/pgSQL peer implements (the defaults, pinned)
    echo "SET credit_scoring.alert_drop_points = 15;"
    echo "SET credit_scoring.alert_window = '30 days';"
    echo "SET credit_scoring.dsr_alert_ratio = '0.60';"
    echo "SET credit_scoring.on_invalid = flag;"
}
# Emits T|case|round|seconds|rowcount|0 and S|case|round|summary lines.
trig_measure_sql() {  # $1 case, $2 op, $3 round
    local name="trig_$2_$1" label
    if [ "$3" = 0 ]; then label="gate run"; else label="round $3/$RUNS"; fi
    echo "\\warn 'bench:   $label $2 $1'"
    trig_prepare_sql "$1"
    echo "SELECT 'T', '$name', $3, seconds, result, 0 FROM bench.time_dml(bench.trig_statement('$1', '$2'));"
    echo "SELECT 'S', '$name', $3, bench.trig_summary('$1');"
}
trig_state_alerts() {  # $1 op -> "n score_drop, m dsr_critical, k invalid_input" raised by the scored case
    local st=${TGATE_STATE[$1.scored]}
    echo "$(trig_kv score_drop "$st") score_drop, $(trig_kv dsr_critical "$st") dsr_critical, $(trig_kv invalid_input "$st") invalid_input"
}
trig_kv() {  # $1 key, $2 "key value key value ..." line
    awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) { print $(i + 1); exit } }' <<<"$2"
}

if [ "$SKIP_TRIGGERS" = 1 ]; then
    trigger_note="skipped (BENCH_SKIP_TRIGGERS=1)"
elif [ "$(q -c "SELECT to_regprocedure('credit.enable_scoring(regclass,text,text,text,text,text,regclass,text,text)') IS NOT NULL
                   AND to_regprocedure('credit.decide(numeric,numeric,numeric,integer)') IS NOT NULL")" != t ]; then
    trigger_note="not measured: credit.enable_scoring / credit.decide not found (BENCH_FRESH_EXTENSION=1 if the installed build has them)"
elif [ "$(q -c "SELECT current_database()")" != credit_bench ]; then
    # The phase TRUNCATEs credit.score_history, latest_scores, score_alerts.
    trigger_note="not measured: the trigger phase truncates credit.score_history, credit.latest_scores and credit.score_alerts, so it runs only in the database credit_bench"
else
    foreign=$(q -c "SELECT (SELECT count(*) FROM credit.scored_tables WHERE table_name <> 'bench.loan_applications_scored')
                         + (SELECT count(*) FROM (SELECT 1 FROM credit.score_history WHERE table_name <> 'bench.loan_applications_scored' LIMIT 1) h)
                         + (SELECT count(*) FROM (SELECT 1 FROM credit.score_alerts WHERE table_name <> 'bench.loan_applications_scored' LIMIT 1) a)
                         + (SELECT count(*) FROM (SELECT 1 FROM credit.latest_scores WHERE table_name <> 'bench.loan_applications_scored' LIMIT 1) l)")
    if [ "$foreign" != 0 ]; then
        trigger_note="not measured: credit.scored_tables / score_history / latest_scores / score_alerts in $PGDATABASE hold other tables' rows, and the trigger phase truncates them"
    fi
fi

if [ -z "$trigger_note" ]; then
    q -c "SET client_min_messages = warning" -f "$HERE/triggers.sql"
    load_table bench.trig_update_src "$TRIG_UPDATE_ROWS"
    load_table bench.trig_insert_src "$TRIG_INSERT_ROWS" "$TRIG_UPDATE_ROWS"   # new ids, after the existing rows

    # Correctness gate: one untimed run of every case and operation, then
    # bench.trig_check compares both scored tables with score_credit /
    # decide, counts history rows, and compares history and alerts of the
    # extension and of the peer.  Doubles as the warm-up round.
    for op in "${TRIG_OPS[@]}"; do
        n=$(trig_rows "$op")
        log "trigger gate: ${op^^} of $n rows in each table"
        gate_out=$( { trig_settings_sql
                      for c in "${TRIG_CASES[@]}"; do trig_measure_sql "$c" "$op" 0; done
                      echo "SELECT 'G', bench.trig_check('$op');"
                      # leave nothing big behind (autovacuum would work during later rounds)
                      for c in "${TRIG_CASES[@]}"; do echo "SELECT bench.trig_reset('$c', 'empty');"; done
                    } | q -F '|')
        grep '^T|' <<<"$gate_out" >>"$TIMINGS"
        line=$(awk -F'|' '$1 == "G" { print $2 }' <<<"$gate_out")
        TGATE_LINE[$op]=$line
        for c in "${TRIG_CASES[@]}"; do
            TGATE_STATE[$op.$c]=$(awk -F'|' -v k="trig_${op}_$c" '$1 == "S" && $2 == k { print $4 }' <<<"$gate_out")
        done
        log "  $line"
        bad=
        rows_after=$TRIG_UPDATE_ROWS; [ "$op" = insert ] && rows_after=$((TRIG_UPDATE_ROWS + TRIG_INSERT_ROWS))
        for k in unscored_rows scored_rows plpgsql_rows; do
            [ "$(trig_kv "$k" "$line")" = "$rows_after" ] || bad="$bad $k"
        done
        for k in scored_history plpgsql_history; do
            [ "$(trig_kv "$k" "$line")" = "$n" ] || bad="$bad $k"
        done
        for k in scored_bad_scores plpgsql_bad_scores scored_history_bad plpgsql_history_bad \
                 scored_latest_bad plpgsql_latest_bad history_diff latest_diff alerts_diff; do
            [ "$(trig_kv "$k" "$line")" = 0 ] || bad="$bad $k"
        done
        [ "$(trig_kv scored_alerts "$line")" = "$(trig_kv plpgsql_alerts "$line")" ] || bad="$bad alerts"
        if [ -n "$bad" ]; then
            echo "bench: trigger gate (${op^^}, $n rows) failed on:$bad" >&2
            echo "bench:   expected *_rows = $rows_after, *_history = $n, *_bad_* / *_diff = 0: $line" >&2
            echo "bench: correctness gate FAILED: the scored table and the PL/pgSQL trigger peer do not do the same work; nothing timed" >&2
            exit 1
        fi
    done

    log "timing the trigger cases x $RUNS rounds (INSERT $TRIG_INSERT_ROWS, UPDATE $TRIG_UPDATE_ROWS rows; each from a reset)"
    { trig_settings_sql
      for ((r = 1; r <= RUNS; r++)); do
          for op in "${TRIG_OPS[@]}"; do
              for ((i = 0; i < ${#TRIG_CASES[@]}; i++)); do
                  c=${TRIG_CASES[$(( (i + r) % ${#TRIG_CASES[@]} ))]}   # rotate the starting case
                  trig_measure_sql "$c" "$op" "$r"
                  echo "SELECT bench.trig_reset('$c', 'empty');"       # clean up
              done
          done
      done
    } | q -F '|' >"$TRIG_OUT"
    grep '^T|' "$TRIG_OUT" >>"$TIMINGS"
    # Every round must leave exactly what the gate run left (same rows,
    # history rows, alerts by kind).
    while IFS='|' read -r _ name round state; do
        op=${name#trig_}; c=${op#*_}; op=${op%%_*}
        if [ "$state" != "${TGATE_STATE[$op.$c]}" ]; then
            echo "bench: trigger case $name, round $round left '$state', the gate run '${TGATE_STATE[$op.$c]}'" >&2
            exit 1
        fi
    done < <(grep '^S|' "$TRIG_OUT")
fi

# ---------------------------------------------------------------------------
# 6. report
# ---------------------------------------------------------------------------
median() {  # $1 case -> median seconds over rounds >= 1 (empty if none)
    awk -F'|' -v c="$1" '$2 == c && $3 >= 1 { print $4 }' "$TIMINGS" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
runs_of() { awk -F'|' -v c="$1" '$2 == c && $3 >= 1 { printf "%s%.4f", sep, $4; sep = " " }' "$TIMINGS"; }
results_of() { awk -F'|' -v c="$1" '$2 == c && $5 != "" { print $5 }' "$TIMINGS" | sort -u | paste -sd' ' -; }
min_workers() { awk -F'|' -v c="$1" '$2 == c && $3 >= 1 { w = $6 + 0; if (m == "" || w < m) m = w } END { print m }' "$TIMINGS"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print ""; else printf "%.2f", a / b }'; }
mark() {  # $1 value, $2 op (>= or <=), $3 target
    if [ -z "$1" ]; then echo "n/a"; return; fi
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'
}

# Every scoring case must have produced the same sum of scores in every round
# (serial cases on bench.apps; the serial/parallel pair on bench.apps_parallel).
distinct() { tr ' ' '\n' | awk 'NF' | sort -u | paste -sd' ' -; }
serial_sums=$(for c in "${SERIAL_CASES[@]}"; do case $c in call_floor|decide) ;; *) results_of "$c" ;; esac; done | distinct)
parallel_sums=$( (results_of serial; results_of parallel) | distinct)

declare -A MED
for c in "${SERIAL_CASES[@]}" serial parallel; do MED[$c]=$(median "$c"); done
for op in "${TRIG_OPS[@]}"; do for c in "${TRIG_CASES[@]}"; do MED[trig_${op}_$c]=$(median "trig_${op}_$c"); done; done
parallel_workers=$(min_workers parallel)
if [ "$SKIP_PARALLEL" != 1 ] && [ -n "$parallel_workers" ] && [ "$parallel_workers" -lt "$WORKERS" ]; then
    parallel_note="only $parallel_workers of $WORKERS workers launched in some round"
fi

report() {
    echo "## credit_scoring benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "PostgreSQL $server_version, credit_scoring $ext_version, database $PGDATABASE;" \
         "client host $(uname -n), $(nproc) CPUs; jit=$JIT; median of $RUNS interleaved rounds" \
         "$([ "$WARMUP" = 1 ] && echo "after one warm-up round")."
    echo "Correctness gate: $gate_rows rows, 0 mismatches (PL/pgSQL all fields, inline CASE score and segment$([ "$named_bad" != n/a ] && echo ", named scorecard all fields"))."
    if [ "$SKIP_SERIAL" != 1 ] || [ "$SKIP_PARALLEL" != 1 ]; then
        echo "Sum of credit_score over the rows, every scoring case and round: ${serial_sums:-(serial cases skipped)}$([ -n "$parallel_sums" ] && echo "; serial/parallel pair: $parallel_sums")."
        echo
        echo "| case | rows | workers | median s | rounds (s) |"
        echo "|---|---:|---:|---:|---|"
    fi
    if [ "$SKIP_SERIAL" != 1 ]; then
        for c in "${SERIAL_CASES[@]}"; do
            printf '| %s | %s | 0 | %.4f | %s |\n' "$c" "$ROWS" "${MED[$c]}" "$(runs_of "$c")"
        done
    fi
    if [ "$SKIP_PARALLEL" != 1 ]; then
        printf '| score_credit serial | %s | 0 | %.4f | %s |\n' "$PROWS" "${MED[serial]}" "$(runs_of serial)"
        printf '| score_credit parallel | %s | %s | %.4f | %s |\n' "$PROWS" "${parallel_workers:-?}" "${MED[parallel]}" "$(runs_of parallel)"
    fi
    echo
    if [ -z "$trigger_note" ]; then
        local ins=${TGATE_LINE[insert]} upd=${TGATE_LINE[update]} changed
        changed=$(trig_kv score_changed "$upd")
        echo "Trigger cost (SPEC §7): each table starts every round from the same reset state, $TRIG_UPDATE_ROWS rows (scored, with one history row each," \
             "for the scored tables); timed: \`INSERT\` of $TRIG_INSERT_ROWS new rows (INSERT ... SELECT), and \`UPDATE ... SET monthly_income = monthly_income * 0.8\`" \
             "of all $TRIG_UPDATE_ROWS rows; AFTER triggers included, commit not; one backend, no workers; median of $RUNS interleaved rounds after the gate run."
        echo "Trigger gate: both scored tables equal credit.score_credit / credit.decide on every row;" \
             "history rows written, scored / plpgsql: INSERT $(trig_kv scored_history "$ins") / $(trig_kv plpgsql_history "$ins")," \
             "UPDATE $(trig_kv scored_history "$upd") / $(trig_kv plpgsql_history "$upd") (one per changed row), identical content;" \
             "identical alerts (INSERT: $(trig_state_alerts insert); UPDATE: $(trig_state_alerts update));" \
             "the UPDATE changed the score of $changed rows ($(awk -v a="$changed" -v b="$TRIG_UPDATE_ROWS" 'BEGIN { printf "%.1f", 100 * a / b }') %)."
        echo
        echo "| trigger case | rows | median s | rounds (s) |"
        echo "|---|---:|---:|---|"
        for op in "${TRIG_OPS[@]}"; do
            for c in "${TRIG_CASES[@]}"; do
                printf '| %s %s | %s | %.4f | %s |\n' "${op^^}" "$( [ "$c" = plpgsql ] && echo plpgsql_trigger || echo "$c")" \
                    "$(trig_rows "$op")" "${MED[trig_${op}_$c]}" "$(runs_of "trig_${op}_$c")"
            done
        done
        echo
    fi
    echo "| ratio (SPEC §7) | value | target | |"
    echo "|---|---:|---:|---|"
    local v
    v=$(ratio "${MED[plpgsql]}" "${MED[score_credit]}");     echo "| plpgsql / score_credit | $v | >= 6 | $(mark "$v" '>=' 6) |"
    v=$(ratio "${MED[inline_case]}" "${MED[score_credit]}"); echo "| inline_case / score_credit | $v | >= 2 | $(mark "$v" '>=' 2) |"
    v=$(ratio "${MED[score_credit]}" "${MED[call_floor]}");  echo "| score_credit / call_floor | $v | <= 3 | $(mark "$v" '<=' 3) |"
    if [ "$SKIP_PARALLEL" = 1 ]; then
        echo "| serial / parallel ($PROWS rows, $WORKERS workers) | | >= 1.6 | $parallel_note |"
    else
        v=$(ratio "${MED[serial]}" "${MED[parallel]}")
        echo "| serial / parallel ($PROWS rows, $WORKERS workers) | $v | >= 1.6 | $(mark "$v" '>=' 1.6)${parallel_note:+ ($parallel_note)} |"
    fi
    if [ -n "${MED[score_credit_named]:-}" ]; then
        v=$(ratio "${MED[score_credit_named]}" "${MED[score_credit]}")
        echo "| score_credit_named / score_credit | $v | <= 1.5 | $(mark "$v" '<=' 1.5) |"
    fi
    if [ -n "$trigger_note" ]; then
        echo "| trigger cost (INSERT $TRIG_INSERT_ROWS, UPDATE $TRIG_UPDATE_ROWS rows; <= 2.5 vs unscored, >= 3 vs PL/pgSQL trigger) | | | $trigger_note |"
    else
        for op in "${TRIG_OPS[@]}"; do
            v=$(ratio "${MED[trig_${op}_scored]}" "${MED[trig_${op}_unscored]}")
            echo "| ${op^^} $(trig_rows "$op") rows: scored / unscored | $v | <= 2.5 | $(mark "$v" '<=' 2.5) |"
            v=$(ratio "${MED[trig_${op}_plpgsql]}" "${MED[trig_${op}_scored]}")
            echo "| ${op^^} $(trig_rows "$op") rows: plpgsql_trigger / scored | $v | >= 3 | $(mark "$v" '>=' 3) |"
        done
    fi
    v=$(ratio "${MED[score_credit_lateral]:-}" "${MED[score_credit]}")
    echo "| score_credit_lateral / score_credit (info: LATERAL FROM shape) | $v | | |"
    v=$(ratio "${MED[inline_case_with_segment]:-}" "${MED[score_credit]}")
    echo "| inline_case_with_segment / score_credit (info: inline peer also producing segment) | $v | | |"
    if [ -n "${MED[decide]:-}" ]; then
        v=$(ratio "${MED[decide]}" "${MED[score_credit]}")
        echo "| decide / score_credit (info) | $v | | |"
    fi
}

REPORT=$(report)
echo "$REPORT"
if [ -n "$OUTPUT" ]; then echo "$REPORT" >"$OUTPUT"; log "report written to $OUTPUT"; fi

if [ "$(wc -w <<<"$serial_sums")" -gt 1 ] || [ "$(wc -w <<<"$parallel_sums")" -gt 1 ]; then
    echo "bench: the scoring cases returned different sums of scores ($serial_sums / $parallel_sums)" >&2
    exit 1
fi
if [ "$STRICT" = 1 ] && grep -q '| MISS' <<<"$REPORT"; then
    echo "bench: a ratio missed its target (BENCH_STRICT=1)" >&2
    exit 1
fi
