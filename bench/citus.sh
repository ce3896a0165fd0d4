#!/usr/bin/env bash
#
# bench/citus.sh — the trigger-cost benchmark on Citus (issue 10 item 4,
# SPEC §7 and §10): what scoring costs on a distributed table.
#
#   bench/citus.sh          (as root, as postgres, or as a user with sudo)
#
# Brings up its own throwaway Citus cluster — a coordinator and two workers
# on 127.0.0.1, as tests/scale-out/citus.sh does (own ports, own data
# directories under WORKDIR; a running cluster is never touched) — and
# removes it at the end (KEEP=1 leaves it running).  In one database, three
# tables of the same shape, loan_applications(id bigint primary key,
# monthly_income numeric, assets_value numeric, loan_amount numeric,
# tenor_months int), each distributed by id (SHARDS shards, one co-location
# group):
#
#   bench.loan_applications_unscored  no triggers, no score columns
#   bench.loan_applications_scored    credit.distribute_scoring, then
#                                     credit.enable_scoring: the Rust row
#                                     trigger and the Citus statement triggers
#                                     writing credit.score_history /
#                                     latest_scores / score_alerts on the
#                                     workers (distributed by dist_key,
#                                     co-located)
#   bench.loan_applications_plpgsql   the PL/pgSQL peer doing the same work on
#                                     Citus, as a DBA would write it:
#                                     bench.trig_score_row() (BEFORE ROW, the
#                                     score columns and decision; taken
#                                     verbatim from bench/triggers.sql) and
#                                     bench.trig_record_row_citus() (AFTER
#                                     ROW: one history row per scoring, the
#                                     latest-scores entry, the score_drop /
#                                     dsr_critical / invalid_input alerts;
#                                     bench/triggers.sql's trig_record_row
#                                     with what Citus needs: the logical
#                                     table name as a trigger argument, every
#                                     look-up and write keyed by dist_key)
#                                     into bench.trig_history / trig_latest /
#                                     trig_alerts: LIKE the extension's
#                                     (after distribute_scoring) and
#                                     distributed the same way (by dist_key,
#                                     co-located with the table).
#
# Timed, server-side on the coordinator (bench.time_dml from
# bench/harness.sql: clock_timestamp() around EXECUTE; the AFTER triggers on
# the workers fire inside it, the commit is not included; psql's \timing of
# the same autocommitted statement, commit included, is reported for
# information; and the CPU time the cluster's processes used during the
# statement, read from /proc inside the timed session: with more shards than
# cores a multi-shard statement runs its shards in parallel, so on one small
# machine its server-side time hides part of its cost, and the CPU time
# shows it):
#
#   INSERT  BENCH_CITUS_ROWS (100k) rows, INSERT ... SELECT from
#           bench.citus_src: pre-generated (bench.generate_apps, the
#           deterministic generator of the single-node benchmark),
#           distributed and co-located, so Citus pushes the INSERT ... SELECT
#           down to the shards (one task per shard)
#   UPDATE  (BENCH_CITUS_UPDATE=1, the default) then UPDATE ... SET
#           monthly_income = monthly_income * 0.8 of those rows: every row is
#           rescored, about a third of the scores fall, and score_drop alerts
#           are raised
#
# Single-node reference (BENCH_CITUS_SINGLE=1, the default): the same
# three cases, the same rows and statements, in a plain database (no Citus
# extension) on the coordinator's server, with bench/triggers.sql's tables
# and PL/pgSQL peer as the single-node benchmark has them; interleaved with
# the Citus cases in the same rounds, checked the same way.  It shows what
# the Citus path costs over a single node on the same machine.
#
# Every measurement starts from empty tables: the case's table, history,
# latest scores and alerts are TRUNCATEd after each measurement, and every
# node CHECKPOINTs before the next.  Between the INSERT and the UPDATE
# (untimed) the case's tables are ANALYZEd and the nodes CHECKPOINT, so the
# UPDATE starts from the same state in every round (not from whatever
# autovacuum had reached).
#
# Correctness gate, before anything is timed (one untimed run of every case,
# also the warm-up): after the INSERT and after the UPDATE, in both scored
# tables every row's credit_score, default_probability (as text), segment
# equal credit.score_credit of its inputs and decision equals credit.decide;
# history has exactly one row per inserted / updated row (per row: 1 after
# the INSERT, 2 after the UPDATE), every row's newest history row and its
# latest-scores entry match it; the two histories, latest scores and alert
# sets are identical (every column but ids, table name and timestamps).  Any
# difference: exit 1, nothing timed.  Every timed round must leave exactly
# what the gate run left (checked again in full).
#
# Schedule: BENCH_RUNS rounds (>= 3), the cases interleaved and the starting
# case rotating each round; medians reported.  Before timing, the script
# waits (polling every 30 s, up to LOAD_WAIT s) until the 1-minute load
# average is below LOAD_MAX or the machine is idle (the gate run's own load
# decaying), and says in the report when it had to measure under load;
# before each measurement it also samples the machine's CPU use
# for 2 s while the cluster is idle (another job running shows there) and
# pauses while that is above BUSY_MAX % (polling every 30 s, at most
# LOAD_WAIT s in all), saying so in the report; and it reports, per timed
# statement, the CPU used meanwhile by processes outside the cluster (in %
# of one core; above OTHER_MAX % the report says other work ran).  A reinstall of
# credit_scoring during the run (a build on the same machine) stops it
# (exit 2, "run again"), also when it made a statement fail.
#
# Environment:
#   BENCH_CITUS_ROWS=100000  rows inserted (and updated)
#   BENCH_RUNS=5             timed rounds (>= 3)
#   BENCH_CITUS_UPDATE=1     0: time the INSERT only
#   BENCH_CITUS_SINGLE=1     0: no single-node reference
#   BENCH_OUTPUT=            also write the report to this file
#   SHARDS=4                 citus.shard_count (Citus' default is 32)
#   PORT=55470               coordinator; workers PORT+1, PORT+2
#   LOAD_MAX=1.5 LOAD_WAIT=900 BUSY_MAX=25 OTHER_MAX=20
#   KEEP=0                   1: leave the cluster running
#   CITUS_BUILD              build script (default ../shared/citus/build.sh),
#                            used only when Citus is not installed
#   PG_BINDIR                default /usr/lib/postgresql/15/bin
#   WORKDIR=/var/tmp
#
# Report (Markdown) on stdout, progress on stderr.  Exit status: 0 measured
# (or skipped: no Citus), 1 the correctness gate or a round's check failed,
# 2 could not run.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

ROWS=${BENCH_CITUS_ROWS:-100000}
RUNS=${BENCH_RUNS:-5}
DO_UPDATE=${BENCH_CITUS_UPDATE:-1}
SINGLE=${BENCH_CITUS_SINGLE:-1}
OUTPUT=${BENCH_OUTPUT:-}
SHARDS=${SHARDS:-4}
PORT=${PORT:-55470}
LOAD_MAX=${LOAD_MAX:-1.5}
LOAD_WAIT=${LOAD_WAIT:-900}
KEEP=${KEEP:-0}
WORKDIR=${WORKDIR:-/var/tmp}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
CITUS_BUILD=${CITUS_BUILD:-$repo/../shared/citus/build.sh}
PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))
COORD=$PORT
DB=credit_bench
SDB=credit_single
CASES=(unscored scored plpgsql)

