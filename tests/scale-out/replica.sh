#!/usr/bin/env bash
#
# Read replica (issue 10 item 2, SPEC §10): the BI views answer on a
# streaming standby with the primary's scores, history and alerts; nothing is
# computed there.  Brings up its own two throwaway clusters (never touches a
# running one), exits non-zero when a check fails.
#
# usage: tests/scale-out/replica.sh          (as root or as an ordinary user with sudo)
#
#   1. primary: initdb (as OS user postgres) in a fresh directory under
#      /var/tmp, wal_level = replica, Unix socket only in its own directory;
#      CREATE EXTENSION credit_scoring; the demo portfolio
#      (demo/portfolio.sql, CUSTOMERS customers) scored in the customers +
#      loans layout (credit.enable_scoring('loans', amount =>
#      'principal_amount', customers => 'customers')); a read-only BI role;
#   2. standby: pg_basebackup -R from the primary, started on its own port
#      (hot_standby), streaming;
#   3. a burst of writes on the primary: a month of income changes, new
#      loans, a loan that cannot be scored, deleted loans, then pgbench
#      (CLIENTS clients, DURATION s: income changes and new loans);
#   4. waits until the standby has replayed the primary's current WAL
#      position (pg_current_wal_lsn() vs pg_last_wal_replay_lsn());
#   5. checks: the five §4 views (current_scores, portfolio_summary,
#      segment_migration, decision_summary, open_alerts without the
#      now()-dependent age_hours), in a deterministic order, give identical
#      output on both (read on the standby as the BI role); so do the counts
#      of history and alerts and credit.verify('loans') (empty); the BI role
#      can read the views on the standby but not public.loans,
#      public.customers or credit.score_history; writes on the standby fail
#      as read-only (SQLSTATE 25006), scoring DDL too.
#
# Environment:
#   CUSTOMERS=500      customers in the demo portfolio (about 2 loans each)
#   CLIENTS=2          pgbench clients of the burst
#   DURATION=5         pgbench seconds
#   PORT=55440         primary's port (Unix socket only)
#   STANDBY_PORT=PORT+1
#   KEEP=0             1: leave both clusters running (and their directory)
#   PG_BINDIR          PostgreSQL binaries (default /usr/lib/postgresql/15/bin)
#   WORKDIR=/var/tmp   parent of the clusters' directory
#
# The extension must be installed in PG_BINDIR's installation
# (scripts/test.sh does that).  Exit status: 0 all checks passed, 1 a check
# failed, 2 could not run.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

CUSTOMERS=${CUSTOMERS:-500}
CLIENTS=${CLIENTS:-2}
DURATION=${DURATION:-5}
PORT=${PORT:-55440}
STANDBY_PORT=${STANDBY_PORT:-$((PORT + 1))}
KEEP=${KEEP:-0}
WORKDIR=${WORKDIR:-/var/tmp}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
DB=credit_replica
BI=credit_bi_replica

die() { echo "replica.sh: $*" >&2; exit 2; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '  ok    %s\n' "$*"; }
failures=0
bad() { printf '  \033[31mFAIL\033[0m  %s\n' "$*"; failures=$((failures + 1)); }

for b in initdb pg_ctl pg_basebackup psql pgbench; do
    [ -x "$PG_BINDIR/$b" ] || die "$PG_BINDIR/$b not found (set PG_BINDIR)"
done

# The servers run as OS user postgres (PostgreSQL refuses root); the client
# side (psql, pgbench) runs as the caller, over the clusters' own sockets.
if [ "$(id -un)" = postgres ]; then
    as_pg=()
elif [ "$(id -u)" = 0 ]; then
    as_pg=(runuser -u postgres --)
else
    command -v sudo >/dev/null 2>&1 || die "run as root, as postgres, or as a user with sudo"
    as_pg=(sudo -n -u postgres --)
fi
pgrun() { "${as_pg[@]+"${as_pg[@]}"}" "$@"; }
getent passwd postgres >/dev/null || die "no OS user postgres (install postgresql-15)"

port_free() {
    ! "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$1" >/dev/null 2>&1 \
        && ! { command -v ss >/dev/null 2>&1 && ss -Hltn "sport = :$1" | grep -q .; }
}
port_free "$PORT" || die "port $PORT is in use (set PORT)"
port_free "$STANDBY_PORT" || die "port $STANDBY_PORT is in use (set STANDBY_PORT)"

