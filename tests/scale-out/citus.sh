#!/usr/bin/env bash
#
# Citus (issue 10 item 3, SPEC §10): credit_scoring on a Citus coordinator
# and two workers on 127.0.0.1, for both layouts of SPEC §3.  Brings up its
# own three throwaway clusters (never touches a running one); every check is
# run and reported, and the script exits non-zero when one fails.
#
# usage: tests/scale-out/citus.sh        (as root or as an ordinary user with sudo)
#
# Citus: ../shared/citus/build.sh (relative to the repository) installs it
# when present (idempotent; about 3 minutes the first time; needs root or
# sudo); else an installed Citus is used; else the script prints
# "skipped: no Citus" and exits 0.
#
# Per layout, in its own database (Citus metadata is per database):
#   layout 1  loan_applications, distributed by id;
#   layout 2  customers and loans, distributed by customer id, co-located
#             (loans' primary key is (customer_id, id); the row key is id).
# The same tables, rows and statements also go into a plain database (no
# Citus) on the coordinator's server: the single-node reference.
#
# Checks, per layout:
#   setup     CREATE EXTENSION credit_scoring on the coordinator reaches the
#             workers; enable_scoring on the distributed table (first
#             without citus.enable_unsafe_triggers, as a user would call it;
#             if that fails, again with it, so the other checks still run);
#   scores    after INSERT ... SELECT, INSERT ... RETURNING, COPY, multi-shard
#             UPDATEs, a customer's income cut (layout 2) and DELETEs: every
#             stored score, probability, segment and decision equals
#             score_credit / decide of the row's current inputs;
#   history   every row's latest history entry is its stored score; as many
#             history rows and alerts as on the single node;
#   views     current_scores, portfolio_summary, segment_migration,
#             decision_summary, open_alerts on the coordinator equal the
#             single node's (timestamps, ids and age_hours left out);
#   workers   history and alerts live on the workers (in shards of a table
#             co-located with the scored one);
#   txn       a committed multi-shard UPDATE adds its history on every
#             worker; a rolled-back one leaves no history, alert or score
#             change; a multi-shard UPDATE failing on one shard (division by
#             zero in one row) leaves nothing on the others;
#   pgbench   CLIENTS clients for DURATION s (income changes, tenor changes,
#             new loans; alert_window 0 for the table): no failed
#             transaction, every stored score still right, and the
#             score_drop alerts raised since equal the drops replayed from
#             the history (and there are some);
#   pushdown  EXPLAIN of SELECT ... FROM <table>, LATERAL
#             credit.score_credit(...) shows a Citus plan with a task per
#             shard, score_credit inside the task;
#   ddl       after scoring is enabled, Citus DDL still works
#             (create_distributed_table of another table, ALTER TABLE ADD
#             COLUMN on the scored table).
# When the extension has credit.distribute_scoring(regclass) (the proposal
# of docs/scale-out.md), it is called before enable_scoring.
#
# Environment:
#   CLIENTS=4 DURATION=20   the pgbench run, per layout
#   CUSTOMERS=300           layout 2 customers (about 2 loans each); layout 1
#                           has 2 x CUSTOMERS applications
#   SHARDS=4                citus.shard_count (Citus' default is 32)
#   PORT=55450              coordinator; workers PORT+1, PORT+2
#   LAYOUTS="1 2"
#   KEEP=0                  1: leave the cluster running
#   CITUS_BUILD             build script (default ../shared/citus/build.sh)
#   PG_BINDIR               default /usr/lib/postgresql/15/bin
#   WORKDIR=/var/tmp
#
# Exit status: 0 all checks passed (or skipped: no Citus), 1 a check failed,
# 2 could not run.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

CLIENTS=${CLIENTS:-4}
DURATION=${DURATION:-20}
CUSTOMERS=${CUSTOMERS:-300}
SHARDS=${SHARDS:-4}
PORT=${PORT:-55450}
LAYOUTS=${LAYOUTS:-1 2}
KEEP=${KEEP:-0}
WORKDIR=${WORKDIR:-/var/tmp}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
CITUS_BUILD=${CITUS_BUILD:-$repo/../shared/citus/build.sh}
PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))
COORD=$PORT

