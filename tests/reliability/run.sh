#!/usr/bin/env bash
#
# Reliability suite (issue 9): nothing lost under concurrent load, crashes,
# dump/restore and hostile input.  Brings up its own throwaway PostgreSQL
# cluster (never touches a running one), runs every check against it, prints
# the figures and exits non-zero when an invariant is violated.
#
# usage: tests/reliability/run.sh            (as root or as an ordinary user)
#
# Phases (PHASES, default: all of them, in this order):
#   plain        customers + loans (demo/portfolio.sql): pgbench load, a
#                committed bulk rescoring, then three faults in the middle of
#                a bulk rescoring: pg_terminate_backend, kill -9 of the
#                backend (the postmaster resets and recovers), kill -9 of the
#                postmaster (then of its children still running; pg_ctl
#                start recovers)
#   partitioned  the same on loans partitioned by hash of customer_id
#   dump         pg_dump -Fc, pg_restore -j 4 of the plain database into a new
#                one (with partitioned customers and loans)
#   hostile      SQL-level hostile input (hostile.sql)
#
# Invariants checked after every step (invariants.sql): credit.verify empty;
# every stored score, probability, segment and decision equal to
# credit.score_credit/credit.decide of the current inputs and to the
# scorecard rewritten in plain SQL (reference.sql); the latest history row of
# every loan equal to its stored score and made from its current inputs;
# every history row the score of the inputs it records; with
# credit_scoring.alert_window = '0', the score_drop alerts exactly the drops
# replayed from history (row by row) and the dsr_critical alerts exactly the
# crossings replayed from history.  After a fault: all or nothing (incomes,
# history and alerts as before the interrupted statement).  pgbench: no
# failed transaction, no deadlock.  Dump/restore: pg_restore without
# errors; history, alerts, scorecards, scored_tables, the tables, triggers
# and sequences identical; writes afterwards scored and historied (also with
# a custom scorecard); enable_scoring/disable_scoring afterwards leave
# exactly their triggers.  Hostile input: only 22023/22003 errors from the
# functions, try_score_credit and validate_application never raise and
# agree with score_credit, accepted input scores as the SQL reference does;
# through the triggers (numeric, float, real, bigint columns; layouts 1 and
# 2; flag and reject): every row scored correctly or flagged with an
# invalid_input alert saying why, credit.verify usable.  Whole run: no
# backend terminated by a signal we did not send, no PANIC, no XX000
# (internal error) in the server log, pg_amcheck clean after the crashes,
# and the installed extension unchanged during the run.
#
# A fault needs the bulk rescoring to last long enough to land in its
# middle (it is timed first; about 1.3 s for 10,000 customers here): with a
# tiny CUSTOMERS a fault can miss, which is reported as a violation, not
# passed.  On failure the server log and outputs are kept in
# $WORKDIR/credit_reliability.*.failed.
#
# Environment:
#   CUSTOMERS=10000   customers in the sample portfolio (about 2x loans)
#   CLIENTS=8         pgbench clients
#   DURATION=20       pgbench seconds, per layout
#   WORKLOAD=split    split: three pgbench scripts, one statement each
#                     (income change @4, tenor change @4, new loan @1);
#                     txn: one transaction changing an income then a tenor
#   SKEW=exponential  which customers and loans pgbench picks: exponential
#                     (pgbench random_exponential, parameter 20: the first
#                     5 % of customers, and their loans, get 2/3 of the
#                     changes, as busy accounts do) or uniform
#   MAX_TRIES=10      pgbench --max-tries (deadlocks are retried up to this,
#                     and reported; see ALLOW_DEADLOCKS)
#   ALLOW_DEADLOCKS=0 1: report deadlocks without failing the run
#   PHASES="plain partitioned dump hostile"
#   KEEP=0            1: leave the cluster running (and its directory) at the end
#   PORT=55432        port of the throwaway cluster (Unix socket only, no TCP)
#   PG_BINDIR         PostgreSQL binaries (default: $(pg_config --bindir),
#                     else /usr/lib/postgresql/15/bin)
#   RUNAS             OS user running the server (default: postgres when run
#                     as root, else the caller; another user is reached
#                     through sudo, and then the socket directory is
#                     readable by all local users while the run lasts)
#   WORKDIR           parent of the cluster directory (default /var/tmp)
#
# The extension must be installed in PG_BINDIR's installation (as the
# repository's scripts/test.sh does): CREATE EXTENSION credit_scoring.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

CUSTOMERS=${CUSTOMERS:-10000}
CLIENTS=${CLIENTS:-8}
DURATION=${DURATION:-20}
WORKLOAD=${WORKLOAD:-split}
SKEW=${SKEW:-exponential}
MAX_TRIES=${MAX_TRIES:-10}
ALLOW_DEADLOCKS=${ALLOW_DEADLOCKS:-0}
PHASES=${PHASES:-plain partitioned dump hostile}
KEEP=${KEEP:-0}
PORT=${PORT:-55432}
WORKDIR=${WORKDIR:-/var/tmp}
DROP_POINTS=15

if [ -z "${PG_BINDIR:-}" ]; then
    if command -v pg_config >/dev/null 2>&1; then PG_BINDIR=$(pg_config --bindir); fi
    [ -x "${PG_BINDIR:-}/pg_ctl" ] || PG_BINDIR=/usr/lib/postgresql/15/bin
fi
for b in initdb pg_ctl postgres psql pgbench pg_dump pg_restore pg_amcheck; do
    [ -x "$PG_BINDIR/$b" ] || { echo "run.sh: $PG_BINDIR/$b not found (set PG_BINDIR)" >&2; exit 2; }
done

# Who runs the server: PostgreSQL refuses root.
me=$(id -un)
if [ -z "${RUNAS:-}" ]; then
    if [ "$(id -u)" = 0 ]; then RUNAS=postgres; else RUNAS=$me; fi
fi
if [ "$RUNAS" = "$me" ]; then
    as_pg=()