base=$(mktemp -d "$WORKDIR/credit_replica.XXXXXX")
chmod 1777 "$base"           # the postgres user writes its clusters and sockets here
primary=$base/primary
standby=$base/standby
sock=$base/sock              # both clusters' sockets (distinct ports)
out=$base/out                # the caller's files: outputs compared
mkdir -p "$out"
pgrun mkdir -m 700 "$primary"
pgrun mkdir -m 755 "$sock"
pgrun touch "$base/primary.log" "$base/standby.log"

unset PGDATABASE PGPASSWORD PGSERVICE PGHOSTADDR 2>/dev/null || true
export PGHOST=$sock PGUSER=postgres PGOPTIONS='-c client_min_messages=warning'
psql_() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
on_primary() { psql_ -p "$PORT" -d "$DB" "$@"; }
on_standby() { psql_ -p "$STANDBY_PORT" -d "$DB" "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT
    if [ "$KEEP" = 1 ]; then
        echo
        echo "KEEP=1: left running:"
        echo "  primary  psql -h $sock -p $PORT -U postgres $DB     (data $primary, log $base/primary.log)"
        echo "  standby  psql -h $sock -p $STANDBY_PORT -U postgres $DB     (data $standby, log $base/standby.log)"
        echo "  stop:    ${as_pg[*]} $PG_BINDIR/pg_ctl -D $standby stop; ${as_pg[*]} $PG_BINDIR/pg_ctl -D $primary stop; rm -rf $base"
    else
        [ -f "$standby/postmaster.pid" ] && pgrun "$PG_BINDIR/pg_ctl" -D "$standby" stop -m fast >/dev/null 2>&1
        [ -f "$primary/postmaster.pid" ] && pgrun "$PG_BINDIR/pg_ctl" -D "$primary" stop -m fast >/dev/null 2>&1
        if [ "$rc" -ne 0 ]; then
            local keep="$base.failed"
            mkdir -p "$keep" && cp -r "$out" "$keep/" 2>/dev/null
            cp "$base/primary.log" "$base/standby.log" "$keep/" 2>/dev/null
            echo "replica.sh: logs and outputs kept in $keep"
        fi
        pgrun rm -rf "$primary" "$standby" "$sock" "$base/primary.log" "$base/standby.log" 2>/dev/null
        rm -rf "$base"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() {  # start DATADIR PORT LOG (as a service runs it: no RUST_BACKTRACE)
    pgrun env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE "$PG_BINDIR/pg_ctl" -D "$1" -l "$3" -w -t 120 start \
        -o "-c port=$2 -c listen_addresses='' -c unix_socket_directories='$sock'" >>"$out/pg_ctl.log" 2>&1 \
        || { tail -n 30 "$3" >&2; die "the cluster in $1 did not start"; }
}

# ------------------------------------------------------------------ primary
say "primary: $primary, port $PORT ($("$PG_BINDIR/postgres" --version))"
pgrun "$PG_BINDIR/initdb" -D "$primary" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$out/initdb.log" 2>&1 || { cat "$out/initdb.log" >&2; die "initdb failed"; }
pgrun sh -c "cat >> '$primary/postgresql.conf'" <<EOF
# tests/scale-out/replica.sh
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_buffers = 64MB
max_connections = 30
log_min_messages = warning
log_line_prefix = '%m [%p] %e %d '
EOF
# initdb --auth=trust already lets local connections replicate.
start "$primary" "$PORT" "$base/primary.log"

psql_ -p "$PORT" -d postgres -At -c "SELECT 1 FROM pg_available_extensions WHERE name = 'credit_scoring'" | grep -qx 1 \
    || die "credit_scoring is not installed in $PG_BINDIR's PostgreSQL (scripts/test.sh installs it)"
psql_ -p "$PORT" -d postgres -c "CREATE DATABASE $DB"
on_primary -c "CREATE EXTENSION credit_scoring"
on_primary -v customers="$CUSTOMERS" -f "$repo/demo/portfolio.sql"
on_primary -c "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers')" >/dev/null
# The BI role (README "Pointing Metabase at it"): the views and nothing else.
on_primary <<SQL
CREATE ROLE $BI LOGIN;
GRANT USAGE ON SCHEMA credit TO $BI;
GRANT SELECT ON credit.current_scores, credit.portfolio_summary, credit.segment_migration,
                credit.decision_summary, credit.open_alerts TO $BI;
CREATE SEQUENCE replica_loan_ids START 1000000;
SQL
echo "  $(on_primary -At -c "SELECT count(*) || ' customers, ' || (SELECT count(*) FROM loans) || ' loans scored' FROM customers")"

# ------------------------------------------------------------------ standby
say "standby: pg_basebackup -R into $standby, port $STANDBY_PORT"
pgrun "$PG_BINDIR/pg_basebackup" -h "$sock" -p "$PORT" -U postgres -D "$standby" -R -X stream -c fast \
    >"$out/basebackup.log" 2>&1 || { cat "$out/basebackup.log" >&2; die "pg_basebackup failed"; }
start "$standby" "$STANDBY_PORT" "$base/standby.log"
for i in $(seq 1 300); do
    [ "$(on_standby -At -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] && break
    sleep 0.2
done
[ "$(on_standby -At -c 'SELECT pg_is_in_recovery()')" = t ] || die "the standby is not in recovery"
sender=$(on_primary -At -c "SELECT state FROM pg_stat_replication LIMIT 1")
[ "$sender" = streaming ] && ok "standby in recovery, primary's WAL sender streaming" \
    || { for i in $(seq 1 50); do sleep 0.2; sender=$(on_primary -At -c "SELECT state FROM pg_stat_replication LIMIT 1"); [ "$sender" = streaming ] && break; done
         [ "$sender" = streaming ] && ok "standby in recovery, primary's WAL sender streaming" || bad "replication state: '$sender'"; }

# ------------------------------------------------------------------ burst
say "a burst of writes on the primary"
on_primary <<'SQL'
-- A month passes: one customer in ten loses income, a few gain (demo.sh).
UPDATE customers SET monthly_income = round(monthly_income * (0.4 + (id % 5) * 0.1), -3) WHERE id % 10 = 3;
UPDATE customers SET monthly_income = round(monthly_income * 1.25, -3) WHERE id % 25 = 7;
-- New loans for existing customers, one of them unscorable (tenor 0:
-- written, left unscored, an invalid_input alert says why).
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
SELECT nextval('replica_loan_ids'), c.id, c.monthly_income * 6, 24 FROM customers c WHERE c.id % 20 = 1;
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
VALUES (nextval('replica_loan_ids'), 2, 10000000, 0);
-- Tenor changes and a few loans repaid (they leave the current views).
UPDATE loans SET tenor_months = tenor_months + 12 WHERE id % 17 = 5 AND tenor_months > 0;
DELETE FROM loans WHERE id % 97 = 11;
SQL
cat >"$out/income.sql" <<EOF
\set cid random(1, $CUSTOMERS)
UPDATE customers SET monthly_income = round(monthly_income * (0.6 + 0.7 * random())::numeric, -3) WHERE id = :cid;
EOF
cat >"$out/new_loan.sql" <<EOF
\set cid random(1, $CUSTOMERS)
\set tenor random(1, 5) * 12
INSERT INTO loans (id, customer_id, principal_amount, tenor_months)
SELECT nextval('replica_loan_ids'), :cid, round(monthly_income * (1 + 10 * random())::numeric, -5), :tenor
FROM customers WHERE id = :cid;
EOF
"$PG_BINDIR/pgbench" -n -p "$PORT" -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" \
    -f "$out/income.sql@3" -f "$out/new_loan.sql@1" "$DB" >"$out/pgbench.log" 2>&1 \
    || { cat "$out/pgbench.log" >&2; bad "pgbench failed"; }
grep -E '^(number of transactions actually processed|number of failed|tps)' "$out/pgbench.log" | sed 's/^/  pgbench: /'
on_primary -At -c "SELECT '  primary: ' || (SELECT count(*) FROM loans) || ' loans, ' ||
                          (SELECT count(*) FROM credit.score_history) || ' history rows, ' ||
                          (SELECT count(*) FROM credit.score_alerts) || ' alerts (' ||
                          (SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind)
                           FROM (SELECT kind, count(*) n FROM credit.score_alerts GROUP BY kind) k) || ')'"

# ------------------------------------------------------------------ replay
say "waiting for the standby to replay the primary's WAL"
target=$(on_primary -At -c "SELECT pg_current_wal_lsn()")
t0=$(date +%s.%N)
replayed=
for i in $(seq 1 600); do
    replayed=$(on_standby -At -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")
    [ "$replayed" = t ] && break
    sleep 0.1
done
if [ "$replayed" = t ]; then
    ok "standby replayed up to $target ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the burst)"
else
    bad "standby did not replay up to $target in 60 s (at $(on_standby -At -c 'SELECT pg_last_wal_replay_lsn()'))"
fi

# ------------------------------------------------------------------ views
say "the §4 views: primary (as postgres) vs standby (as $BI)"
# Deterministic order over every column shown; open_alerts without
# age_hours (now() - created_at differs from one moment to the next).
declare -A views=(
  [current_scores]="SELECT * FROM credit.current_scores ORDER BY table_name, row_key"
  [portfolio_summary]="SELECT * FROM credit.portfolio_summary ORDER BY table_name, segment"
  [segment_migration]="SELECT * FROM credit.segment_migration ORDER BY table_name, month, from_segment NULLS FIRST, to_segment NULLS FIRST"
  [decision_summary]="SELECT * FROM credit.decision_summary ORDER BY table_name, day"
  [open_alerts]="SELECT id, table_name, row_key, kind, old_score, new_score, score_drop, old_segment, new_segment, details, reason, created_at FROM credit.open_alerts ORDER BY id"
)
for v in current_scores portfolio_summary segment_migration decision_summary open_alerts; do
    on_primary -A -F '|' -P footer=off -c "${views[$v]}" >"$out/$v.primary" \
        || { bad "$v: query failed on the primary"; continue; }
    if ! psql_ -p "$STANDBY_PORT" -U "$BI" -d "$DB" -A -F '|' -P footer=off -c "${views[$v]}" \
            >"$out/$v.standby" 2>"$out/$v.standby.err"; then
        bad "$v: $BI cannot read it on the standby: $(cat "$out/$v.standby.err")"
        continue
    fi
    rows=$(($(wc -l <"$out/$v.primary") - 1))
    if [ "$rows" -lt 1 ]; then
        bad "$v: no rows on the primary (the burst should give every view rows)"
    elif diff -u "$out/$v.primary" "$out/$v.standby" >"$out/$v.diff"; then
        ok "$v: $rows rows, identical"
    else
        bad "$v differs (first lines of the diff below)"
        head -n 20 "$out/$v.diff"
    fi
done

say "underlying data and recomputation (as postgres)"
check_same() {  # check_same LABEL SQL
    local a b
    a=$(on_primary -At -c "$2") b=$(on_standby -At -c "$2")
    if [ "$a" = "$b" ]; then ok "$1: $a on both"; else bad "$1: primary $a, standby $b"; fi
}
check_same "history rows" "SELECT count(*) FROM credit.score_history"
check_same "alerts" "SELECT count(*) FROM credit.score_alerts"
check_same "loans, sum of scores" "SELECT count(*) || ' loans, ' || sum(credit_score) FROM loans"
check_same "credit.verify('loans') rows (stored vs recomputed)" "SELECT count(*) FROM credit.verify('loans')"
[ "$(on_primary -At -c "SELECT count(*) FROM credit.verify('loans')")" = 0 ] \
    && ok "credit.verify('loans') empty" || bad "credit.verify('loans') not empty on the primary"

# ------------------------------------------------------------------ BI role
say "the read-only BI role on the standby"
# expect_error LABEL SQLSTATE USER SQL: the statement fails on the standby with that SQLSTATE.
expect_error() {
    local got
    got=$(psql_ -p "$STANDBY_PORT" -U "$3" -d "$DB" -At -v VERBOSITY=sqlstate -c "$4" 2>&1 >/dev/null) && got=none
    got=$(printf '%s\n' "$got" | sed -n 's/^ERROR: *\([0-9A-Z]\{5\}\)$/\1/p' | head -n 1)
    if [ "$got" = "$2" ]; then ok "$1: refused ($2)"; else bad "$1: expected SQLSTATE $2, got '${got:-none}'"; fi
}
expect_error "$BI reads public.loans" 42501 "$BI" "SELECT count(*) FROM public.loans"
expect_error "$BI reads public.customers" 42501 "$BI" "SELECT count(*) FROM public.customers"
expect_error "$BI reads credit.score_history" 42501 "$BI" "SELECT count(*) FROM credit.score_history"
expect_error "$BI acknowledges an alert" 42501 "$BI" "SELECT credit.acknowledge_alert(1, 'x')"

say "writes on the standby fail (read-only)"
expect_error "UPDATE customers (superuser)" 25006 postgres "UPDATE customers SET monthly_income = 1 WHERE id = 1"
expect_error "INSERT INTO loans (superuser)" 25006 postgres \
    "INSERT INTO loans (id, customer_id, principal_amount, tenor_months) VALUES (999999999, 1, 1000000, 12)"
expect_error "credit.enable_scoring (superuser)" 25006 postgres \
    "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers')"
expect_error "credit.acknowledge_alert (superuser)" 25006 postgres "SELECT credit.acknowledge_alert(1, 'x')"
expect_error "INSERT INTO credit.score_alerts (superuser)" 25006 postgres \
    "INSERT INTO credit.score_alerts (table_name, row_key, kind) VALUES ('public.loans', '1', 'score_drop')"

echo
if [ "$failures" -eq 0 ]; then
    printf '\033[1mreplica: all checks passed\033[0m\n'
else
    printf '\033[31mreplica: %d check(s) failed\033[0m\n' "$failures"
    exit 1
fi