die() { echo "citus.sh: $*" >&2; exit 2; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
ok() { printf '  ok    %s\n' "$*"; }
failures=()
bad() { printf '  \033[31mFAIL\033[0m  %s\n' "$*"; failures+=("$*"); }
info() { printf '        %s\n' "$*"; }

for b in initdb pg_ctl psql pgbench pg_config; do
    [ -x "$PG_BINDIR/$b" ] || die "$PG_BINDIR/$b not found (set PG_BINDIR)"
done
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# ------------------------------------------------------------------ Citus
say "Citus"
pkglibdir=$("$PG_BINDIR/pg_config" --pkglibdir)
sharedir=$("$PG_BINDIR/pg_config" --sharedir)
if [ -f "$CITUS_BUILD" ]; then
    echo "  installing with $CITUS_BUILD (a no-op when installed; ~3 min the first time)"
    as_root bash "$CITUS_BUILD" "$PG_BINDIR/pg_config" || die "$CITUS_BUILD failed"
fi
if [ ! -f "$pkglibdir/citus.so" ] || [ ! -f "$sharedir/extension/citus.control" ]; then
    echo "skipped: no Citus (neither $CITUS_BUILD nor an installed Citus in $pkglibdir)"
    exit 0
fi
echo "  $(sed -n "s/^default_version = '\(.*\)'/citus \1/p" "$sharedir/extension/citus.control") in $pkglibdir"
[ -f "$sharedir/extension/credit_scoring.control" ] \
    || die "credit_scoring is not installed in $PG_BINDIR's PostgreSQL (scripts/test.sh installs it)"

# ------------------------------------------------------------------ cluster
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

base=$(mktemp -d "$WORKDIR/credit_citus.XXXXXX")
chmod 1777 "$base"
sock=$base/sock
out=$base/out
mkdir -p "$out"
pgrun mkdir -m 755 "$sock"

unset PGDATABASE PGPASSWORD PGSERVICE PGHOSTADDR 2>/dev/null || true
export PGHOST=$sock PGUSER=postgres PGOPTIONS='-c client_min_messages=warning'
psql_() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
# q PORT DB SQL: one value (or rows), unaligned; fails on error.
q() { local p=$1 d=$2; shift 2; psql_ -p "$p" -d "$d" -At -c "$*"; }
# try PORT DB SQL: like q, but on error prints nothing, sets $err, returns 1.
err=
try() {
    local p=$1 d=$2 o
    shift 2
    if o=$(psql_ -p "$p" -d "$d" -At -c "$*" 2>"$out/try.err"); then
        printf '%s' "$o"; return 0
    fi
    err=$(grep -m1 -E 'ERROR' "$out/try.err" | sed 's/^psql:[^ ]* //' || true)
    [ -n "$err" ] || err=$(head -n1 "$out/try.err")
    return 1
}

cleanup() {
    local rc=$?
    trap - EXIT
    if [ "$KEEP" = 1 ]; then
        echo
        echo "KEEP=1: left running: coordinator psql -h $sock -p $COORD -U postgres credit_l1 (or credit_l2, credit_single);"
        echo "        workers on ports ${PORTS[1]} ${PORTS[2]}; logs in $base"
        echo "        stop: for n in ${PORTS[*]}; do ${as_pg[*]} $PG_BINDIR/pg_ctl -D $base/node\$n stop; done; rm -rf $base"
    else
        local p
        for p in "${PORTS[@]}"; do
            [ -f "$base/node$p/postmaster.pid" ] && pgrun "$PG_BINDIR/pg_ctl" -D "$base/node$p" stop -m fast >/dev/null 2>&1
        done
        if [ "$rc" -ne 0 ]; then
            local keep="$base.failed"
            mkdir -p "$keep" && cp -r "$out" "$keep/" 2>/dev/null
            for p in "${PORTS[@]}"; do cp "$base/node$p.log" "$keep/" 2>/dev/null; done
            echo "citus.sh: logs and outputs kept in $keep"
        fi
        for p in "${PORTS[@]}"; do pgrun rm -rf "$base/node$p" "$base/node$p.log" 2>/dev/null; done
        pgrun rm -rf "$sock" 2>/dev/null
        rm -rf "$base"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "a coordinator (port $COORD) and two workers (${PORTS[1]}, ${PORTS[2]}) on 127.0.0.1: $base"
t0=$(date +%s)
for p in "${PORTS[@]}"; do
    d=$base/node$p
    pgrun "$PG_BINDIR/initdb" -D "$d" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$out/initdb$p.log" 2>&1 \
        || { cat "$out/initdb$p.log" >&2; die "initdb failed"; }
    pgrun sh -c "cat >> '$d/postgresql.conf'" <<EOF
# tests/scale-out/citus.sh
shared_preload_libraries = 'citus'
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
max_connections = 100
shared_buffers = 64MB
citus.shard_count = $SHARDS
log_min_messages = warning
log_line_prefix = '%m [%p] %e %d '
EOF
    pgrun touch "$base/node$p.log"
    # (as a service runs it: no RUST_BACKTRACE, which would append a
    # backtrace to errors passing through the extension's Rust frames)
    pgrun env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE \
        "$PG_BINDIR/pg_ctl" -D "$d" -l "$base/node$p.log" -w -t 120 start >>"$out/pg_ctl.log" 2>&1 \
        || { tail -n 20 "$base/node$p.log" >&2; die "node $p did not start"; }
done
ok "three nodes up in $(( $(date +%s) - t0 )) s"

# db_citus DB: a database with Citus on every node, the workers added, and
# credit_scoring created on the coordinator only.
db_citus() {
    local db=$1 p
    for p in "${PORTS[@]}"; do
        q "$p" postgres "CREATE DATABASE $db" >/dev/null
        q "$p" "$db" "CREATE EXTENSION citus" >/dev/null
    done
    q "$COORD" "$db" "SELECT citus_set_coordinator_host('127.0.0.1', $COORD)" >/dev/null
    q "$COORD" "$db" "SELECT citus_add_node('127.0.0.1', ${PORTS[1]})" >/dev/null
    q "$COORD" "$db" "SELECT citus_add_node('127.0.0.1', ${PORTS[2]})" >/dev/null
    q "$COORD" "$db" "CREATE EXTENSION credit_scoring" >/dev/null
}

# ------------------------------------------------------------------ SQL
# Tables, rows and statements: the same on the Citus databases and on the
# single node.  u(i, k): a reproducible uniform number in [0, 1).
U_FN="CREATE FUNCTION pg_temp.u(i bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE
      AS \$\$ SELECT ('x' || substr(md5(i::text || ':' || k), 1, 8))::bit(32)::bigint / 4294967296.0 \$\$;"

schema_1() { cat <<'SQL'
CREATE TABLE loan_applications (
    id             bigint PRIMARY KEY,
    monthly_income numeric(14,2),
    assets_value   numeric(16,2),
    loan_amount    numeric(16,2),
    tenor_months   integer
);
CREATE SEQUENCE application_ids START 1000000;
SQL
}
distribute_1() { echo "SELECT create_distributed_table('loan_applications', 'id');"; }
rows_1() { cat <<SQL
$U_FN
INSERT INTO loan_applications
SELECT i, round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6))::numeric, -3),
       round((1500000 * 40 * pg_temp.u(i, 3) ^ 2)::numeric, -4),
       round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6) * (1 + 12 * pg_temp.u(i, 4) ^ 2))::numeric, -5),
       (ARRAY[6, 12, 12, 18, 24, 24, 36, 36, 48, 60])[1 + floor(10 * pg_temp.u(i, 5))::int]