die() { echo "bench/citus.sh: $*" >&2; exit 2; }
log() { printf '[citus-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ "$RUNS" -ge 3 ] 2>/dev/null || die "BENCH_RUNS must be at least 3"
[ "$ROWS" -ge 1 ] 2>/dev/null || die "BENCH_CITUS_ROWS must be a positive number"
for b in initdb pg_ctl psql pg_config pg_isready; do
    [ -x "$PG_BINDIR/$b" ] || die "$PG_BINDIR/$b not found (set PG_BINDIR)"
done
for f in peers.sql harness.sql triggers.sql; do
    [ -f "$here/$f" ] || die "$here/$f not found"
done
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# ------------------------------------------------------------------ Citus
pkglibdir=$("$PG_BINDIR/pg_config" --pkglibdir)
sharedir=$("$PG_BINDIR/pg_config" --sharedir)
if { [ ! -f "$pkglibdir/citus.so" ] || [ ! -f "$sharedir/extension/citus.control" ]; } && [ -f "$CITUS_BUILD" ]; then
    log "installing Citus with $CITUS_BUILD (~3 min the first time)"
    as_root bash "$CITUS_BUILD" "$PG_BINDIR/pg_config" >&2 || die "$CITUS_BUILD failed"
fi
if [ ! -f "$pkglibdir/citus.so" ] || [ ! -f "$sharedir/extension/citus.control" ]; then
    msg="skipped: no Citus (neither $CITUS_BUILD nor an installed Citus in $pkglibdir): nothing measured"
    echo "$msg"
    echo "bench/citus.sh: $msg" >&2
    [ -z "$OUTPUT" ] || printf '%s\n' "$msg" >"$OUTPUT"
    exit 0
fi
[ -f "$sharedir/extension/credit_scoring.control" ] \
    || die "credit_scoring is not installed in $PG_BINDIR's PostgreSQL (scripts/test.sh installs it)"
# The installed extension (library and scripts): a reinstall during the run
# (a build on the same machine) would mix two builds in one measurement.
install_id() { cat "$pkglibdir/credit_scoring.so" "$sharedir"/extension/credit_scoring* 2>/dev/null | md5sum | cut -c1-12; }
install_at_start=$(install_id)
same_install() {
    [ "$(install_id)" = "$install_at_start" ] \
        || die "the installed credit_scoring changed during the run (reinstalled in $pkglibdir at $(date -r "$pkglibdir/credit_scoring.so" +%H:%M:%S 2>/dev/null || echo '?')): run again"
}

# ------------------------------------------------------------------ cluster
# (the approach of tests/scale-out/citus.sh)
if [ "$(id -un)" = postgres ]; then
    as_pg=()
elif [ "$(id -u)" = 0 ]; then
    as_pg=(runuser -u postgres --)
else
    as_pg=(sudo -n -u postgres --)
fi
pgrun() { "${as_pg[@]+"${as_pg[@]}"}" "$@"; }
for p in "${PORTS[@]}"; do
    if "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$p" >/dev/null 2>&1 \
       || { command -v ss >/dev/null 2>&1 && ss -Hltn "sport = :$p" | grep -q .; }; then
        die "port $p is in use (set PORT)"
    fi
done

base=$(mktemp -d "$WORKDIR/credit_citus_bench.XXXXXX")
chmod 1777 "$base"
sock=$base/sock
out=$base/out
mkdir -p "$out"
pgrun mkdir -m 755 "$sock"

unset PGDATABASE PGPASSWORD PGSERVICE PGHOSTADDR 2>/dev/null || true
export PGHOST=$sock PGUSER=postgres PGOPTIONS='-c client_min_messages=warning'
psql_() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { local p=$1 d=$2; shift 2; psql_ -p "$p" -d "$d" -At -c "$*"; }
# sqlf PORT DB LABEL: stdin as one psql script, stop at the first error
sqlf() {
    if psql_ -p "$1" -d "$2" -At -f - >"$out/$3.out" 2>"$out/$3.err"; then cat "$out/$3.out"; return 0; fi
    echo "bench/citus.sh: $3 failed:" >&2
    grep -m3 -E 'ERROR|FATAL|DETAIL|HINT' "$out/$3.err" >&2 || head -n5 "$out/$3.err" >&2
    return 1
}

cleanup() {
    local rc=$?
    trap - EXIT
    # A reinstall of credit_scoring during the run (a build on the same
    # machine) can also fail a statement outright ("could not access file
    # \"$libdir/credit_scoring\"" while the library is being replaced): say
    # so rather than leave it looking like a failed check.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$(install_id)" != "$install_at_start" ]; then
        echo "bench/citus.sh: the installed credit_scoring changed during the run (now: $(date -r "$pkglibdir/credit_scoring.so" +%H:%M:%S 2>/dev/null || echo 'library missing')): what failed may be that; run again" >&2
        rc=2
    fi
    if [ "$KEEP" = 1 ]; then
        {
            echo
            echo "KEEP=1: left running: coordinator psql -h $sock -p $COORD -U postgres $DB;"
            echo "        workers on ports ${PORTS[1]} ${PORTS[2]}; logs in $base"
            echo "        stop: for n in ${PORTS[*]}; do ${as_pg[*]} $PG_BINDIR/pg_ctl -D $base/node\$n stop; done; rm -rf $base"
        } >&2
    else
        local p
        for p in "${PORTS[@]}"; do
            [ -f "$base/node$p/postmaster.pid" ] && pgrun "$PG_BINDIR/pg_ctl" -D "$base/node$p" stop -m fast >/dev/null 2>&1
        done
        if [ "$rc" -ne 0 ]; then
            local keep="$base.failed"
            mkdir -p "$keep" && cp -r "$out" "$keep/" 2>/dev/null
            for p in "${PORTS[@]}"; do cp "$base/node$p.log" "$keep/" 2>/dev/null; done
            echo "bench/citus.sh: logs and outputs kept in $keep" >&2
        fi
        for p in "${PORTS[@]}"; do pgrun rm -rf "$base/node$p" "$base/node$p.log" 2>/dev/null; done
        pgrun rm -rf "$sock" 2>/dev/null
        rm -rf "$base"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "a coordinator (port $COORD) and two workers (${PORTS[1]}, ${PORTS[2]}) on 127.0.0.1: $base"
for p in "${PORTS[@]}"; do
    d=$base/node$p
    pgrun "$PG_BINDIR/initdb" -D "$d" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$out/initdb$p.log" 2>&1 \
        || { cat "$out/initdb$p.log" >&2; die "initdb failed"; }
    # jit off on every node: the triggers run on the workers, where a
    # coordinator session's SET does not reach (as in bench/run.sh, JIT
    # would otherwise compile some cases' queries and not others).
    pgrun sh -c "cat >> '$d/postgresql.conf'" <<EOF
# bench/citus.sh
shared_preload_libraries = 'citus'
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
max_connections = 100
shared_buffers = 256MB
max_wal_size = 4GB
jit = off
citus.shard_count = $SHARDS
log_min_messages = warning
log_line_prefix = '%m [%p] %e %d '
EOF
    pgrun touch "$base/node$p.log"
    pgrun env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
        "$PG_BINDIR/pg_ctl" -D "$d" -l "$base/node$p.log" -w -t 120 start >>"$out/pg_ctl.log" 2>&1 \
        || { tail -n 20 "$base/node$p.log" >&2; die "node $p did not start"; }
done
for p in "${PORTS[@]}"; do
    q "$p" postgres "CREATE DATABASE $DB" >/dev/null
    q "$p" "$DB" "CREATE EXTENSION citus" >/dev/null
done
q "$COORD" "$DB" "SELECT citus_set_coordinator_host('127.0.0.1', $COORD)" >/dev/null
q "$COORD" "$DB" "SELECT citus_add_node('127.0.0.1', ${PORTS[1]})" >/dev/null
q "$COORD" "$DB" "SELECT citus_add_node('127.0.0.1', ${PORTS[2]})" >/dev/null
q "$COORD" "$DB" "CREATE EXTENSION credit_scoring" >/dev/null
# (the release, e.g. 13.2.2, from citus_version(); the extension's own
# version, e.g. 13.2-1, does not name the minor release)
citus_version=$(q "$COORD" "$DB" "SELECT coalesce(substring(citus_version() from '^Citus ([0-9][0-9.]*)'), '?') || ' (extension ' || extversion || ')' FROM pg_extension WHERE extname = 'citus'")
credit_version=$(q "$COORD" "$DB" "SELECT extversion FROM pg_extension WHERE extname = 'credit_scoring'")
# Which build: during development the version stays while the code changes,
# so the report names the installed library's time and checksum, and the
# language of the two statement triggers (the single-node reference uses
# credit.record_scores, the Citus path credit.record_scores_distributed).
build_info="library installed $(date -u -r "$pkglibdir/credit_scoring.so" '+%Y-%m-%d %H:%M UTC'), id $install_at_start; $(q "$COORD" "$DB" "SELECT string_agg(format('credit.%s() in %s', p.proname, l.lanname), ', ' ORDER BY p.proname) FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'credit'::regnamespace AND p.proname IN ('record_scores', 'record_scores_distributed')")"
log "credit_scoring build: $build_info"
pg_version=$(q "$COORD" "$DB" "SHOW server_version")
log "Citus $citus_version, credit_scoring $credit_version, PostgreSQL $pg_version; $SHARDS shards per table"

# ------------------------------------------------------------------ setup
log "loading bench/peers.sql and bench/harness.sql (generator, timer) on the coordinator"
psql_ -p "$COORD" -d "$DB" -f "$here/peers.sql" -f "$here/harness.sql" >"$out/load.out" 2>"$out/load.err" \
    || { cat "$out/load.err" >&2; die "loading peers.sql / harness.sql failed"; }

log "tables: source ($ROWS pre-generated rows), unscored, scored; distributed by id"
sqlf "$COORD" "$DB" setup_tables >/dev/null <<SQL || exit 2
-- The rows to insert: pre-generated, distributed and co-located with the
-- targets, so INSERT ... SELECT is pushed down to the shards.
CREATE UNLOGGED TABLE bench.citus_src (LIKE bench.apps INCLUDING ALL);
SELECT create_distributed_table('bench.citus_src', 'id');
INSERT INTO bench.citus_src SELECT * FROM bench.generate_apps($ROWS);
VACUUM (FREEZE, ANALYZE) bench.citus_src;
CREATE TABLE bench.loan_applications_unscored (
    id             bigint PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
CREATE TABLE bench.loan_applications_scored (LIKE bench.loan_applications_unscored INCLUDING ALL);
SELECT create_distributed_table('bench.loan_applications_unscored', 'id', colocate_with => 'bench.citus_src');
SELECT create_distributed_table('bench.loan_applications_scored', 'id', colocate_with => 'bench.citus_src');
SQL

log "credit.distribute_scoring (its own transaction), then credit.enable_scoring"
q "$COORD" "$DB" "SELECT credit.distribute_scoring('bench.loan_applications_scored')" >/dev/null
# The alert rules the PL/pgSQL peer implements (the defaults, pinned: on
# Citus enable_scoring copies the effective values into the triggers).
sqlf "$COORD" "$DB" enable_scoring >/dev/null <<'SQL' || exit 2
SET credit_scoring.alert_drop_points = 15;
SET credit_scoring.alert_window = '30 days';
SET credit_scoring.dsr_alert_ratio = '0.60';
SET credit_scoring.on_invalid = flag;
SELECT credit.enable_scoring('bench.loan_applications_scored');
SQL

# The peer's BEFORE ROW trigger function, verbatim from bench/triggers.sql
# (it only reads and writes NEW: nothing in it depends on Citus).
score_fn=$(awk '/^CREATE OR REPLACE FUNCTION bench.trig_score_row\(\)/,/^\$fn\$;$/' "$here/triggers.sql")
case "$score_fn" in *'RETURN NEW;'*'$fn$;') ;; *) die "bench.trig_score_row() not found in $here/triggers.sql" ;; esac

log "the PL/pgSQL peer: its table, history, latest scores and alerts (distributed, co-located), its triggers"
sqlf "$COORD" "$DB" setup_peer >/dev/null <<SQL || exit 2
-- The peer table: the columns enable_scoring gave the scored one.
CREATE TABLE bench.loan_applications_plpgsql (LIKE bench.loan_applications_scored INCLUDING ALL);
SELECT create_distributed_table('bench.loan_applications_plpgsql', 'id', colocate_with => 'bench.loan_applications_scored');
-- History, latest scores, alerts: LIKE the extension's after
-- distribute_scoring (dist_key, keys (dist_key, id) / (dist_key, table_name,
-- row_key), the same indexes and constraints), distributed the same way.
CREATE TABLE bench.trig_history (LIKE credit.score_history INCLUDING ALL);
CREATE TABLE bench.trig_latest (LIKE credit.latest_scores INCLUDING ALL);
CREATE TABLE bench.trig_alerts (LIKE credit.score_alerts INCLUDING ALL);
SELECT create_distributed_table('bench.trig_history', 'dist_key', colocate_with => 'bench.loan_applications_plpgsql');
SELECT create_distributed_table('bench.trig_latest', 'dist_key', colocate_with => 'bench.loan_applications_plpgsql');
SELECT create_distributed_table('bench.trig_alerts', 'dist_key', colocate_with => 'bench.loan_applications_plpgsql');

$score_fn

-- AFTER ROW: bench/triggers.sql's bench.trig_record_row, as it must be
-- written for Citus: the trigger fires on the worker, on the shard, so the
-- logical table name comes as an argument (TG_TABLE_NAME is the shard's),
-- and every look-up and write carries dist_key = the row's distribution key
-- (Citus runs a query inside a trigger only when all of it is on this node:
-- the co-located shards).  The same rules otherwise: alerts first (their
-- history look-ups must not see this scoring), then one history row (with
-- the decision's reasons, the previous segment, first scoring), then the
-- latest-scores entry.
CREATE OR REPLACE FUNCTION bench.trig_record_row_citus() RETURNS trigger
LANGUAGE plpgsql AS \$fn\$
DECLARE
    tbl          constant text     := TG_ARGV[0];
    ratio        constant numeric  := 0.60;
    drop_points  constant integer  := 15;
    win          constant interval := interval '30 days';
    dk           bigint  := NEW.id;
    key          text    := NEW.id::text;
    income       numeric := coalesce(NEW.monthly_income, 0);
    assets       numeric := coalesce(NEW.assets_value, 0);
    score        integer := NEW.credit_score;
    gross        numeric := NEW.loan_amount * 1.15;
    capacity     numeric := income * NEW.tenor_months;
    old_score    integer;
    old_segment  text;
    first        boolean := true;
    was_critical boolean;
    peak         integer;
    last_alert   integer;
    reasons      text[];
    hid          bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.id = NEW.id THEN
        old_score := OLD.credit_score;
        old_segment := OLD.segment;
        first := OLD.scored_at IS NULL;
    END IF;
    IF score IS NULL THEN
        INSERT INTO bench.trig_alerts (dist_key, table_name, row_key, kind, old_score, new_score, score_drop,
                                       old_segment, new_segment, details)
        VALUES (dk, tbl, key, 'invalid_input', old_score, NULL, NULL, old_segment, NULL,
                jsonb_build_object('reason', 'invalid input', 'monthly_income', income, 'assets', assets,
                                   'loan_amount', NEW.loan_amount, 'tenor_months', NEW.tenor_months));
    ELSE
        IF income > 0 AND gross > ratio * capacity THEN
            SELECT h.credit_score IS NOT NULL AND h.monthly_income > 0
                   AND h.loan_amount * 1.15 > ratio * h.monthly_income * h.tenor_months
              INTO was_critical
              FROM bench.trig_history h
             WHERE h.dist_key = dk AND h.table_name = tbl AND h.row_key = key
             ORDER BY h.id DESC LIMIT 1;
            IF NOT coalesce(was_critical, false) THEN
                INSERT INTO bench.trig_alerts (dist_key, table_name, row_key, kind, old_score, new_score, score_drop,
                                               old_segment, new_segment, details)
                VALUES (dk, tbl, key, 'dsr_critical', old_score, score, NULL, old_segment, NEW.segment,
                        jsonb_build_object('dsr', round(gross / NEW.tenor_months / income, 6),
                                           'dsr_alert_ratio', ratio));
            END IF;
        END IF;
        IF score < old_score THEN
            SELECT greatest(old_score, max(h.credit_score)) INTO peak
              FROM bench.trig_history h
             WHERE h.dist_key = dk AND h.table_name = tbl AND h.row_key = key AND h.scored_at >= now() - win;
            IF peak - score >= drop_points THEN
                SELECT a.new_score INTO last_alert
                  FROM bench.trig_alerts a
                 WHERE a.dist_key = dk AND a.table_name = tbl AND a.row_key = key AND a.kind = 'score_drop'
                   AND a.created_at >= now() - win
                 ORDER BY a.id DESC LIMIT 1;
                IF last_alert IS NULL OR last_alert - score >= drop_points THEN
                    INSERT INTO bench.trig_alerts (dist_key, table_name, row_key, kind, old_score, new_score,
                                                   score_drop, old_segment, new_segment, details)
                    VALUES (dk, tbl, key, 'score_drop', peak, score, peak - score,
                            old_segment, NEW.segment,
                            jsonb_build_object('previous_score', old_score, 'alert_drop_points', drop_points,
                                               'alert_window', '30 days'));
                END IF;
            END IF;
        END IF;
        reasons := '{}';
        IF income <= 0 THEN
            reasons := reasons || 'no_income'::text;
        ELSIF gross > 0.60 * capacity THEN
            reasons := reasons || 'dsr_over_60'::text;
        END IF;
        IF score < 450 THEN
            reasons := reasons || 'score_under_450'::text;
        END IF;
        IF reasons = '{}' THEN
            IF score < 550 THEN
                reasons := reasons || 'score_under_550'::text;
            END IF;
            IF gross > 0.40 * capacity THEN
                reasons := reasons || 'dsr_over_40'::text;
            END IF;
        END IF;
    END IF;
    INSERT INTO bench.trig_history (dist_key, table_name, row_key, monthly_income, assets, loan_amount, tenor_months,
                                    credit_score, default_probability, segment, scorecard, scored_at,
                                    decision, decision_reasons, previous_segment, first_scoring)
    VALUES (dk, tbl, key, income, assets, NEW.loan_amount, NEW.tenor_months,
            score, NEW.default_probability, NEW.segment, 'reference', NEW.scored_at,
            NEW.decision, reasons, old_segment, first)
    RETURNING id INTO hid;
    INSERT INTO bench.trig_latest AS l (dist_key, table_name, row_key, history_id, credit_score, default_probability,
                                        segment, loan_amount, decision)
    VALUES (dk, tbl, key, hid, score, NEW.default_probability, NEW.segment, NEW.loan_amount, NEW.decision)
    ON CONFLICT (dist_key, table_name, row_key) DO UPDATE
    SET history_id = excluded.history_id, credit_score = excluded.credit_score,
        default_probability = excluded.default_probability, segment = excluded.segment,
        loan_amount = excluded.loan_amount, decision = excluded.decision;
    RETURN NULL;
END
\$fn\$;

-- Trigger DDL on a distributed table needs this (writes do not).
SET citus.enable_unsafe_triggers = on;
CREATE TRIGGER trig_score
    BEFORE INSERT OR UPDATE OF monthly_income, assets_value, loan_amount, tenor_months,
                               credit_score, default_probability, segment, decision, scored_at
    ON bench.loan_applications_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.trig_score_row();
CREATE TRIGGER trig_record
    AFTER INSERT OR UPDATE OF monthly_income, assets_value, loan_amount, tenor_months,
                              credit_score, default_probability, segment, decision, scored_at
    ON bench.loan_applications_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.trig_record_row_citus('bench.loan_applications_plpgsql');
SQL

# The checks (coordinator; the per-row comparisons are pushed down to the
# workers: every join is on the distribution key).  Also loaded in the
# single-node reference database.
checks_sql=$(cat <<'SQL'
CREATE OR REPLACE FUNCTION bench.citus_tables(tcase text, OUT tbl text, OUT history text, OUT latest text, OUT alerts text)
LANGUAGE sql IMMUTABLE AS $fn$
    SELECT 'bench.loan_applications_' || tcase,
           CASE tcase WHEN 'scored' THEN 'credit.score_history' ELSE 'bench.trig_history' END,
           CASE tcase WHEN 'scored' THEN 'credit.latest_scores' ELSE 'bench.trig_latest' END,
           CASE tcase WHEN 'scored' THEN 'credit.score_alerts' ELSE 'bench.trig_alerts' END
$fn$;

-- One case's state as "key value" pairs:
--   rows           rows in the table
--   bad_scores     rows whose credit_score, default_probability (as text),
--                  segment differ from credit.score_credit of the inputs,
--                  decision from credit.decide, or without scored_at
--   history        history rows of the table (must be per_row x rows)
--   history_bad    rows without exactly per_row history rows or whose
--                  newest history row differs (inputs, outputs, decision,
--                  scored_at)
--   latest_bad     rows whose latest-scores entry does not point at that
--                  newest history row or differs from the row
--   score_drop, dsr_critical, invalid_input   alerts by kind
CREATE OR REPLACE FUNCTION bench.citus_check(tcase text, per_row integer) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    t    record := bench.citus_tables(tcase);
    -- on Citus every join also carries the distribution key (co-located,
    -- pushed down); in the single-node reference there is none
    dist boolean := EXISTS (SELECT 1 FROM pg_attribute
                            WHERE attrelid = to_regclass(t.history) AND attname = 'dist_key' AND NOT attisdropped);
    dk   text := CASE WHEN dist THEN 'dist_key, ' ELSE '' END;
    n    bigint;
    bad  bigint;
    hist bigint;
    hbad bigint;
    lbad bigint;
    drops bigint;
    dsr  bigint;
    inv  bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', t.tbl) INTO n;
    IF tcase = 'unscored' THEN
        RETURN format('rows %s', n);
    END IF;
    EXECUTE format($q$
        SELECT count(*) FILTER (WHERE (l.credit_score, l.default_probability::text, l.segment, l.decision)
                                      IS DISTINCT FROM (s.credit_score, s.default_probability::text, s.segment, d.decision)
                                   OR l.scored_at IS NULL)
        FROM %s l
        CROSS JOIN LATERAL credit.score_credit(l.monthly_income, l.assets_value, l.loan_amount, l.tenor_months) s
        CROSS JOIN LATERAL credit.decide(l.monthly_income, l.assets_value, l.loan_amount, l.tenor_months) d $q$, t.tbl)
    INTO bad;
    EXECUTE format('SELECT count(*) FROM %s WHERE table_name = $1', t.history) INTO hist USING t.tbl;
    EXECUTE format($q$
        SELECT count(*) FILTER (WHERE g.n IS DISTINCT FROM $2 OR h.id IS NULL
                                   OR (h.monthly_income, h.assets, h.loan_amount, h.tenor_months, h.credit_score,
                                       h.default_probability::text, h.segment, h.decision, h.scored_at)
                                      IS DISTINCT FROM
                                      (coalesce(l.monthly_income, 0), coalesce(l.assets_value, 0), l.loan_amount,
                                       l.tenor_months, l.credit_score, l.default_probability::text, l.segment,
                                       l.decision, l.scored_at)),
               count(*) FILTER (WHERE s.history_id IS DISTINCT FROM g.newest
                                   OR (s.credit_score, s.default_probability::text, s.segment, s.loan_amount, s.decision)
                                      IS DISTINCT FROM
                                      (l.credit_score, l.default_probability::text, l.segment, l.loan_amount, l.decision))
        FROM %1$s l
        LEFT JOIN (SELECT %4$s row_key, count(*) AS n, max(id) AS newest
                   FROM %2$s WHERE table_name = $1 GROUP BY %4$s row_key) g
               ON %5$s g.row_key = l.id::text
        LEFT JOIN %2$s h ON %6$s h.id = g.newest
        LEFT JOIN %3$s s ON %7$s s.table_name = $1 AND s.row_key = l.id::text $q$,
        t.tbl, t.history, t.latest, dk,
        CASE WHEN dist THEN 'g.dist_key = l.id AND' ELSE '' END,
        CASE WHEN dist THEN 'h.dist_key = l.id AND' ELSE '' END,
        CASE WHEN dist THEN 's.dist_key = l.id AND' ELSE '' END)
    INTO hbad, lbad USING t.tbl, per_row;
    EXECUTE format($q$SELECT count(*) FILTER (WHERE kind = 'score_drop'), count(*) FILTER (WHERE kind = 'dsr_critical'),
                             count(*) FILTER (WHERE kind = 'invalid_input')
                      FROM %s WHERE table_name = $1$q$, t.alerts)
    INTO drops, dsr, inv USING t.tbl;
    RETURN format('rows %s bad_scores %s history %s history_bad %s latest_bad %s score_drop %s dsr_critical %s invalid_input %s',
                  n, bad, hist, hbad, lbad, drops, dsr, inv);
END
$fn$;

-- The extension's history, latest scores and alerts vs the peer's, both
-- directions, every column but ids, table names and timestamps (copied to
-- the coordinator first).
CREATE OR REPLACE FUNCTION bench.citus_compare() RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
    v    record;
    cols text;
    a    bigint;
    b    bigint;
    out  text := '';
BEGIN
    FOR v IN SELECT * FROM (VALUES ('history', 'credit.score_history', 'bench.trig_history', ARRAY['id', 'table_name', 'scored_at']),
                                   ('latest', 'credit.latest_scores', 'bench.trig_latest', ARRAY['table_name', 'history_id']),
                                   ('alerts', 'credit.score_alerts', 'bench.trig_alerts', ARRAY['id', 'table_name', 'created_at'])) x(name, ext, peer, skip)
    LOOP
        SELECT string_agg(format('%I::text', attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute WHERE attrelid = v.ext::regclass AND attnum > 0 AND NOT attisdropped AND NOT attname = ANY (v.skip);
        EXECUTE format('DROP TABLE IF EXISTS pg_temp.cmp_ext, pg_temp.cmp_peer;
                        CREATE TEMP TABLE cmp_ext AS SELECT %1$s FROM %2$s;
                        CREATE TEMP TABLE cmp_peer AS SELECT %1$s FROM %3$s', cols, v.ext, v.peer);
        SELECT count(*) INTO a FROM (TABLE cmp_ext EXCEPT ALL TABLE cmp_peer) d;
        SELECT count(*) INTO b FROM (TABLE cmp_peer EXCEPT ALL TABLE cmp_ext) d;
        out := out || format('%s_diff %s ', v.name, a + b);
    END LOOP;
    DROP TABLE pg_temp.cmp_ext, pg_temp.cmp_peer;
    RETURN rtrim(out);
END
$fn$;

CREATE OR REPLACE FUNCTION bench.citus_truncate(tcase text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    t record := bench.citus_tables(tcase);
BEGIN
    IF tcase = 'unscored' THEN
        EXECUTE format('TRUNCATE %s', t.tbl);
    ELSE
        EXECUTE format('TRUNCATE %s, %s, %s, %s', t.tbl, t.history, t.latest, t.alerts);
    END IF;
END
$fn$;
SQL
)
sqlf "$COORD" "$DB" setup_checks >/dev/null <<<"$checks_sql" || exit 2

# The single-node reference: a plain database (no Citus) on the
# coordinator's server, with bench/triggers.sql's three tables and its
# PL/pgSQL peer as they are (the single-node benchmark's), the same rows.
if [ "$SINGLE" = 1 ]; then
    log "single-node reference: database $SDB (no Citus) on the coordinator's server, bench/triggers.sql's tables"
    q "$COORD" postgres "CREATE DATABASE $SDB" >/dev/null
    q "$COORD" "$SDB" "CREATE EXTENSION credit_scoring" >/dev/null
    # (bench/triggers.sql's first statement cast 'bench.loan_applications_scored'
    # to regclass, which failed in a database without that table: a
    # placeholder, which triggers.sql then drops; harmless where it does not)
    q "$COORD" "$SDB" "CREATE SCHEMA bench; CREATE TABLE bench.loan_applications_scored (id bigint)" >/dev/null
    psql_ -p "$COORD" -d "$SDB" -f "$here/peers.sql" -f "$here/harness.sql" -f "$here/triggers.sql" \
        >"$out/load_single.out" 2>"$out/load_single.err" \
        || { cat "$out/load_single.err" >&2; die "loading peers.sql / harness.sql / triggers.sql into $SDB failed"; }
    sqlf "$COORD" "$SDB" setup_single >/dev/null <<SQL || exit 2
INSERT INTO bench.trig_insert_src SELECT * FROM bench.generate_apps($ROWS);
VACUUM (FREEZE, ANALYZE) bench.trig_insert_src;
SQL
    sqlf "$COORD" "$SDB" setup_checks_single >/dev/null <<<"$checks_sql" || exit 2
fi

# ------------------------------------------------------------------ measuring
# A case is unscored, scored or plpgsql (Citus, database $DB), or the same
# prefixed single_ (the single-node reference, database $SDB).
base_of() { echo "${1#single_}"; }
db_of() { case $1 in single_*) echo "$SDB" ;; *) echo "$DB" ;; esac; }
stmt() {  # stmt CASE OP (the statements of bench/triggers.sql's bench.trig_statement)
    local src=bench.citus_src
    [ "$(db_of "$1")" = "$SDB" ] && src=bench.trig_insert_src
    if [ "$2" = insert ]; then
        echo "INSERT INTO bench.loan_applications_$(base_of "$1") (id, monthly_income, assets_value, loan_amount, tenor_months) SELECT id, monthly_income, assets, loan_amount, tenor_months FROM $src"
    else
        echo "UPDATE bench.loan_applications_$(base_of "$1") SET monthly_income = monthly_income * 0.8"
    fi
}
check() { q "$COORD" "$(db_of "$1")" "SELECT bench.citus_check('$(base_of "$1")', $(per_row "$2"))"; }
truncate_case() { q "$COORD" "$(db_of "$1")" "SELECT bench.citus_truncate('$(base_of "$1")')" >/dev/null; }
checkpoint_all() { local p; for p in "${PORTS[@]}"; do q "$p" "$DB" "CHECKPOINT" >/dev/null; done; }
# CPU use of the whole machine over 2 s, in percent, while the cluster is idle
idle_busy() {
    local a b
    read -r _ a1 a2 a3 a4 a5 a6 a7 _ < /proc/stat
    sleep 2
    read -r _ b1 b2 b3 b4 b5 b6 b7 _ < /proc/stat
    a=$((a1 + a2 + a3 + a4 + a5 + a6 + a7)); b=$((b1 + b2 + b3 + b4 + b5 + b6 + b7))
    echo $(( (100 * ((b - a) - (b4 - a4) - (b5 - a5))) / ((b - a) > 0 ? (b - a) : 1) ))
}
# analyze_case CASE: ANALYZE the case's table, history, latest scores and
# alerts (between statements, untimed): every UPDATE starts from analyzed
# tables, as the single-node benchmark's statements do, instead of from
# whatever autovacuum had got round to; and the checks get sane plans.
analyze_case() {
    local d
    d=$(db_of "$1")
    case $(base_of "$1") in
        unscored) q "$COORD" "$d" "ANALYZE bench.loan_applications_unscored" ;;
        scored) q "$COORD" "$d" "ANALYZE bench.loan_applications_scored, credit.score_history, credit.latest_scores, credit.score_alerts" ;;
        plpgsql) q "$COORD" "$d" "ANALYZE bench.loan_applications_plpgsql, bench.trig_history, bench.trig_latest, bench.trig_alerts" ;;
    esac >/dev/null
}
# CPU time (clock ticks) of the whole machine (busy: all but idle and
# iowait) and of this cluster (the three postmasters, their live children,
# and the children they reaped): "machine cluster".
# (a script file, so that psql's \! can take the same reading inside the
# timed session)
pms=()
for p in "${PORTS[@]}"; do pms+=("$(head -n1 "$base/node$p/postmaster.pid" 2>/dev/null || true)"); done
cat >"$out/ticks.sh" <<EOF
#!/bin/sh
machine=\$(awk '\$1 == "cpu" { print \$2 + \$3 + \$4 + \$7 + \$8 + \$9; exit }' /proc/stat)
# (cat, not awk, opens the files: a process gone since the glob must not end
# the scan; one line per process)
cluster=\$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v pms=" ${pms[*]} " '{
              if (index(pms, " " \$1 " ")) t += \$14 + \$15 + \$16 + \$17
              else if (index(pms, " " \$4 " ")) t += \$14 + \$15
          } END { print t + 0 }')
echo "\$machine \${cluster:-0}"
EOF
cpu_ticks() { sh "$out/ticks.sh"; }
other_max=0
other_over=0
OTHER_MAX=${OTHER_MAX:-20}
busy_max=0
BUSY_MAX=${BUSY_MAX:-25}
paused=0
# quiet_machine: before a measurement (the cluster idle), wait while the
# machine is busy with something else (CPU use above BUSY_MAX % over 2 s),
# polling every 30 s, at most LOAD_WAIT s in all over the run; sets $b.
quiet_machine() {
    b=$(idle_busy)
    while [ "$b" -gt "$BUSY_MAX" ] && [ "$paused" -lt "$LOAD_WAIT" ]; do
        log "the machine is ${b} % busy with other work while the cluster is idle: pausing 30 s ($paused s of at most $LOAD_WAIT paused so far): $(uptime)"
        sleep 30
        paused=$((paused + 30))
        b=$(idle_busy)
    done
    [ "$b" -gt "$busy_max" ] && busy_max=$b
    [ "$b" -le "$BUSY_MAX" ] || busy_over=$((busy_over + 1))
    return 0
}
busy_over=0
# measure CASE OP LABEL: one statement, timed; sets $secs (server), $wall (client, commit included),
# $ccpu (CPU seconds used by the cluster's processes meanwhile, commit included,
# connection start not)
# Also sets $other: CPU used meanwhile by processes outside this cluster,
# in % of one core (another job on the machine shows there).
measure() {
    local o c0 c1 t0 t1 i0 i1 tag=$out/ticks_$1_$2_$3
    c0=$(cpu_ticks); t0=$(date +%s.%N)
    # The cluster's CPU is read inside the session, around the statement
    # (commit included): not the connection's start, nor this session's
    # first connections to the workers (opened by an untimed multi-shard
    # query that reads nothing: an index range with no rows).
    o=$(sqlf "$COORD" "$(db_of "$1")" "$1_$2_$3" <<SQL
SELECT 'warm-up ' || count(*) FROM bench.loan_applications_$(base_of "$1") WHERE id < 0;
\! sh $out/ticks.sh > $tag.0
\timing on
SELECT seconds, result FROM bench.time_dml(\$stmt\$$(stmt "$1" "$2")\$stmt\$);
\timing off
\! sh $out/ticks.sh > $tag.1
SQL
) || exit 1
    c1=$(cpu_ticks); t1=$(date +%s.%N)
    i0=$(cat "$tag.0"); i1=$(cat "$tag.1")
    other=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        o = ((y[1] - x[1]) - (y[2] - x[2])) / hz / (t1 - t0) * 100
        printf "%d", (o < 0 ? 0 : o + 0.5) }')
    # and the CPU time the cluster itself used (all three servers, every
    # process: coordinator, worker backends, background processes), in
    # seconds: on one machine with more shards than cores, the server-side
    # time of a multi-shard statement shows the shards run in parallel; the
    # CPU time shows the work (the overhead)
    ccpu=$(awk -v a="$i0" -v b="$i1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " "); printf "%.2f", (y[2] - x[2]) / hz }')
    # (no early-exiting reader in these pipelines: with pipefail a SIGPIPE would end the run)
    local line n=
    secs= wall=
    while IFS= read -r line; do
        case "$line" in
            *'|'*) [ -n "$secs" ] || { secs=${line%%|*}; n=${line#*|}; } ;;
            'Time: '*) wall=${line#Time: }; wall=${wall%% ms*} ;;
        esac
    done <<<"$o"
    wall=$(awk -v w="$wall" 'BEGIN { printf "%.3f", w / 1000 }')
    [ "$n" = "$ROWS" ] || { echo "bench/citus.sh: $1 $2: $n rows, expected $ROWS" >&2; exit 1; }
}
kv() {  # kv KEY "key value key value ...": the value
    local -a a=($2)
    local i
    for ((i = 0; i + 1 < ${#a[@]}; i += 2)); do
        [ "${a[i]}" = "$1" ] && { echo "${a[i + 1]}"; return 0; }
    done
}
OPS=(insert)
[ "$DO_UPDATE" = 1 ] && OPS+=(update)
declare -A expect times walls others cpus
ALL=("${CASES[@]}")
[ "$SINGLE" = 1 ] && ALL+=(single_unscored single_scored single_plpgsql)
per_row() { if [ "$1" = insert ]; then echo 1; else echo 2; fi; }

# ---- gate (also the warm-up): each statement once in every table, then the checks
log "correctness gate (untimed run of every case, also the warm-up)"
gate_fail=()
for op in "${OPS[@]}"; do
    checkpoint_all
    for c in "${ALL[@]}"; do
        measure "$c" "$op" gate
        log "  gate $op $c: ${secs} s"
    done
    for c in "${CASES[@]}"; do
        analyze_case "$c"
        st=$(check "$c" "$op")
        expect[$c.$op]=$st
        log "  after the $op: $c: $st"
        if [ "$(kv rows "$st")" != "$ROWS" ]; then gate_fail+=("$op $c: $st"); fi
        if [ "$c" != unscored ]; then
            if [ "$(kv bad_scores "$st")" != 0 ] || [ "$(kv history_bad "$st")" != 0 ] || [ "$(kv latest_bad "$st")" != 0 ] \
               || [ "$(kv history "$st")" != $((ROWS * $(per_row "$op"))) ]; then
                gate_fail+=("$op $c: $st")
            fi
        fi
    done
    cmp=$(q "$COORD" "$DB" "SELECT bench.citus_compare()")
    expect[compare.$op]=$cmp
    log "  after the $op: extension vs peer: $cmp"
    [ "$cmp" = "history_diff 0 latest_diff 0 alerts_diff 0" ] || gate_fail+=("$op: extension vs peer: $cmp")
    # the single-node reference must leave what Citus left (same rows, same
    # history and alert counts, every check at 0)
    for c in "${ALL[@]}"; do
        [ "$c" = "$(base_of "$c")" ] && continue
        analyze_case "$c"
        st=$(check "$c" "$op")
        expect[$c.$op]=$st
        log "  after the $op: $c: $st"
        [ "$st" = "${expect[$(base_of "$c").$op]}" ] || gate_fail+=("$op $c: $st, on Citus: ${expect[$(base_of "$c").$op]}")
    done
    if [ "$SINGLE" = 1 ]; then
        cmp=$(q "$COORD" "$SDB" "SELECT bench.citus_compare()")
        log "  after the $op: single node: extension vs peer: $cmp"
        [ "$cmp" = "history_diff 0 latest_diff 0 alerts_diff 0" ] || gate_fail+=("$op: single node: extension vs peer: $cmp")
    fi
    if [ "$(kv score_drop "${expect[scored.$op]}") $(kv dsr_critical "${expect[scored.$op]}") $(kv invalid_input "${expect[scored.$op]}")" = "0 0 0" ]; then
        gate_fail+=("$op: no alert raised at all: the comparison of alerts proves nothing")
    fi
done
if [ ${#gate_fail[@]} -gt 0 ]; then
    printf 'bench/citus.sh: correctness gate failed, nothing timed:\n' >&2
    printf '  - %s\n' "${gate_fail[@]}" >&2
    exit 1
fi
for c in "${ALL[@]}"; do truncate_case "$c"; done
log "gate passed"

# ---- wait for a quiet machine
load_start=$(cut -d' ' -f1 /proc/loadavg)
waited=0
under_load=0
own_load=0
# (the gate run itself keeps the load average up for a minute or two after
# it: a high load average with the machine idle now, 2 s sampled, is that
# and does not wait)
while ! awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v m="$LOAD_MAX" 'BEGIN { exit !(l < m) }'; do
    idle_now=$(idle_busy)
    if [ "$idle_now" -le "$BUSY_MAX" ]; then
        log "1-min load average $(cut -d' ' -f1 /proc/loadavg) >= $LOAD_MAX, but the machine is idle now ($idle_now % busy over 2 s): the gate run's own load, no wait"
        own_load=1
        break
    fi
    if [ "$waited" -ge "$LOAD_WAIT" ]; then
        under_load=1
        break
    fi
    log "1-min load average $(cut -d' ' -f1 /proc/loadavg) >= $LOAD_MAX and the machine $idle_now % busy: waiting ($waited s of at most $LOAD_WAIT): $(uptime)"
    sleep 30
    waited=$((waited + 30))
done
same_install
load_at_timing=$(cut -d' ' -f1 /proc/loadavg)
uptime_at_timing=$(uptime)
log "timing starts: $uptime_at_timing"

# ---- timed rounds
round_fail=()
t_start=$(date +%s)
for r in $(seq 1 "$RUNS"); do
    n=${#ALL[@]}
    for k in $(seq 0 $((n - 1))); do
        c=${ALL[$(( (k + r - 1) % n ))]}
        checkpoint_all
        quiet_machine
        # (after the pause: a build that ran meanwhile may have reinstalled)
        same_install
        for op in "${OPS[@]}"; do
            if [ "$op" = update ]; then
                # the UPDATE starts from analyzed tables, checkpointed
                analyze_case "$c"
                checkpoint_all
            fi
            measure "$c" "$op" "r$r"
            times[$c.$op]="${times[$c.$op]:-} $secs"
            walls[$c.$op]="${walls[$c.$op]:-} $wall"
            others[$c.$op]="${others[$c.$op]:-} $other"
            cpus[$c.$op]="${cpus[$c.$op]:-} $ccpu"
            # (under 1 s the figure is mostly the client's and the sampling's own noise)
            if awk -v s="$secs" 'BEGIN { exit !(s >= 1) }'; then
                [ "$other" -gt "$other_max" ] && other_max=$other
                [ "$other" -gt "$OTHER_MAX" ] && other_over=$((other_over + 1))
            fi
        done
        # what the last statement left must be what the gate run left
        analyze_case "$c"
        st=$(check "$c" "${OPS[-1]}")
        [ "$st" = "${expect[$c.${OPS[-1]}]}" ] || round_fail+=("round $r $c: $st (gate: ${expect[$c.${OPS[-1]}]})")
        truncate_case "$c"
        log "round $r/$RUNS $c: $(for op in "${OPS[@]}"; do printf '%s %s s, cluster CPU %s s (others %s %%)  ' "$op" "$(echo "${times[$c.$op]}" | awk '{ print $NF }')" "$(echo "${cpus[$c.$op]}" | awk '{ print $NF }')" "$(echo "${others[$c.$op]}" | awk '{ print $NF }')"; done)(idle CPU before: ${b} % busy)"
    done
done
t_end=$(date +%s)
same_install
load_end=$(cut -d' ' -f1 /proc/loadavg)
if [ ${#round_fail[@]} -gt 0 ]; then
    printf 'bench/citus.sh: a timed round did not leave what the gate run left:\n' >&2
    printf '  - %s\n' "${round_fail[@]}" >&2
    exit 1
fi

# ------------------------------------------------------------------ report
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
fmt_rounds() { echo "$1" | tr ' ' '\n' | grep . | awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), $1 }'; }
declare -A med wmed cmed
for op in "${OPS[@]}"; do
    for c in "${ALL[@]}"; do
        med[$c.$op]=$(echo "${times[$c.$op]}" | median)
        wmed[$c.$op]=$(echo "${walls[$c.$op]}" | median)
        cmed[$c.$op]=$(echo "${cpus[$c.$op]}" | median)
    done
done
cpu=$(awk -F': ' '/^model name/ && !done { print $2; done = 1 }' /proc/cpuinfo)
ncpu=$(nproc)
mem=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)
wrote() {  # what a statement left in a case: history rows and alerts by kind
    local st=${expect[$1.$2]}
    echo "$(kv history "$st") history rows, $(kv score_drop "$st") score_drop / $(kv dsr_critical "$st") dsr_critical / $(kv invalid_input "$st") invalid_input alerts"
}
if [ "$under_load" = 1 ]; then
    load_line="**Measured under load**: the 1-minute load average was still $load_at_timing (>= $LOAD_MAX) after waiting $waited s (\`$uptime_at_timing\`)."
elif [ "$own_load" = 1 ]; then
    # (no "$( [ ... ] && echo ...)" in an assignment: its status is the
    # assignment's, and set -e would end the script here)
    waited_note=
    [ "$waited" -eq 0 ] || waited_note=", after waiting $waited s for other work"
    load_line="1-minute load average at the start of timing: $load_at_timing, from the gate run just before (the machine itself was idle, at most $BUSY_MAX % busy over 2 s$waited_note): \`$uptime_at_timing\`."
elif [ "$waited" -gt 0 ]; then
    load_line="Waited $waited s for the 1-minute load average to fall below $LOAD_MAX (it was $load_start after the gate run); at the start of timing: \`$uptime_at_timing\`."
else
    load_line="1-minute load average at the start of timing: $load_at_timing (below $LOAD_MAX, no wait): \`$uptime_at_timing\`."
fi
report() {
    echo "Machine: $cpu, $ncpu cores, $mem RAM; PostgreSQL $pg_version, Citus $citus_version, credit_scoring $credit_version ($build_info)."
    echo "Cluster: a coordinator and two workers, three PostgreSQL servers on this one machine (127.0.0.1, ports ${PORTS[*]}), \`citus.shard_count = $SHARDS\`, \`shared_buffers = 256MB\`, \`max_wal_size = 4GB\`, \`jit = off\` on every node, the rest defaults (logged tables, \`synchronous_commit = on\`, fsync on)."
    local busy_line="The machine's CPU use in the 2 s before each measurement, with the cluster idle: at most $busy_max %"
    if [ "$paused" -gt 0 ]; then
        busy_line="$busy_line (paused $paused s in all while other work kept it above $BUSY_MAX %"
        [ "$busy_over" -gt 0 ] && busy_line="$busy_line; **$busy_over measurement(s) started with it still above**"
        busy_line="$busy_line)"
    fi
    echo "$load_line At the end: $load_end. $busy_line."
    local other_line="CPU used by processes outside the cluster during each timed statement (machine busy time minus the three servers' and their children's, from /proc; the client's own share makes it noisy for the statements under 1 s): at most $other_max % of one core for the statements of 1 s or more"
    [ "$other_over" -gt 0 ] && other_line="$other_line (**$other_over statement(s) of 1 s or more above $OTHER_MAX %: other work ran during them**)"
    echo "$other_line."
    echo "Timed: $RUNS rounds, cases interleaved (starting case rotating), $(( t_end - t_start )) s in all."
    echo
    echo "| where | case | statement | rows | median s | rounds (s) | median s with commit (client) | cluster CPU s, median | others' CPU (% of a core), per round | what it wrote |"
    echo "|---|---|---|---:|---:|---|---:|---:|---|---|"
    local op c b where
    for op in "${OPS[@]}"; do
        for c in "${ALL[@]}"; do
            b=$(base_of "$c")
            where="Citus"; [ "$c" != "$b" ] && where="single node"
            local w="—"
            [ "$b" != unscored ] && w=$(wrote "$c" "$op")
            [ "$op" = update ] && [ "$b" != unscored ] && w="$w (in all, after the INSERT and the UPDATE)"
            echo "| $where | $b | ${op^^} | $ROWS | ${med[$c.$op]} | $(fmt_rounds "${times[$c.$op]}") | ${wmed[$c.$op]} | ${cmed[$c.$op]} | $(echo ${others[$c.$op]} | sed 's/ /, /g') | $w |"
        done
    done
    echo
    echo "Cluster CPU: the CPU time the three servers' processes used during the statement (read from /proc inside the timed session: commit included, connection start not). With $SHARDS shards on $ncpu cores a multi-shard statement runs its shards in parallel, so its server-side time can be below a single node's; the CPU time is the work it cost."
    echo
    if [ "$SINGLE" = 1 ]; then
        echo "| ratio (medians) | Citus, server-side time | Citus, cluster CPU | single node, server-side time | single node, CPU | single-node target (SPEC §7, time) |"
        echo "|---|---:|---:|---:|---:|---:|"
        for op in "${OPS[@]}"; do
            echo "| ${op^^}: scored / unscored | $(ratio "${med[scored.$op]}" "${med[unscored.$op]}") | $(ratio "${cmed[scored.$op]}" "${cmed[unscored.$op]}") | $(ratio "${med[single_scored.$op]}" "${med[single_unscored.$op]}") | $(ratio "${cmed[single_scored.$op]}" "${cmed[single_unscored.$op]}") | <= 2.5 |"
            echo "| ${op^^}: plpgsql / scored | $(ratio "${med[plpgsql.$op]}" "${med[scored.$op]}") | $(ratio "${cmed[plpgsql.$op]}" "${cmed[scored.$op]}") | $(ratio "${med[single_plpgsql.$op]}" "${med[single_scored.$op]}") | $(ratio "${cmed[single_plpgsql.$op]}" "${cmed[single_scored.$op]}") | >= 3 |"
        done
        echo
        echo "| Citus / single node (medians) | unscored | scored | plpgsql |"
        echo "|---|---:|---:|---:|"
        for op in "${OPS[@]}"; do
            echo "| ${op^^}, server-side time | $(ratio "${med[unscored.$op]}" "${med[single_unscored.$op]}") | $(ratio "${med[scored.$op]}" "${med[single_scored.$op]}") | $(ratio "${med[plpgsql.$op]}" "${med[single_plpgsql.$op]}") |"
            echo "| ${op^^}, CPU | $(ratio "${cmed[unscored.$op]}" "${cmed[single_unscored.$op]}") | $(ratio "${cmed[scored.$op]}" "${cmed[single_scored.$op]}") | $(ratio "${cmed[plpgsql.$op]}" "${cmed[single_plpgsql.$op]}") |"
        done
    else
        echo "| ratio (medians) | Citus, server-side time | Citus, cluster CPU | single-node target (SPEC §7, time) |"
        echo "|---|---:|---:|---:|"
        for op in "${OPS[@]}"; do
            echo "| ${op^^}: scored / unscored | $(ratio "${med[scored.$op]}" "${med[unscored.$op]}") | $(ratio "${cmed[scored.$op]}" "${cmed[unscored.$op]}") | <= 2.5 |"
            echo "| ${op^^}: plpgsql / scored | $(ratio "${med[plpgsql.$op]}" "${med[scored.$op]}") | $(ratio "${cmed[plpgsql.$op]}" "${cmed[scored.$op]}") | >= 3 |"
        done
    fi
    echo
    echo "Correctness gate (before timing; every round re-checked against it): passed. After the INSERT: $(echo "${expect[compare.insert]}" | sed 's/_diff /: /g; s/ \([a-z]\)/, \1/g') rows differing between the extension's and the peer's history, latest scores and alerts$( [ "$DO_UPDATE" = 1 ] && echo "; after the UPDATE: $(echo "${expect[compare.update]}" | sed 's/_diff /: /g; s/ \([a-z]\)/, \1/g')"); in both scored tables every stored score, probability, segment and decision equals \`credit.score_credit\` / \`credit.decide\` of the row's inputs, and history holds exactly one row per inserted$( [ "$DO_UPDATE" = 1 ] && echo " and per updated") row$( [ "$SINGLE" = 1 ] && echo "; the single-node reference passes the same checks and leaves the same counts")."
}
report_text=$(report)
echo "$report_text"
[ -z "$OUTPUT" ] || printf '%s\n' "$report_text" >"$OUTPUT"