elif [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1; then
    as_pg=(runuser -u "$RUNAS" --)
else
    as_pg=(sudo -u "$RUNAS" --)
fi
pgrun() { "${as_pg[@]+"${as_pg[@]}"}" "$@"; }

# ---------------------------------------------------------------- reporting
# Violations, counters, figures and the processes we killed go to files
# under $out, so that a phase can run in a subshell (an unexpected error
# aborts that phase only, and is a violation itself).
fail() { printf '%s\n' "$*" | awk 'NR > 1 { printf " / " } { printf "%s", $0 } END { print "" }' >>"$out/violations"; printf '  \033[31mVIOLATION\033[0m %s\n' "$*"; }
count() { echo "$1 $2" >>"$out/counters"; }
total() { awk -v k="$1" '$1 == k { s += $2 } END { print s + 0 }' "$out/counters"; }
ok() { printf '  ok  %s\n' "$*"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_start=$(now)
addfig() { printf '%s|%s\n' "$1" "$2" >>"$out/figs"; }

# ---------------------------------------------------------------- the cluster
base=$(mktemp -d "$WORKDIR/credit_reliability.XXXXXX")
data=$base/data
sock=$base/sock
log=$base/server.log
out=$base/out
# The server (trust authentication) listens only on a socket in $sock: keep
# it to the caller and the server's user.
if [ ${#as_pg[@]} -eq 0 ]; then            # the server runs as the caller
    chmod 700 "$base"
    mkdir -m 700 "$data" "$sock"
    touch "$log"
elif [ "$(id -u)" = 0 ]; then              # root; the server runs as RUNAS
    chmod 711 "$base"
    mkdir -m 700 "$data" "$sock"
    touch "$log"
    chown "$RUNAS" "$data" "$sock" "$log"
else                                       # through sudo: the caller needs the socket too
    chmod 1777 "$base"
    pgrun mkdir -m 700 "$data"
    pgrun mkdir -m 755 "$sock"
    pgrun touch "$log"
fi
mkdir -p "$out"
touch "$out/violations" "$out/counters" "$out/figs" "$out/killed"  # killed: pids we SIGKILLed on purpose

export PGHOST=$sock PGPORT=$PORT PGUSER=postgres
unset PGDATABASE PGPASSWORD PGSERVICE 2>/dev/null || true
export PGOPTIONS='-c client_min_messages=warning'
psql_() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { local db=$1; shift; psql_ -d "$db" -At -c "$*"; }

cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        echo
        echo "KEEP=1: cluster left running: $data (psql -h $sock -p $PORT -U postgres -d rel_plain); log $log"
        echo "        stop it with: ${as_pg[*]} $PG_BINDIR/pg_ctl -D $data stop -m immediate; rm -rf $base"
    else
        pgrun "$PG_BINDIR/pg_ctl" -D "$data" stop -m immediate >/dev/null 2>&1 || true
        if [ "$rc" -ne 0 ] && [ -d "$out" ]; then
            # Keep what explains the failure: the server log and the outputs.
            local keep="$base.failed"
            mkdir -p "$keep" && cp -r "$out" "$keep/" && cp "$log" "$keep/server.log" 2>/dev/null || true
            echo "run.sh: server log and outputs kept in $keep"
        fi
        pgrun rm -rf "$data" "$sock" "$log" 2>/dev/null || true
        rm -rf "$base"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

server_up() {
    local i
    for i in $(seq 1 600); do
        if "$PG_BINDIR/psql" -X -d postgres -At -c 'SELECT 1' >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "run.sh: the server did not come up; its log:" >&2
    tail -n 40 "$log" >&2
    return 1
}

start_server() {
    # As a service would run it: no RUST_BACKTRACE (with it, errors passing
    # through the extension's Rust frames carry a backtrace).
    pgrun env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w -t 120 start \
        -o "-c listen_addresses='' -c unix_socket_directories='$sock' -c port=$PORT" >>"$out/pg_ctl.log" 2>&1 \
        || { echo "run.sh: pg_ctl start failed:" >&2; tail -n 20 "$out/pg_ctl.log" "$log" >&2; return 1; }
    server_up
}

say "cluster: $data (server runs as OS user $RUNAS; $("$PG_BINDIR/postgres" --version))"
pgrun "$PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$out/initdb.log" 2>&1 \
    || { cat "$out/initdb.log" >&2; exit 2; }
pgrun sh -c "cat >> '$data/postgresql.conf'" <<EOF
# tests/reliability/run.sh
shared_buffers = 128MB
max_connections = 40
fsync = on
synchronous_commit = on
restart_after_crash = on
log_line_prefix = '%m [%p] %e %d '
log_min_messages = warning
log_min_error_statement = log
log_lock_waits = on
deadlock_timeout = 200ms
max_wal_size = 2GB
EOF
start_server
avail=$(q postgres "SELECT count(*) FROM pg_available_extensions WHERE name = 'credit_scoring'")
[ "$avail" = 1 ] || { echo "run.sh: credit_scoring is not installed in $PG_BINDIR's PostgreSQL" >&2; exit 2; }
# Which build is tested: the installed library and script, by time and size
# (a reinstall during the run would mix builds, and overwriting a loaded
# library can crash the backends using it).
pkglibdir=$(q postgres "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
sharedir=$(q postgres "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'")
installed() { stat -c '%n %y %s bytes' "$pkglibdir/credit_scoring.so" "$sharedir"/extension/credit_scoring--*.sql 2>/dev/null; }
installed_at_start=$(installed)
echo "extension under test:"; sed 's/^/  /' <<<"$installed_at_start"

# ---------------------------------------------------------------- helpers
new_db() {   # new_db NAME: a database with the extension, alert window 0
    local db=$1
    q postgres "CREATE DATABASE $db"
    q postgres "ALTER DATABASE $db SET credit_scoring.alert_window = '0'"
    q postgres "ALTER DATABASE $db SET credit_scoring.alert_drop_points = $DROP_POINTS"
    psql_ -d "$db" -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION credit_scoring' -f "$here/reference.sql" >/dev/null
}

# load_portfolio DB LAYOUT: customers + loans, scoring enabled, loans.id with
# a default (for new loans), LAYOUT plain or partitioned (hash of
# customer_id, 4 partitions; primary key (id, customer_id); row key id).
load_portfolio() {
    local db=$1 layout=$2
    psql_ -d "$db" -v customers="$CUSTOMERS" -c 'SET client_min_messages = warning' -f "$repo/demo/portfolio.sql" >/dev/null
    if [ "$layout" = partitioned ]; then
        psql_ -d "$db" >/dev/null <<'SQL'
SET client_min_messages = warning;
ALTER TABLE loans RENAME TO loans_flat;
CREATE TABLE loans (
    id               bigint NOT NULL,
    customer_id      bigint NOT NULL REFERENCES customers(id),
    principal_amount numeric(16,2) NOT NULL,
    tenor_months     integer NOT NULL,
    PRIMARY KEY (id, customer_id)
) PARTITION BY HASH (customer_id);
CREATE TABLE loans_p0 PARTITION OF loans FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE loans_p1 PARTITION OF loans FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE loans_p2 PARTITION OF loans FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE loans_p3 PARTITION OF loans FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO loans SELECT * FROM loans_flat;
DROP TABLE loans_flat;
CREATE INDEX ON loans (customer_id);
SQL
        key="key => 'id', "
    else
        psql_ -d "$db" -c 'CREATE INDEX ON loans (customer_id)' >/dev/null
        key=""
    fi
    psql_ -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE SEQUENCE loans_id_seq OWNED BY loans.id;
SELECT setval('loans_id_seq', (SELECT max(id) FROM loans));
ALTER TABLE loans ALTER COLUMN id SET DEFAULT nextval('loans_id_seq');
SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers', $key scorecard => 'reference');
ANALYZE customers, loans;
SQL
}

# check DB LABEL: the invariants of invariants.sql; prints a one-line summary.
check() {
    local db=$1 label=$2 line k v
    declare -A r=()
    while IFS='|' read -r k v; do r[$k]=$v; done < <(psql_ -d "$db" -At \
        -v loans=loans -v customers=customers -v tbl=public.loans -v drop_points=$DROP_POINTS \
        -f "$here/invariants.sql")
    if [ -z "${r[loans]:-}" ]; then fail "$label: the invariants query returned nothing"; return; fi
    count rows_verified "${r[loans]}"
    count history_verified "${r[history_rows]}"
    local bad=()
    for k in verify_rows stored_vs_score_credit stored_vs_sql_reference unscored loans_without_history \
             latest_history_vs_stored latest_history_inputs_vs_current history_rows_inconsistent \
             score_drop_alerts_unmatched; do
        [ "${r[$k]}" = 0 ] || bad+=("$k=${r[$k]}")
    done
    [ "${r[score_drop_alerts]}" = "${r[score_drops_replayed]}" ] \
        || bad+=("score_drop_alerts=${r[score_drop_alerts]} but drops replayed from history=${r[score_drops_replayed]}")
    [ "${r[dsr_critical_alerts]}" = "${r[dsr_critical_replayed]}" ] \
        || bad+=("dsr_critical_alerts=${r[dsr_critical_alerts]} but replayed=${r[dsr_critical_replayed]}")
    line="loans ${r[loans]}, history ${r[history_rows]}, score_drop alerts ${r[score_drop_alerts]} (replayed ${r[score_drops_replayed]}), dsr_critical ${r[dsr_critical_alerts]} (replayed ${r[dsr_critical_replayed]}), verify ${r[verify_rows]}"
    last_history=${r[history_rows]}
    last_drop_alerts=${r[score_drop_alerts]}
    if [ ${#bad[@]} -eq 0 ]; then ok "$label: $line"; else fail "$label: ${bad[*]} ($line)"; fi
}

# The state a fault must leave untouched (all or nothing).
snapshot() {
    q "$1" "SELECT (SELECT sum(monthly_income) FROM customers), (SELECT count(*) FROM credit.score_history),
                   (SELECT count(*) FROM credit.score_alerts), (SELECT max(scored_at) FROM loans)"
}

# pgbench DB LAYOUT: the concurrent load.
run_pgbench() {
    local db=$1 layout=$2 nloans nb rc=0 txns failed retried retries tps deadlocks dl_before dl_after
    nloans=$(q "$db" "SELECT max(id) FROM loans")
    local scripts=() f
    # SKEW=exponential: busy customers, whose loans are the busy loans too
    # (loan ids follow customer ids); uniform: every row alike.
    for f in workload_txn workload_income workload_tenor workload_new_loan; do
        if [ "$SKEW" = exponential ]; then
            sed -E 's/random\(1, :(ncustomers|nloans)\)/random_exponential(1, :\1, 20)/' "$here/$f.sql" >"$out/$f.sql"
        else
            cp "$here/$f.sql" "$out/$f.sql"
        fi
    done
    if [ "$WORKLOAD" = txn ]; then
        scripts=(-f "$out/workload_txn.sql")
    else
        scripts=(-f "$out/workload_income.sql@4" -f "$out/workload_tenor.sql@4" -f "$out/workload_new_loan.sql@1")
    fi
    dl_before=$(grep -c 'deadlock detected' "$log" || true)
    nb=$out/pgbench.$layout.log
    "$PG_BINDIR/pgbench" -n -d "$db" -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" -P 5 \
        --max-tries="$MAX_TRIES" --failures-detailed --verbose-errors \
        -D ncustomers="$CUSTOMERS" -D nloans="$nloans" "${scripts[@]}" >"$nb" 2>&1 || rc=$?
    server_up   # (a backend crash during the run resets the server)
    dl_after=$(grep -c 'deadlock detected' "$log" || true)
    deadlocks=$((dl_after - dl_before))
    txns=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$nb" | head -1)
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$nb" | head -1)
    retried=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$nb" | head -1)
    retries=$(sed -n 's/^total number of retries: \([0-9]*\).*/\1/p' "$nb" | head -1)
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$nb" | head -1)
    local line="$CLIENTS clients x ${DURATION} s ($WORKLOAD, $SKEW): ${txns:-?} transactions (${tps:-?} tps), failed ${failed:-?}, retried ${retried:-0} (retries ${retries:-0}), deadlocks in the server log $deadlocks"
    addfig "$layout: pgbench" "$line"
    count pgbench_txns "${txns:-0}"
    count pgbench_deadlocks "$deadlocks"
    count pgbench_retried "${retried:-0}"
    if [ "$rc" -ne 0 ] || [ -z "$txns" ]; then
        fail "pgbench ($layout) exited with status $rc: $line"
        grep -v '^progress' "$nb" | tail -n 15 | sed 's/^/      /'
    elif [ "${failed:-1}" != 0 ]; then
        fail "pgbench ($layout): $line"
    elif [ "$deadlocks" -ne 0 ] || [ "${retried:-0}" != 0 ]; then
        if [ "$ALLOW_DEADLOCKS" = 1 ]; then ok "pgbench ($layout): $line (ALLOW_DEADLOCKS=1)"
        else fail "pgbench ($layout): deadlocks: $line"; fi
        # What the server said, grouped, for the report.
        deadlock_report "$dl_before" >"$out/deadlocks.$layout.txt"
        sed 's/^/      /' "$out/deadlocks.$layout.txt"
    else
        ok "pgbench ($layout): $line"
    fi
}

# deadlock_report SKIP: the deadlocks of the server log after the first
# SKIP, grouped by what the two sides were running (numbers as N) and which
# relation's row the victim was waiting for, with one example each.  The
# victim's statement is its STATEMENT line; the other side's comes from the
# "Process N: query" lines of the DETAIL, present only when the error was
# not raised through the extension's Rust code (which loses them).
deadlock_report() {
    awk -v skip="$1" '
        function flush() {
            if (rec == "") return
            n++; txt[n] = rec; pid[n] = ""
            if (match(rec, /\[[0-9]+\]/)) pid[n] = substr(rec, RSTART + 1, RLENGTH - 2)
            rec = ""
        }
        # first record of process p in [from, to] whose text matches re: its match
        function find(p, from, to, re,   j) {
            if (from < 1) from = 1
            for (j = from; j <= to && j <= n; j++)
                if (pid[j] == p && match(txt[j], re)) return substr(txt[j], RSTART, RLENGTH)
            return ""
        }
        # last such record in [from, to]
        function rfind(p, from, to, re,   j) {
            if (from < 1) from = 1
            for (j = (to > n ? n : to); j >= from; j--)
                if (pid[j] == p && match(txt[j], re)) { hit = j; return substr(txt[j], RSTART, RLENGTH) }
            return ""
        }
        function clean(t) { sub(/^ STATEMENT: +/, "", t); sub(/^Process [0-9]+: /, "", t); sub(/^.* in relation /, "", t); return t }
        /^[0-9][0-9][0-9][0-9]-/ { flush(); rec = $0; next }
        { rec = rec " " $0 }
        END {
            flush()
            locking = "while [a-z]+ tuple [(][0-9]+,[0-9]+[)] in relation \"[^\"]*\""
            for (i = 1; i <= n; i++) {
                if (txt[i] !~ / ERROR: +deadlock detected/) continue
                if (++dl <= skip) continue
                v = pid[i]
                detail = find(v, i + 1, i + 8, "DETAIL: .*")
                o = ""
                if (match(detail, /blocked by process [0-9]+/)) o = substr(detail, RSTART + 19, RLENGTH - 19)
                # the victim: its STATEMENT follows the error; the row it waited
                # for is in the CONTEXT of its lock-wait LOG just before it
                vs = clean(find(v, i + 1, i + 8, " STATEMENT: +.*"))
                if (vs == "") vs = clean(rfind(v, i - 8, i - 1, " STATEMENT: +.*"))
                vr = clean(rfind(v, i - 6, i + 4, locking))
                # the other side: named in the DETAIL, or its own lock-wait LOG nearby
                os = ""
                if (match(detail, "Process " o ": [^\t]*")) os = clean(substr(detail, RSTART, RLENGTH))
                ex = "victim (waiting for a row of " (vr == "" ? "?" : vr) "): " (vs == "" ? "?" : vs) \
                     "  <->  other process: " (os == "" ? "(its query is not in the log)" : os)
                shape = ex; gsub(/[0-9]+/, "N", shape)
                count[shape]++; if (!(shape in example)) example[shape] = ex
            }
            for (s in count) printf "%5d x %s\n        e.g. %s\n", count[s], substr(s, 1, 300), substr(example[s], 1, 300)
        }
    ' "$log" | head -n 20
}

# bulk DB: the committed bulk rescoring of every customer (timed).
bulk() {
    local db=$1 layout=$2 t0 h0 h1 expected line
    h0=$(q "$db" "SELECT count(*) FROM credit.score_history")
    expected=$(q "$db" "SELECT count(*) FROM loans l JOIN customers c ON c.id = l.customer_id
                        WHERE c.monthly_income IS DISTINCT FROM c.monthly_income * 0.9")
    t0=$(now)
    q "$db" "UPDATE customers SET monthly_income = monthly_income * 0.9" >/dev/null
    bulk_seconds=$(elapsed "$t0")
    h1=$(q "$db" "SELECT count(*) FROM credit.score_history")
    line="UPDATE of all $CUSTOMERS customers' income rescored $((h1 - h0)) loans in $bulk_seconds s"
    addfig "$layout: bulk rescoring" "$line"
    if [ $((h1 - h0)) -eq "$expected" ]; then ok "bulk rescoring ($layout): $line"
    else fail "bulk rescoring ($layout): $((h1 - h0)) history rows for $expected rescored loans"; fi
}

# fault DB LAYOUT KIND: a fault in the middle of a bulk rescoring; KIND is
# terminate (pg_terminate_backend), kill_backend (kill -9 of the backend;
# the postmaster resets every backend and recovers) or kill_postmaster
# (kill -9 of the postmaster, then of its remaining children; restart).
fault() {
    local db=$1 layout=$2 kind=$3 before after pid="" bg rc=0 delay i state t0 children pm recovered
    before=$(snapshot "$db")
    delay=$(awk -v s="$bulk_seconds" 'BEGIN { d = s * 0.4; if (d < 0.05) d = 0.05; printf "%.2f", d }')
    "$PG_BINDIR/psql" -X -d "$db" -v ON_ERROR_STOP=1 \
        -c "SET application_name = 'reliability_bulk'" \
        -c "UPDATE customers SET monthly_income = monthly_income * 0.9" >"$out/fault.$layout.$kind.log" 2>&1 &
    bg=$!
    for i in $(seq 1 200); do
        pid=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE application_name = 'reliability_bulk'
                        AND state = 'active' AND query LIKE 'UPDATE customers%'" 2>/dev/null || true)
        [ -n "$pid" ] && break
        sleep 0.05
    done
    if [ -z "$pid" ]; then
        wait "$bg" || true
        fail "$kind ($layout): the bulk UPDATE was never seen running"
        return
    fi
    sleep "$delay"
    state=$(q "$db" "SELECT state FROM pg_stat_activity WHERE pid = $pid" || true)
    if [ "$state" != active ]; then
        wait "$bg" || true
        fail "$kind ($layout): the bulk UPDATE finished before the fault (${delay} s); nothing was tested"
        return
    fi
    t0=$(now)
    case $kind in
        terminate)
            q "$db" "SELECT pg_terminate_backend($pid)" >/dev/null
            ;;
        kill_backend)
            echo "$pid" >>"$out/killed"
            pgrun kill -9 "$pid"
            ;;
        kill_postmaster)
            pm=$(pgrun head -n 1 "$data/postmaster.pid")
            children=$(ps -o pid= --ppid "$pm" | tr -s ' \n' ' ')
            printf '%s\n' "$pm" $children >>"$out/killed"
            pgrun kill -9 "$pm"
            # An orphaned backend would run its statement to the end (it
            # only notices the postmaster's death when it next waits): kill
            # what is left, as a machine crash would.
            # shellcheck disable=SC2086
            pgrun kill -9 $children 2>/dev/null || true
            for i in $(seq 1 100); do
                # shellcheck disable=SC2086
                ps -o pid= -p "$pm" $(printf ' -p %s' $children) >/dev/null 2>&1 || break
                sleep 0.1
            done
            start_server
            ;;
    esac
    wait "$bg" || rc=$?
    server_up
    recovered=$(elapsed "$t0")
    count faults 1
    if [ "$rc" -eq 0 ]; then
        fail "$kind ($layout): the interrupted UPDATE reported success"
    fi
    after=$(snapshot "$db")
    if [ "$before" = "$after" ]; then
        ok "$kind ($layout) after ${delay} s of bulk rescoring (backend $pid): rolled back as a whole (incomes, history, alerts, scored_at unchanged); server back in $recovered s"
    else
        fail "$kind ($layout): state changed by the interrupted statement: before [$before] after [$after]"
    fi
    addfig "$layout: $kind" "after ${delay} s of ${bulk_seconds} s; server back in $recovered s; client saw: $(tr '\n' ' ' <"$out/fault.$layout.$kind.log" | cut -c1-110)"
    check "$db" "invariants after $kind"
}

# One layout: load, baseline, pgbench, bulk, faults, a write after recovery.
layout_suite() {
    local layout=$1 db=rel_$1 t0
    say "$layout: portfolio of $CUSTOMERS customers"
    t0=$(now)
    new_db "$db"
    load_portfolio "$db" "$layout"
    local line
    line="$(q "$db" "SELECT count(*) FROM customers") customers, $(q "$db" "SELECT count(*) FROM loans") loans loaded and scored in $(elapsed "$t0") s"
    addfig "$layout: portfolio" "$line"
    ok "$line"
    check "$db" "invariants after enable_scoring"

    say "$layout: concurrency"
    run_pgbench "$db" "$layout"
    check "$db" "invariants after pgbench"

    say "$layout: bulk rescoring, then faults in the middle of it"
    bulk "$db" "$layout"
    check "$db" "invariants after the bulk rescoring"
    for kind in terminate kill_backend kill_postmaster; do
        fault "$db" "$layout" "$kind"
    done

    # Scoring works after recovery: one customer's income cut, one new loan.
    local h0 h1 n
    h0=$(q "$db" "SELECT count(*) FROM credit.score_history")
    n=$(q "$db" "SELECT count(*) FROM loans WHERE customer_id = 7")
    q "$db" "UPDATE customers SET monthly_income = 100000 WHERE id = 7" >/dev/null
    q "$db" "INSERT INTO loans (customer_id, principal_amount, tenor_months) VALUES (7, 5000000, 24)" >/dev/null
    h1=$(q "$db" "SELECT count(*) FROM credit.score_history")
    if [ $((h1 - h0)) -eq $((n + 1)) ]; then ok "after recovery: an income change rescored $n loans, a new loan was scored"
    else fail "after recovery: $((h1 - h0)) history rows for $n rescored loans + 1 new loan"; fi
    check "$db" "invariants after recovery"

    if amcheck_out=$("$PG_BINDIR/pg_amcheck" -d "$db" --install-missing --heapallindexed 2>&1); then
        ok "pg_amcheck --heapallindexed: no corruption"
    else
        fail "pg_amcheck: $(head -c 400 <<<"$amcheck_out")"
    fi
}

# ---------------------------------------------------------------- dump/restore
fingerprint() {   # what must survive a dump and restore, as md5s
    psql_ -d "$1" -At <<'SQL'
SELECT 'score_history', count(*) || ' rows ' || md5(string_agg(h::text, E'\n' ORDER BY h.id)) FROM credit.score_history h
UNION ALL SELECT 'score_alerts', count(*) || ' rows ' || md5(string_agg(a::text, E'\n' ORDER BY a.id)) FROM credit.score_alerts a
-- (the reference scorecard is installed by CREATE EXTENSION, not restored:
-- its timestamps are those of the restore)
UNION ALL SELECT 'scorecards', count(*) || ' rows ' || md5(string_agg(CASE WHEN s.name = 'reference' THEN format('%s %s', s.name, s.definition) ELSE format('%s %s %s %s %s', s.name, s.definition, s.description, s.created_at, s.first_used_at) END, E'\n' ORDER BY s.name)) FROM credit.scorecards s
UNION ALL SELECT 'scored_tables', count(*) || ' rows ' || md5(string_agg(format('%s %s %s %s %s %s %s %s %s %s', t.relid::regclass::text, t.table_name, t.key_column, t.income_column, t.assets_column, t.amount_column, t.tenor_column, t.customers::text, t.scorecard, t.enabled_at), E'\n' ORDER BY t.table_name)) FROM credit.scored_tables t
UNION ALL SELECT 'loans', count(*) || ' rows ' || md5(string_agg(l::text, E'\n' ORDER BY l.id)) FROM loans l
UNION ALL SELECT 'customers', count(*) || ' rows ' || md5(string_agg(c::text, E'\n' ORDER BY c.id)) FROM customers c
UNION ALL SELECT 'applications', count(*) || ' rows ' || md5(string_agg(a::text, E'\n' ORDER BY a.id)) FROM applications a
UNION ALL SELECT 'part_loans', count(*) || ' rows ' || md5(string_agg(l::text, E'\n' ORDER BY l.id)) FROM part_loans l
UNION ALL SELECT 'constraints', count(*) || ' ' || md5(string_agg(format('%s %s', c.conrelid::regclass, c.conname), ' ' ORDER BY c.conrelid::regclass::text, c.conname))
          FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace
UNION ALL SELECT 'triggers', count(*) || ' ' || string_agg(format('%s:%s:%s:%s', t.tgrelid::regclass, regexp_replace(t.tgname, '[0-9]+$', 'OID'), t.tgenabled, t.tgfoid::regproc), ' ' ORDER BY t.tgrelid::regclass::text, t.tgname)
          FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgname LIKE 'credit_scoring%'
UNION ALL SELECT 'sequences', string_agg(format('%s=%s', s.schemaname || '.' || s.sequencename, s.last_value), ' ' ORDER BY s.sequencename)
          FROM pg_sequences s WHERE s.schemaname = 'credit'
ORDER BY 1;
SQL
}

dump_suite() {
    local src=rel_plain dst=rel_restored t0 n h0 h1 line
    say "dump/restore: pg_dump -Fc $src, pg_restore -j 4 -d $dst"
    q "$src" "SELECT 1" >/dev/null 2>&1 || { fail "dump/restore needs the plain phase (PHASES)"; return; }
    # A custom scorecard, in use by a second (layout 1) scored table, with
    # history, alerts and an acknowledged alert of its own.
    psql_ -d "$src" >/dev/null <<'SQL'
SET client_min_messages = warning;
INSERT INTO credit.scorecards (name, definition, description)
SELECT 'reliability_tight', jsonb_set(definition, '{decision,decline_dsr_above}', '0.55'), 'Decline above 55 % DSR'
FROM credit.scorecards WHERE name = 'reference';
CREATE TABLE applications (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    monthly_income numeric, assets_value numeric, loan_amount numeric, tenor_months integer);
SELECT credit.enable_scoring('applications', scorecard => 'reliability_tight');
INSERT INTO applications (monthly_income, assets_value, loan_amount, tenor_months)
SELECT 1000000 + 37 * i % 9000000, 500000 * (i % 40), 1000000 + 100000 * (i % 90), 6 * (1 + i % 10)
FROM generate_series(1, 2000) i;
UPDATE applications SET monthly_income = monthly_income / 4 WHERE id % 3 = 0;
INSERT INTO applications (monthly_income, assets_value, loan_amount, tenor_months) VALUES (1000, 0, NULL, 12);
SELECT credit.acknowledge_alert(min(id), 'seen by the reliability suite') FROM credit.score_alerts;
-- Layout 2 on a partitioned customers table (its partitions carry the
-- rescoring triggers) and partitioned loans: what a parallel restore must
-- recreate table by table, alongside the constraints of the partitions.
CREATE TABLE part_customers (id integer PRIMARY KEY, monthly_income numeric, assets_value numeric)
    PARTITION BY RANGE (id);
CREATE TABLE part_customers_1 PARTITION OF part_customers FOR VALUES FROM (0) TO (100);
CREATE TABLE part_customers_2 PARTITION OF part_customers FOR VALUES FROM (100) TO (200);
CREATE TABLE part_customers_3 PARTITION OF part_customers FOR VALUES FROM (200) TO (300);
CREATE TABLE part_loans (id integer, customer_id integer REFERENCES part_customers,
                         principal_amount numeric, tenor_months integer, PRIMARY KEY (customer_id, id))
    PARTITION BY RANGE (customer_id);
CREATE TABLE part_loans_1 PARTITION OF part_loans FOR VALUES FROM (0) TO (150);
CREATE TABLE part_loans_2 PARTITION OF part_loans FOR VALUES FROM (150) TO (300);
INSERT INTO part_customers SELECT i, 200000 * i, 1000000 * (i % 7) FROM generate_series(1, 299) i;
INSERT INTO part_loans SELECT i, i, 3000000 + 10000 * i, 12 FROM generate_series(1, 299) i;
SELECT credit.enable_scoring('part_loans', amount => 'principal_amount', customers => 'part_customers', key => 'id');
UPDATE part_customers_2 SET monthly_income = monthly_income / 2;
SQL
    fingerprint "$src" >"$out/fingerprint.src"
    q postgres "DROP DATABASE IF EXISTS $dst"
    q postgres "CREATE DATABASE $dst TEMPLATE template0"
    q postgres "ALTER DATABASE $dst SET credit_scoring.alert_window = '0'"
    q postgres "ALTER DATABASE $dst SET credit_scoring.alert_drop_points = $DROP_POINTS"
    t0=$(now)
    # No --exit-on-error: every error of the restore is reported, and the
    # checks below still say what the restored database can do.
    local dump_rc restore_rc st
    set +e
    # (parallel, -j 4: restore workers create the tables' constraints and
    # triggers side by side while the event triggers are live)
    "$PG_BINDIR/pg_dump" -Fc -d "$src" -f "$out/dump.custom" 2>"$out/pg_dump.err"
    dump_rc=$?
    "$PG_BINDIR/pg_restore" -j 4 -d "$dst" "$out/dump.custom" 2>"$out/pg_restore.err"
    restore_rc=$?
    set -e
    addfig "dump/restore" "pg_dump -Fc, pg_restore -j 4 in $(elapsed "$t0") s (pg_dump status $dump_rc, pg_restore status $restore_rc, $(grep -c 'error:' "$out/pg_restore.err" || true) restore errors)"
    addfig "dump/restore data" "$(grep -E '^(score_history|score_alerts|scorecards|scored_tables)[|]' "$out/fingerprint.src" | sed 's/ rows .*/ rows/; s/|/ /' | paste -sd, - | sed 's/,/, /g')"
    if [ "$dump_rc" -ne 0 ] || [ "$restore_rc" -ne 0 ] || [ -s "$out/pg_dump.err" ] || grep -q 'error:' "$out/pg_restore.err"; then
        fail "pg_dump -Fc, pg_restore -j 4: pg_dump status $dump_rc, pg_restore status $restore_rc:"
        cat "$out/pg_dump.err" "$out/pg_restore.err" | grep -E 'error|Command was' | cut -c1-250 | sed 's/^/      /' | head -n 20
    else
        ok "pg_dump -Fc, pg_restore -j 4: no errors"
    fi
    fingerprint "$dst" >"$out/fingerprint.dst"
    if diff "$out/fingerprint.src" "$out/fingerprint.dst" >"$out/fingerprint.diff"; then
        ok "restored database: identical history, alerts, scorecards, scored_tables, loans, customers, applications, part_loans, constraints, triggers, sequences"
        sed 's/^/      /' "$out/fingerprint.dst" | cut -c1-150
    else
        fail "restored database differs: $(cat "$out/fingerprint.diff")"
    fi
    check "$dst" "invariants of the restored database"

    # The triggers work after the restore: an income change rescored and
    # historied, a new loan and a new application scored (the latter with
    # the custom scorecard, recorded in the history).
    h0=$(q "$dst" "SELECT count(*) FROM credit.score_history")
    n=$(q "$dst" "SELECT count(*) FROM loans WHERE customer_id = 11")
    psql_ -d "$dst" >/dev/null <<'SQL'
UPDATE customers SET monthly_income = 100000 WHERE id = 11;
INSERT INTO loans (customer_id, principal_amount, tenor_months) VALUES (11, 5000000, 24);
INSERT INTO applications (monthly_income, assets_value, loan_amount, tenor_months) VALUES (5000000, 20000000, 10000000, 12);
SQL
    h1=$(q "$dst" "SELECT count(*) FROM credit.score_history")
    line=$(q "$dst" "SELECT h.scorecard || ' ' || h.credit_score || ' ' || h.decision FROM credit.score_history h
                     WHERE h.table_name = 'public.applications' ORDER BY h.id DESC LIMIT 1")
    if [ $((h1 - h0)) -eq $((n + 2)) ] && [ "$line" = "reliability_tight 600 approve" ]; then
        ok "writes after the restore are scored and historied ($n rescored loans, 1 new loan, 1 application: $line)"
    else
        fail "writes after the restore: $((h1 - h0)) history rows (expected $((n + 2))); last application: $line"
    fi
    n=$(q "$dst" "SELECT count(*) FROM credit.verify('applications')")
    [ "$n" = 0 ] && ok "credit.verify('applications') empty after the restore" \
        || fail "credit.verify('applications'): $n rows after the restore"
    check "$dst" "invariants after writes to the restored database"

    # Reconfiguring after the restore (enable_scoring is idempotent) must
    # leave one rescoring trigger per event (UPDATE, INSERT, DELETE) on
    # customers, and an income change must
    # rescore each loan once; disable_scoring must remove them all.
    q "$dst" "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers')" >/dev/null
    n=$(q "$dst" "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND tgname LIKE 'credit_scoring%'")
    h0=$(q "$dst" "SELECT count(*) FROM credit.score_history")
    local nl
    nl=$(q "$dst" "SELECT count(*) FROM loans WHERE customer_id = 12")
    q "$dst" "UPDATE customers SET monthly_income = monthly_income + 1000 WHERE id = 12" >/dev/null
    h1=$(q "$dst" "SELECT count(*) FROM credit.score_history")
    if [ "$n" = 3 ] && [ $((h1 - h0)) -eq "$nl" ]; then
        ok "enable_scoring again after the restore: 3 rescoring triggers on customers (update, insert, delete), $nl loans rescored once each"
    else
        fail "enable_scoring again after the restore: $n credit_scoring triggers on customers ($(q "$dst" "SELECT string_agg(tgname, ', ') FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND tgname LIKE 'credit_scoring%'")); an income change wrote $((h1 - h0)) history rows for $nl loans"
    fi
    check "$dst" "invariants after enable_scoring again"
    q "$dst" "SELECT credit.disable_scoring('loans')" >/dev/null
    n=$(q "$dst" "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('customers'::regclass, 'loans'::regclass) AND tgname LIKE 'credit_scoring%' AND tgparentid = 0")
    [ "$n" = 0 ] && ok "disable_scoring after the restore leaves no credit_scoring trigger on customers or loans" \
        || fail "disable_scoring after the restore left $n trigger(s): $(q "$dst" "SELECT string_agg(tgrelid::regclass || '.' || tgname, ', ') FROM pg_trigger WHERE tgrelid IN ('customers'::regclass, 'loans'::regclass) AND tgname LIKE 'credit_scoring%'")"
}

# ---------------------------------------------------------------- hostile input
hostile_suite() {
    local db=rel_hostile k v bad=() line
    say "hostile input"
    new_db "$db"
    declare -A r=()
    if ! psql_ -d "$db" -f "$here/hostile.sql" >"$out/hostile.out" 2>&1; then
        fail "hostile.sql did not run to the end (a crashed backend?): $(tail -n 5 "$out/hostile.out")"
        return
    fi
    while IFS='|' read -r k v; do [ -n "$v" ] && r[$k]=$v; done < <(grep -E '^[a-z_0-9]+\|[0-9]+$' "$out/hostile.out")
    for k in "${!r[@]}"; do
        case $k in *violations|flagged_without_alert) [ "${r[$k]}" = 0 ] || bad+=("$k=${r[$k]}") ;; esac
    done
    count hostile_calls $(( ${r[function_calls]:-0} + ${r[trigger_writes]:-0} ))
    line="${r[function_calls]:-?} function calls (${r[function_calls_ok]:-?} scored, ${r[function_calls_22023]:-?} x 22023, ${r[function_calls_22003]:-?} x 22003), ${r[trigger_writes]:-?} writes through the triggers (${r[trigger_writes_rejected]:-?} rejected in reject mode), ${r[scored_rows]:-?} rows in scored tables (${r[scored_rows_flagged]:-?} flagged with an invalid_input alert)"
    addfig "hostile input" "$line"
    if [ ${#bad[@]} -eq 0 ] && [ -n "${r[function_calls]:-}" ]; then
        ok "$line"
    else
        fail "hostile input: ${bad[*]:-no figures} ($line)"
        sed -n '/^ *kind *|/,$p' "$out/hostile.out" | sed 's/^/      /' | head -n 45
    fi
    if q "$db" "SELECT 1" >/dev/null 2>&1; then ok "the server is up after the hostile input"
    else fail "the server is not answering after the hostile input"; fi
}

# ---------------------------------------------------------------- run
bulk_seconds=1
for phase in $PHASES; do
    case $phase in plain|partitioned|dump|hostile) ;; *) echo "run.sh: unknown phase $phase" >&2; exit 2 ;; esac
done
for phase in $PHASES; do
    rc=0
    # In the background and waited for, so that set -e holds inside (it is
    # off in a subshell that is part of an || list).
    case $phase in
        plain|partitioned) (layout_suite "$phase") & ;;
        dump) (dump_suite) & ;;
        hostile) (hostile_suite) & ;;
    esac
    wait $! || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "phase $phase aborted (status $rc) after an unexpected error (see above)"
        server_up || true
    fi
done

# ---------------------------------------------------------------- the server log
say "server log"
signals=$(grep -E 'terminated by signal' "$log" || true)
unexpected=""
while IFS= read -r l; do
    [ -z "$l" ] && continue
    p=$(sed -n 's/.*(PID \([0-9]*\)).*/\1/p' <<<"$l")
    expected=false
    grep -qx "$p" "$out/killed" && expected=true
    $expected || unexpected+="$l"$'\n'
done <<<"$signals"
n_sig=$(grep -c 'terminated by signal' "$log" || true)
if [ -z "$unexpected" ]; then ok "no backend terminated by a signal other than the $n_sig we sent"
else fail "backends terminated by a signal: $unexpected"; fi
n=$(grep -cE ' XX000 ' "$log" || true)
[ "$n" = 0 ] && ok "no internal error (SQLSTATE XX000) in the server log" \
    || fail "$n internal errors (XX000) in the server log: $(grep -E ' XX000 ' "$log" | head -n 5)"
n=$(grep -cE '\] [0-9A-Z]{5} [a-z_]* ?PANIC:' "$log" || true)
[ "$n" = 0 ] && ok "no PANIC in the server log" || fail "$n PANICs in the server log"
n=$(grep -c 'database system was interrupted' "$log" || true)
ok "crash recoveries in the server log: $n"
if q postgres "SELECT 1" >/dev/null 2>&1; then ok "the server is up at the end"; else fail "the server is down at the end"; fi
if [ "$(installed)" = "$installed_at_start" ]; then
    ok "the installed extension did not change during the run"
else
    fail "the installed extension changed during the run (results mix builds; a library overwritten while loaded can crash backends): now $(installed | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- figures
say "figures"
printf '  %-28s %s\n' "runtime" "$(elapsed "$t_start") s"
printf '  %-28s %s\n' "portfolio" "$CUSTOMERS customers per layout"
printf '  %-28s %s\n' "pgbench" "$CLIENTS clients x $DURATION s per layout, $(total pgbench_txns) transactions in all, $(total pgbench_retried) retried, $(total pgbench_deadlocks) deadlocks"
printf '  %-28s %s\n' "faults injected" "$(total faults) (mid-rescoring: pg_terminate_backend, kill -9 of the backend, kill -9 of the postmaster; for each layout)"
printf '  %-28s %s\n' "loan rows verified" "$(total rows_verified) (summed over every invariant check)"
printf '  %-28s %s\n' "history rows verified" "$(total history_verified)"
printf '  %-28s %s\n' "hostile calls and writes" "$(total hostile_calls)"
while IFS= read -r f; do printf '  %-28s %s\n' "${f%%|*}" "${f#*|}"; done <"$out/figs"

echo
if [ ! -s "$out/violations" ]; then
    printf '\033[32mreliability: all invariants hold\033[0m\n'
    exit 0
fi
printf '\033[31mreliability: %d violation(s)\033[0m\n' "$(wc -l <"$out/violations")"
sed 's/^/  - /' "$out/violations"
exit 1