FROM generate_series(1, $((2 * CUSTOMERS))) AS i;
SQL
}
enable_1() { echo "SELECT credit.enable_scoring('loan_applications');"; }
workload_1() { cat <<SQL
$U_FN
-- multi-row INSERT ... SELECT (rows on every shard)
INSERT INTO loan_applications
SELECT i, round((2000000 + 30000000 * pg_temp.u(i, 7))::numeric, -3), round((50000000 * pg_temp.u(i, 8))::numeric, -4),
       round((5000000 + 90000000 * pg_temp.u(i, 9))::numeric, -5), 12 * (1 + floor(5 * pg_temp.u(i, 10))::int)
FROM generate_series(100001, 100100) AS i;
-- one application, its decision read back (router)
INSERT INTO loan_applications VALUES (200001, 5000000, 20000000, 10000000, 12) RETURNING id, decision, credit_score;
-- COPY, with a row that cannot be scored (tenor 0) and one without income
COPY loan_applications (id, monthly_income, assets_value, loan_amount, tenor_months) FROM STDIN (FORMAT csv);
300001,5000000,20000000,10000000,12
300002,10000000,5000000,50000000,24
300003,2000000,0,10000000,6
300004,,1000000,3000000,12
300005,4000000,1000000,8000000,0
300006,7500000,0,20000000,36
\.
-- multi-shard UPDATEs: incomes cut by 60 % for one application in 7, a raise for one in 25
UPDATE loan_applications SET monthly_income = round(monthly_income * 0.4, -3) WHERE id % 7 = 0;
UPDATE loan_applications SET monthly_income = round(monthly_income * 1.25, -3) WHERE id % 25 = 3;
-- router UPDATE of an amount, then a tenor
UPDATE loan_applications SET loan_amount = loan_amount * 5 WHERE id = 5;
UPDATE loan_applications SET tenor_months = 60 WHERE id = 8;
-- withdrawn applications leave the current views
DELETE FROM loan_applications WHERE id % 50 = 17;
SQL
}

schema_2() { cat <<'SQL'
CREATE TABLE customers (
    id             bigint PRIMARY KEY,
    monthly_income numeric(14,2),
    assets_value   numeric(16,2)
);
CREATE TABLE loans (
    id               bigint NOT NULL,
    customer_id      bigint NOT NULL REFERENCES customers (id),
    principal_amount numeric(16,2) NOT NULL,
    tenor_months     integer NOT NULL,
    PRIMARY KEY (customer_id, id)
);
CREATE SEQUENCE loan_ids START 1000000;
SQL
}
distribute_2() { cat <<'SQL'
SELECT create_distributed_table('customers', 'id');
SELECT create_distributed_table('loans', 'customer_id', colocate_with => 'customers');
SQL
}
# demo/portfolio.sql's customers and loans (its loans' key is id alone,
# which Citus cannot keep unique on a table distributed by customer_id).
rows_2() { cat <<SQL
$U_FN
INSERT INTO customers
SELECT i, round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6))::numeric, -3),
       CASE WHEN pg_temp.u(i, 2) < 0.15 THEN 0
            ELSE round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6) * 40 * pg_temp.u(i, 3) ^ 2)::numeric, -4) END
FROM generate_series(1, $CUSTOMERS) AS i;
-- (customers recomputed, not read: a query the coordinator runs by itself)
INSERT INTO loans
SELECT row_number() OVER (ORDER BY c.id, n), c.id,
       round((c.monthly_income * (1 + 12 * pg_temp.u(c.id * 10 + n, 4) ^ 2))::numeric, -5),
       (ARRAY[6, 12, 12, 18, 24, 24, 36, 36, 48, 60])[1 + floor(10 * pg_temp.u(c.id * 10 + n, 5))::int]
FROM (SELECT i AS id, round((1500000 * exp(3.7 * pg_temp.u(i, 1) ^ 1.6))::numeric, -3) AS monthly_income
      FROM generate_series(1, $CUSTOMERS) AS i) c,
     generate_series(1, 1 + floor(4 * pg_temp.u(c.id, 6) ^ 2)::int) AS n;
SQL
}
enable_2() { echo "SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers', key => 'id');"; }
workload_2() { cat <<SQL
$U_FN
-- new loans, multi-row (INSERT ... SELECT from the co-located customers:
-- pushed down to the shards) and one (router)
INSERT INTO loans
SELECT 100000 + c.id, c.id, round(c.monthly_income * (2 + c.id % 7), -5), 24
FROM customers c WHERE c.id % 6 = 1;
INSERT INTO loans VALUES (200001, 2, 10000000, 12) RETURNING id, decision, credit_score;
-- COPY, with a loan that cannot be scored (tenor 0)
COPY loans (id, customer_id, principal_amount, tenor_months) FROM STDIN (FORMAT csv);
300001,3,10000000,12
300002,4,50000000,24
300003,5,3000000,6
300004,6,8000000,0
\.
-- one customer's income cut (router: the customer's loans are on the same worker)
UPDATE customers SET monthly_income = 700000 WHERE id = 1;
-- a month passes (multi-shard): one customer in ten loses income, a few gain
UPDATE customers SET monthly_income = round(monthly_income * (0.4 + (id % 5) * 0.1), -3) WHERE id % 10 = 3;
UPDATE customers SET monthly_income = round(monthly_income * 1.25, -3) WHERE id % 25 = 7;
-- assets revalued (multi-shard), tenors extended (multi-shard)
UPDATE customers SET assets_value = round(assets_value * 0.5, -4) WHERE id % 9 = 4;
UPDATE loans SET tenor_months = tenor_months + 12 WHERE id % 17 = 5 AND tenor_months > 0;
-- loans renumbered (the key changes, not the distribution column; past
-- the ids loan_ids gives out later): the
-- old keys leave the current views
UPDATE loans SET id = id + 50000000 WHERE id % 31 = 7;
-- loans repaid
DELETE FROM loans WHERE id % 97 = 11;
SQL
}

# ------------------------------------------------------------------ checks
# The stored scores against score_credit / decide of the current inputs
# (each function called only for rows it accepts, as credit.verify does).
inputs_1="SELECT a.id::text AS row_key, a.credit_score, a.default_probability, a.segment, a.decision,
                 coalesce(a.monthly_income, 0)::numeric AS income, coalesce(a.assets_value, 0)::numeric AS assets,
                 a.loan_amount::numeric AS amount, a.tenor_months AS tenor,
                 credit.validate_row(a.monthly_income, a.assets_value, a.loan_amount, a.tenor_months) AS problem
          FROM loan_applications a"
inputs_2="SELECT l.id::text AS row_key, l.credit_score, l.default_probability, l.segment, l.decision,
                 coalesce(c.monthly_income, 0)::numeric AS income, coalesce(c.assets_value, 0)::numeric AS assets,
                 l.principal_amount::numeric AS amount, l.tenor_months AS tenor,
                 credit.validate_row(c.monthly_income, c.assets_value, l.principal_amount, l.tenor_months) AS problem
          FROM loans l JOIN customers c ON c.id = l.customer_id"
wrong_scores() {  # wrong_scores LAYOUT [SCORECARD]: rows whose stored result is not that of its inputs
    local inputs=inputs_$1 card=${2:-reference}
    echo "SELECT count(*) FILTER (WHERE (r.credit_score, r.default_probability, r.segment, r.decision)
                                    IS DISTINCT FROM (s.credit_score, s.default_probability, s.segment, d.decision))
                 || ' of ' || count(*) || ' rows (' || count(*) FILTER (WHERE r.problem IS NOT NULL) || ' unscorable)'
          FROM (${!inputs}) r
          LEFT JOIN LATERAL credit.score_credit(r.income, r.assets, r.amount, r.tenor,
                                                CASE WHEN r.problem IS NULL THEN '$card' END) s ON true
          LEFT JOIN LATERAL credit.decide(r.income, r.assets, r.amount, r.tenor,
                                          CASE WHEN r.problem IS NULL THEN '$card' END) d ON true"
}
check_scores() {  # check_scores LAYOUT DB LABEL [SCORECARD]
    local v
    if v=$(try "$COORD" "$2" "$(wrong_scores "$1" "${4:-}")"); then
        case "$v" in 0\ of*) ok "scores $3: $v wrong" ;; *) bad "scores $3: $v wrong (stored score not score_credit of the inputs)" ;; esac
    else
        bad "scores $3: query failed: $err"
    fi
}
# Latest history entry of every row vs its stored score (history pulled to
# the coordinator first: a window over row_key needs no distribution column).
latest_vs_stored() {
    local inputs=inputs_$1 tbl=$2
    echo "CREATE TEMP TABLE hist AS SELECT row_key, id, credit_score, decision FROM credit.score_history
          WHERE table_name = '$tbl';
          SELECT count(*) FILTER (WHERE h.row_key IS NULL) || ' without history, '
                 || count(*) FILTER (WHERE h.row_key IS NOT NULL
                                     AND (h.credit_score, h.decision) IS DISTINCT FROM (r.credit_score, r.decision))
                 || ' whose latest history differs'
          FROM (${!inputs}) r
          LEFT JOIN (SELECT DISTINCT ON (row_key) * FROM hist ORDER BY row_key, id DESC) h ON h.row_key = r.row_key;"
}
counts() { echo "SELECT (SELECT count(*) FROM credit.score_history WHERE table_name = '$1') || ' history, '
                        || (SELECT count(*) FROM credit.score_alerts WHERE table_name = '$1') || ' alerts'"; }
state() {  # a fingerprint of scores, history and alerts of a table
    local inputs=inputs_$1
    echo "SELECT (SELECT count(*) || '/' || coalesce(sum(credit_score), 0) FROM (${!inputs}) r) || ' rows/score sum, '
                 || (SELECT count(*) FROM credit.score_history WHERE table_name = '$2') || ' history, '
                 || (SELECT count(*) FROM credit.score_alerts WHERE table_name = '$2') || ' alerts'"
}

# The §4 views, deterministic, without what differs between two runs of the
# same statements (ids, timestamps, age).
view_sql() {  # view_sql VIEW TABLE_NAME
    local w="WHERE table_name = '$2'"
    case $1 in
    current_scores) echo "SELECT table_name, row_key, monthly_income, assets, loan_amount, tenor_months, credit_score,
                                 default_probability, segment, dsr, monthly_installment, persona, reasons,
                                 recommendation, decision, decision_reasons, scorecard
                          FROM credit.current_scores $w ORDER BY table_name, row_key" ;;
    portfolio_summary) echo "SELECT * FROM credit.portfolio_summary $w ORDER BY table_name, segment" ;;
    segment_migration) echo "SELECT * FROM credit.segment_migration $w
                             ORDER BY table_name, month, from_segment NULLS FIRST, to_segment NULLS FIRST" ;;
    decision_summary) echo "SELECT * FROM credit.decision_summary $w ORDER BY table_name, day" ;;
    open_alerts) echo "SELECT table_name, row_key, kind, old_score, new_score, score_drop, old_segment, new_segment,
                              details, reason
                       FROM credit.open_alerts $w
                       ORDER BY table_name, row_key, kind, old_score, new_score, details" ;;
    esac
}

run_sql() {  # run_sql PORT DB LABEL: stdin as one psql script, stop at the first error
    if psql_ -p "$1" -d "$2" -f - >"$out/$3.out" 2>"$out/$3.err"; then return 0; fi
    err=$(grep -m1 -E 'ERROR' "$out/$3.err" | sed 's/^psql:[^ ]* //' || true)
    [ -n "$err" ] || err=$(head -n1 "$out/$3.err")
    return 1
}

layout() {
    local L=$1 db=credit_l$1 single=credit_single tbl key table v before after
    if [ "$L" = 1 ]; then tbl=public.loan_applications table=loan_applications key=id
    else tbl=public.loans table=loans key=customer_id; fi
    say "layout $L: $( [ "$L" = 1 ] && echo "loan_applications distributed by id" || echo "customers + loans distributed by customer id, co-located")"
    db_citus "$db"
    v=$(q "$COORD" "$db" "SELECT string_agg(nodeport || ': ' || coalesce(result, ''), ', ' ORDER BY nodeport)
                          FROM run_command_on_workers(\$\$SELECT extversion FROM pg_extension WHERE extname = 'credit_scoring'\$\$)")
    if [ "$(q "$COORD" "$db" "SELECT count(*) FROM run_command_on_workers(\$\$SELECT 1 FROM pg_extension WHERE extname = 'credit_scoring'\$\$) WHERE result = '1'")" = 2 ]; then
        ok "CREATE EXTENSION credit_scoring on the coordinator reached both workers ($v)"
    else
        bad "credit_scoring not on both workers after CREATE EXTENSION on the coordinator ($v)"
    fi

    # Single node: same tables and rows, scoring enabled, same statements.
    run_sql "$COORD" "$single" "single_setup_$L" < <({ schema_$L; rows_$L; enable_$L; }) \
        || { bad "single node setup failed: $err"; return; }
    # Citus: tables distributed before scoring is enabled (as an operator would).
    run_sql "$COORD" "$db" "citus_setup_$L" < <({ schema_$L; distribute_$L; rows_$L; }) \
        || { bad "distributing the tables failed: $err"; return; }
    if [ "$(q "$COORD" "$db" "SELECT to_regprocedure('credit.distribute_scoring(regclass)') IS NOT NULL")" = t ]; then
        if try "$COORD" "$db" "SELECT credit.distribute_scoring('$table')" >/dev/null; then
            ok "credit.distribute_scoring('$table')"
        else
            bad "credit.distribute_scoring('$table'): $err"
        fi
    fi
    if run_sql "$COORD" "$db" "enable_$L" < <(enable_$L); then
        ok "enable_scoring on the distributed table"
    else
        bad "enable_scoring on the distributed table: $err"
        info "retrying with SET citus.enable_unsafe_triggers = on"
        if run_sql "$COORD" "$db" "enable_unsafe_$L" < <({ echo "SET citus.enable_unsafe_triggers = on;"; enable_$L; }); then
            ok "enable_scoring with citus.enable_unsafe_triggers = on"
        else
            bad "enable_scoring with citus.enable_unsafe_triggers = on: $err"
            return
        fi
    fi
    check_scores "$L" "$db" "after enable_scoring (existing rows)"

    # The same statements on both.
    run_sql "$COORD" "$single" "single_workload_$L" < <(workload_$L) || bad "single node workload failed: $err"
    if run_sql "$COORD" "$db" "citus_workload_$L" < <(workload_$L); then
        ok "workload: INSERT ... SELECT, INSERT ... RETURNING, COPY, multi-shard and router UPDATEs$( [ "$L" = 2 ] && echo ", income cuts"), DELETE"
    else
        bad "workload failed: $err"
    fi
    check_scores "$L" "$db" "after the workload"
    if v=$(try "$COORD" "$db" "$(latest_vs_stored "$L" "$tbl")" | tail -n1); then
        [ "$v" = "0 without history, 0 whose latest history differs" ] && ok "history: $v" || bad "history: $v"
    else
        bad "history: query failed: $err"
    fi
    if v=$(try "$COORD" "$db" "SELECT (SELECT count(*) FROM credit.current_scores WHERE table_name = '$tbl')
                                      || ' current, ' || (SELECT count(*) FROM $table) || ' rows'"); then
        case "$v" in "${v%% *} current, ${v%% *} rows") ok "current scores: one per row ($v)" ;;
                     *) bad "current scores: $v (rows missing, or keys no row has)" ;; esac
    else
        bad "current scores: query failed: $err"
    fi
    before=$(q "$COORD" "$single" "$(counts "$tbl")")
    if v=$(try "$COORD" "$db" "$(counts "$tbl")"); then
        [ "$v" = "$before" ] && ok "history and alerts: $v, as on the single node" \
            || bad "history and alerts: $v on Citus, $before on the single node"
    else
        bad "history and alerts: query failed: $err"
    fi

    # The views on the coordinator vs the single node.
    local view rows
    for view in current_scores portfolio_summary segment_migration decision_summary open_alerts; do
        psql_ -p "$COORD" -d "$single" -A -F '|' -P footer=off -c "$(view_sql $view "$tbl")" >"$out/$view.$L.single"
        if ! psql_ -p "$COORD" -d "$db" -A -F '|' -P footer=off -c "$(view_sql $view "$tbl")" >"$out/$view.$L.citus" 2>"$out/$view.$L.err"; then
            bad "view $view: failed on the coordinator: $(grep -m1 ERROR "$out/$view.$L.err")"
            continue
        fi
        rows=$(($(wc -l <"$out/$view.$L.single") - 1))
        if diff -u "$out/$view.$L.single" "$out/$view.$L.citus" >"$out/$view.$L.diff"; then
            ok "view $view: $rows rows, as on the single node"
        else
            bad "view $view: differs from the single node ($rows rows there, $(($(wc -l <"$out/$view.$L.citus") - 1)) here)"
            head -n 8 "$out/$view.$L.diff" | sed 's/^/        /'
        fi
    done

    # Where history and alerts are stored.
    local t
    for t in credit.score_history credit.score_alerts; do
        if v=$(try "$COORD" "$db" "SELECT count(DISTINCT s.nodeport) || ' nodes, co-located with $table: '
                                          || bool_and(p.colocationid = (SELECT colocationid FROM pg_dist_partition
                                                                        WHERE logicalrelid = '$table'::regclass))
                                   FROM pg_dist_partition p
                                   JOIN pg_dist_shard d ON d.logicalrelid = p.logicalrelid
                                   JOIN pg_dist_shard_placement s ON s.shardid = d.shardid
                                   WHERE p.logicalrelid = '$t'::regclass
                                   HAVING count(*) > 0") && [ -n "$v" ]; then
            case "$v" in "2 nodes, co-located with $table: true") ok "$t: shards on the workers ($v)" ;;
                         *) bad "$t: $v" ;; esac
        else
            bad "$t is not distributed: a coordinator-local table (the workers' triggers cannot write it there)"
        fi
    done

    # Transactions.
    local upd
    if [ "$L" = 1 ]; then upd="UPDATE loan_applications SET monthly_income = round(monthly_income * 0.5, -3) WHERE id % 5 = 1"
    else upd="UPDATE customers SET monthly_income = round(monthly_income * 0.5, -3) WHERE id % 5 = 1"; fi
    before=$(q "$COORD" "$db" "$(state "$L" "$tbl")")
    v=$(psql_ -p "$COORD" -d "$db" -At 2>&1 <<SQL || true
BEGIN;
$upd;
$(state "$L" "$tbl");
ROLLBACK;
SQL
)
    after=$(q "$COORD" "$db" "$(state "$L" "$tbl")")
    local inside=$(printf '%s\n' "$v" | grep 'rows/score sum' | tail -n1)
    if [ "$after" = "$before" ]; then
        if [ "${inside#*history}" != "${before#*history}" ]; then
            ok "rolled-back multi-shard UPDATE: history and alerts written inside the transaction ($inside), none left after ROLLBACK"
        else
            bad "rolled-back multi-shard UPDATE: left nothing, but wrote no history inside the transaction either ($inside)"
        fi
    else
        bad "rolled-back multi-shard UPDATE changed something: before $before, after $after"
    fi
    # An error in one row (one shard): the whole statement fails; nothing stays on the other shards.
    local failing=$(q "$COORD" "$db" "SELECT min($( [ "$L" = 1 ] && echo id || echo customer_id)) FROM $table")
    before=$(q "$COORD" "$db" "$(state "$L" "$tbl")")
    if [ "$L" = 1 ]; then
        upd="UPDATE loan_applications SET monthly_income = round(monthly_income * 0.5, -3) + 0 * (1 / (id - $failing))"
    else
        upd="UPDATE customers SET monthly_income = round(monthly_income * 0.5, -3) + 0 * (1 / (id - $failing))"
    fi
    if try "$COORD" "$db" "$upd" >/dev/null; then
        bad "the UPDATE meant to fail on one shard succeeded"
    else
        after=$(q "$COORD" "$db" "$(state "$L" "$tbl")")
        [ "$after" = "$before" ] && ok "multi-shard UPDATE failing on one shard ($err): nothing left on the others" \
            || bad "multi-shard UPDATE failing on one shard left changes: before $before, after $after"
    fi
    # A committed multi-shard UPDATE writes its history on every worker.
    before=$(q "$COORD" "$db" "SELECT count(*) FROM credit.score_history WHERE table_name = '$tbl'")
    if [ "$L" = 1 ]; then upd="UPDATE loan_applications SET tenor_months = tenor_months + 6 WHERE id % 11 = 2 AND tenor_months > 0"
    else upd="UPDATE loans SET tenor_months = tenor_months + 6 WHERE id % 11 = 2 AND tenor_months > 0"; fi
    local n=$(q "$COORD" "$db" "SELECT count(*) FROM $table WHERE id % 11 = 2 AND tenor_months > 0")
    if try "$COORD" "$db" "$upd" >/dev/null; then
        after=$(q "$COORD" "$db" "SELECT count(*) FROM credit.score_history WHERE table_name = '$tbl'")
        if [ $((after - before)) = "$n" ]; then
            v=$(try "$COORD" "$db" "SELECT count(DISTINCT nodeport) FROM run_command_on_shards('credit.score_history',
                                     \$\$SELECT count(*) FROM %s WHERE table_name = '$tbl'\$\$) r
                                     JOIN pg_dist_shard_placement s ON s.shardid = r.shardid
                                     WHERE r.result::bigint > 0" || echo "?")
            [ "$v" = 2 ] && ok "committed multi-shard UPDATE of $n rows: $n history rows, on both workers" \
                || bad "committed multi-shard UPDATE of $n rows: $n history rows, but on $v worker(s)"
        else
            bad "committed multi-shard UPDATE of $n rows added $((after - before)) history rows"
        fi
    else
        bad "committed multi-shard UPDATE failed: $err"
    fi
    check_scores "$L" "$db" "after the transactions"

    # pgbench: alert_window 0 for this table (per-table setting, then
    # enable_scoring again so that it reaches the triggers), 4 clients.
    q "$COORD" "$db" "UPDATE credit.scored_tables SET alert_window = '0' WHERE relid = '$table'::regclass" >/dev/null
    run_sql "$COORD" "$db" "reenable_$L" < <({ echo "SET citus.enable_unsafe_triggers = on;"; enable_$L; }) \
        || bad "enable_scoring again (alert_window 0): $err"
    local since=$(q "$COORD" "$db" "SELECT clock_timestamp()")
    if [ "$L" = 1 ]; then
        cat >"$out/bench_income_1.sql" <<EOF
\set id random(1, $((2 * CUSTOMERS)))
\set income random(300, 60000) * 1000
UPDATE loan_applications SET monthly_income = :income WHERE id = :id;
EOF
        cat >"$out/bench_tenor_1.sql" <<EOF
\set id random(1, $((2 * CUSTOMERS)))
\set tenor 6 * random(1, 12)
UPDATE loan_applications SET tenor_months = :tenor WHERE id = :id;
EOF
        cat >"$out/bench_new_1.sql" <<EOF
\set income random(300, 60000) * 1000
\set amount random(10, 6000) * 100000
\set tenor 6 * random(1, 12)
INSERT INTO loan_applications VALUES (nextval('application_ids'), :income, :income * 3, :amount, :tenor);
EOF
    else
        cat >"$out/bench_income_2.sql" <<EOF
\set cid random(1, $CUSTOMERS)
\set income random(300, 60000) * 1000
UPDATE customers SET monthly_income = :income WHERE id = :cid;
EOF
        cat >"$out/bench_tenor_2.sql" <<EOF
\set cid random(1, $CUSTOMERS)
\set tenor 6 * random(1, 12)
UPDATE loans SET tenor_months = :tenor WHERE customer_id = :cid;
EOF
        cat >"$out/bench_new_2.sql" <<EOF
\set cid random(1, $CUSTOMERS)
\set amount random(10, 6000) * 100000
\set tenor 6 * random(1, 12)
INSERT INTO loans VALUES (nextval('loan_ids'), :cid, :amount, :tenor);
EOF
    fi
    if "$PG_BINDIR/pgbench" -n -p "$COORD" -c "$CLIENTS" -j "$CLIENTS" -T "$DURATION" --max-tries=10 \
        -f "$out/bench_income_$L.sql@4" -f "$out/bench_tenor_$L.sql@4" -f "$out/bench_new_$L.sql@1" \
        "$db" >"$out/pgbench_$L.log" 2>&1; then
        v=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out/pgbench_$L.log")
        local failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out/pgbench_$L.log")
        local tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out/pgbench_$L.log")
        local retried=$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$out/pgbench_$L.log")
        [ "${failed:-0}" = 0 ] && ok "pgbench: $CLIENTS clients, ${DURATION} s: $v transactions ($tps tps), none failed, ${retried:-0} retried (deadlock)" \
            || bad "pgbench: $failed of $v transactions failed (see $out/pgbench_$L.log)"
    else
        bad "pgbench failed: $(grep -m1 -iE 'error|abort' "$out/pgbench_$L.log")"
    fi
    check_scores "$L" "$db" "after pgbench"
    if v=$(try "$COORD" "$db" "
        CREATE TEMP TABLE h AS SELECT row_key, id, scored_at, credit_score FROM credit.score_history WHERE table_name = '$tbl';
        CREATE TEMP TABLE a AS SELECT row_key, old_score, new_score FROM credit.score_alerts
                               WHERE table_name = '$tbl' AND kind = 'score_drop' AND created_at >= '$since';
        CREATE TEMP TABLE d AS
            SELECT row_key, prev AS old_score, credit_score AS new_score
            FROM (SELECT *, lag(credit_score) OVER (PARTITION BY row_key ORDER BY id) AS prev FROM h) x
            WHERE scored_at >= '$since' AND prev - credit_score >= 15;
        SELECT (SELECT count(*) FROM a) || ' alerts, ' || (SELECT count(*) FROM d) || ' drops replayed, '
               || (SELECT count(*) FROM ((SELECT * FROM a EXCEPT ALL SELECT * FROM d)
                                         UNION ALL (SELECT * FROM d EXCEPT ALL SELECT * FROM a)) x) || ' unmatched'" | tail -n1); then
        case "$v" in
            "0 alerts, 0 drops replayed"*) bad "score_drop alerts vs history: $v (no history written during pgbench)" ;;
            *", 0 unmatched") ok "score_drop alerts since pgbench began = drops replayed from history: $v" ;;
            *) bad "score_drop alerts vs history: $v" ;;
        esac
    else
        bad "score_drop replay: query failed: $err"
    fi

    # Bulk scoring runs on the workers.
    local explain
    if [ "$L" = 1 ]; then
        explain="EXPLAIN (VERBOSE, COSTS OFF) SELECT a.id, s.credit_score, s.segment FROM loan_applications a,
                 LATERAL credit.score_credit(a.monthly_income, a.assets_value, a.loan_amount, a.tenor_months) s"
    else
        explain="EXPLAIN (VERBOSE, COSTS OFF) SELECT l.id, s.credit_score, s.segment FROM loans l
                 JOIN customers c ON c.id = l.customer_id,
                 LATERAL credit.score_credit(c.monthly_income, c.assets_value, l.principal_amount, l.tenor_months) s"
    fi
    if try "$COORD" "$db" "$explain" >"$out/explain_$L.txt"; then
        local tasks=$(sed -n 's/.*Task Count: \([0-9]*\).*/\1/p' "$out/explain_$L.txt")
        if grep -q 'Custom Scan (Citus Adaptive)' "$out/explain_$L.txt" && [ "${tasks:-0}" -ge 2 ] \
           && sed -n '/->  Task/,$p' "$out/explain_$L.txt" | grep -q 'score_credit'; then
            ok "LATERAL credit.score_credit pushed down: Citus Adaptive, $tasks tasks, score_credit inside the task"
        else
            bad "LATERAL credit.score_credit not pushed down (see $out/explain_$L.txt)"
            sed 's/^/        /' "$out/explain_$L.txt" | head -n 15
        fi
    else
        bad "EXPLAIN failed: $err"
    fi

    # Citus DDL after scoring is enabled.
    if try "$COORD" "$db" "CREATE TABLE ddl_probe (id bigint PRIMARY KEY); SELECT create_distributed_table('ddl_probe', 'id')" >/dev/null; then
        ok "create_distributed_table of another table after enable_scoring"
    else
        bad "create_distributed_table of another table after enable_scoring: $err"
    fi
    local trig="SELECT string_agg(nodeport || ': ' || result, ', ' ORDER BY nodeport) FROM run_command_on_workers(
                \$\$SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'credit\\_scoring\\_%'\$\$)"
    before=$(q "$COORD" "$db" "$trig")
    if try "$COORD" "$db" "ALTER TABLE $table ADD COLUMN note text" >/dev/null; then
        after=$(q "$COORD" "$db" "$trig")
        [ "$after" = "$before" ] && ok "ALTER TABLE $table ADD COLUMN after enable_scoring (the workers keep their scoring triggers: $after)" \
            || bad "ALTER TABLE $table ADD COLUMN after enable_scoring dropped scoring triggers on the workers (triggers before $before, after $after)"
    else
        bad "ALTER TABLE $table ADD COLUMN after enable_scoring: $err"
    fi
    # Renaming a distributed scored table: refused (its triggers carry the
    # name), clearly, and nothing changes.
    if try "$COORD" "$db" "ALTER TABLE $table RENAME TO ${table}_renamed" >/dev/null; then
        bad "ALTER TABLE $table RENAME on a distributed scored table succeeded"
    else
        v=$(q "$COORD" "$db" "SELECT to_regclass('$table') IS NOT NULL AND EXISTS (SELECT 1 FROM credit.scored_tables WHERE table_name = '$tbl')")
        case "$err:$v" in
            *"cannot rename"*:t) ok "ALTER TABLE $table RENAME refused: $err" ;;
            *) bad "ALTER TABLE $table RENAME: unexpected outcome ($err; table and configuration kept: $v)" ;;
        esac
    fi
    check_scores "$L" "$db" "at the end"

    # A named scorecard (made on the coordinator, as a risk team would).
    if try "$COORD" "$db" "INSERT INTO credit.scorecards (name, definition)
                           SELECT 'citus_test', jsonb_set(definition, '{margin_rate}', '0.20')
                           FROM credit.scorecards WHERE name = 'reference'" >/dev/null \
       && run_sql "$COORD" "$db" "scorecard_$L" < <(echo "SET citus.enable_unsafe_triggers = on;"; enable_$L | sed "s/);\$/, scorecard => 'citus_test');/"); then
        ok "enable_scoring(..., scorecard => 'citus_test') on the distributed table"
        check_scores "$L" "$db" "with scorecard citus_test" citus_test
        if v=$(try "$COORD" "$db" "SELECT count(*) FILTER (WHERE scorecard = 'citus_test') || ' of ' || count(*)
                                   FROM credit.current_scores WHERE table_name = '$tbl'"); then
            case "$v" in "0 of"*) bad "current_scores with scorecard citus_test: $v rows" ;;
                         *) ok "current_scores: $v rows scored with citus_test" ;; esac
        else
            bad "current_scores with a named scorecard: $err"
        fi
    else
        bad "enable_scoring with a named scorecard: $err"
    fi
}

q "$COORD" postgres "CREATE DATABASE credit_single" >/dev/null
q "$COORD" credit_single "CREATE EXTENSION credit_scoring" >/dev/null
for L in $LAYOUTS; do
    layout "$L"
done

echo
if [ ${#failures[@]} -eq 0 ]; then
    printf '\033[1mcitus: all checks passed\033[0m\n'
else
    printf '\033[31mcitus: %d check(s) failed:\033[0m\n' "${#failures[@]}"
    printf '  - %s\n' "${failures[@]}"
    exit 1
fi
