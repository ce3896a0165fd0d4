#!/usr/bin/env bash
#
# The BI views through real client libraries, the way BI tools connect: over
# TCP to 127.0.0.1 with a password, as a read-only role that may SELECT the
# five views and nothing else (README: "Pointing Metabase at it").
#
# usage: tests/clients/run.sh [java] [python]     (default: both)
#
#   java     jdbc/ViewsTest.java with the PostgreSQL JDBC driver (Metabase's);
#            needs javac and the driver jar (Debian: default-jdk-headless,
#            libpostgresql-jdbc-java)
#   python   psycopg_views.py with psycopg2 (Debian: python3-psycopg2)
#
# What it does:
#   1. creates a scratch database (CLIENTS_DBNAME, default
#      credit_clients_test) with credit_scoring, the demo portfolio
#      (demo/portfolio.sql, 300 customers) scored in the customers + loans
#      layout, a one-table applications layout with an invalid row, and a
#      simulated month of income changes (so every view has rows);
#   2. creates the login role credit_bi_test with a random password, USAGE on
#      schema credit and SELECT on the five views, nothing else;
#   3. checks with psql over TCP that the role gets in with its password and
#      is refused credit.score_history and the application tables;
#   4. compiles and runs the clients, over TCP as credit_bi_test;
#   5. drops the database and the role (also on failure).
#
# The administrative connection is found the usual libpq way (PGHOST,
# PGPORT, PGUSER, PGPASSWORD or ~/.pgpass); it needs a superuser (to create
# the database, the extension and the role).  As root on Debian:
#   PGHOST=/var/run/postgresql PGUSER=postgres tests/clients/run.sh
# When root cannot log in as PGUSER (peer authentication) but the OS user
# PGUSER can, psql is run as that OS user (runuser).  The clients themselves
# run as the invoking user: they only need TCP and the password.
#
# The server must listen on 127.0.0.1 (listen_addresses 'localhost' or '*')
# and pg_hba.conf must accept password authentication there (Debian's
# default: host all all 127.0.0.1/32 scram-sha-256).
#
# Environment:
#   PG_CONFIG        pg_config of the server's installation (default: the one
#                    on PATH); psql is taken from it
#   CLIENTS_DBNAME   scratch database (default credit_clients_test); dropped
#                    and re-created
#   CLIENTS_KEEP=1   keep the database and the role afterwards
#   JDBC_JAR         the driver (default /usr/share/java/postgresql.jar)
#   PYTHON           a python3 that has psycopg2 (default: python3 on PATH if
#                    it imports psycopg2, else /usr/bin/python3)
#
# Exit status: 0 every client passed, 1 a check failed, 2 could not run.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dbname=${CLIENTS_DBNAME:-credit_clients_test}
role=credit_bi_test
PG_CONFIG=${PG_CONFIG:-pg_config}
JDBC_JAR=${JDBC_JAR:-/usr/share/java/postgresql.jar}
port=${PGPORT:-5432}

die() { echo "clients/run.sh: $*" >&2; exit 2; }
say() { printf '\n==> %s\n' "$*"; }

clients=()
for arg in "$@"; do
    case "$arg" in
        java|python) clients+=("$arg") ;;
        -h|--help)   sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *)           die "unknown argument $arg (java, python)" ;;
    esac
done
[ ${#clients[@]} -gt 0 ] || clients=(java python)
want() { printf '%s\n' "${clients[@]}" | grep -qxF "$1"; }

# Prerequisites first, so that nothing is created when a client cannot run.
if want java; then
    command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1 \
        || die "javac not found (Debian: apt-get install default-jdk-headless)"
    [ -r "$JDBC_JAR" ] || die "JDBC driver $JDBC_JAR not found (Debian: apt-get install libpostgresql-jdbc-java)"
fi
if want python; then
    if [ -z "${PYTHON:-}" ]; then
        if command -v python3 >/dev/null 2>&1 && python3 -c 'import psycopg2' 2>/dev/null; then
            PYTHON=python3
        else
            PYTHON=/usr/bin/python3
        fi
    fi
    "$PYTHON" -c 'import psycopg2' 2>/dev/null \
        || die "$PYTHON cannot import psycopg2 (Debian: apt-get install python3-psycopg2)"
fi
command -v "$PG_CONFIG" >/dev/null 2>&1 || die "pg_config not found (set PG_CONFIG)"
psql_bin="$("$PG_CONFIG" --bindir)/psql"

# The administrative connection; as root, fall back to the OS user PGUSER.
admin=("$psql_bin" -X -q -v ON_ERROR_STOP=1)
as_user=()
can_connect() { "${as_user[@]+"${as_user[@]}"}" "${admin[@]}" -d postgres -At -c 'SELECT 1' >/dev/null 2>&1; }
if ! can_connect && [ "$(id -u)" = 0 ] && [ -n "${PGUSER:-}" ] \
        && [ "$PGUSER" != root ] && id -u "$PGUSER" >/dev/null 2>&1; then
    as_user=(runuser -u "$PGUSER" --)
    can_connect || as_user=()
fi
if ! can_connect; then
    echo "clients/run.sh: cannot connect to the server (PGHOST=${PGHOST:-<default>} PGPORT=${PGPORT:-<default>} PGUSER=${PGUSER:-$(id -un)}):" >&2
    "${admin[@]}" -d postgres -At -c 'SELECT 1' >&2 || true
    exit 2
fi
# psql reads SQL from stdin, so files need not be readable by PGUSER.
pg() { "${as_user[@]+"${as_user[@]}"}" "${admin[@]}" "$@"; }

[ "$(pg -d postgres -At -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] \
    || die "the administrative connection needs a superuser (CREATE DATABASE, CREATE EXTENSION, CREATE ROLE)"
[ "$(pg -d postgres -At -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'credit_scoring'")" = 1 ] \
    || die "extension credit_scoring is not installed in the server"

listen=$(pg -d postgres -At -c 'SHOW listen_addresses')
case ",$listen," in
    *,localhost,*|*,'*',*|*,127.0.0.1,*|*,0.0.0.0,*) ;;
    *) die "the server does not listen on 127.0.0.1 (listen_addresses = '$listen')" ;;
esac

password=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

cleanup() {
    if [ "${CLIENTS_KEEP:-0}" = 1 ]; then
        echo "clients/run.sh: kept database $dbname and role $role (CLIENTS_KEEP=1)"
    else
        pg -d postgres -c "DROP DATABASE IF EXISTS $dbname" -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1 || true
    fi
    [ -n "${classes:-}" ] && rm -rf "$classes"
}
trap cleanup EXIT

say "scratch database $dbname: demo portfolio, an applications table, a month of changes"
pg -d postgres -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
pg -d postgres -v role="$role" <<'SQL'
SET client_min_messages = warning;
SELECT format('DROP ROLE IF EXISTS %I', :'role') \gexec
SQL
pg -d "$dbname" -c "CREATE EXTENSION credit_scoring"
pg -d "$dbname" -v customers=300 < "$repo/demo/portfolio.sql"
pg -d "$dbname" <<'SQL'
SET client_min_messages = warning;
SELECT credit.enable_scoring('loans', amount => 'principal_amount', customers => 'customers');
CREATE TABLE applications (
    id             integer PRIMARY KEY,
    monthly_income numeric,
    assets_value   numeric,
    loan_amount    numeric,
    tenor_months   integer
);
INSERT INTO applications VALUES
  (1,  5000000, 20000000, 10000000, 12),
  (2, 10000000,  5000000, 50000000, 24),
  (3,  2000000,        0, 10000000,  6),
  (4,  5000000, 20000000, 10000000,  0);
SELECT credit.enable_scoring('applications');
-- A month: one customer in ten loses income, a few gain (as scripts/demo.sh).
UPDATE customers SET monthly_income = round(monthly_income * (0.4 + (id % 5) * 0.1), -3) WHERE id % 10 = 3;
UPDATE customers SET monthly_income = round(monthly_income * 1.25, -3) WHERE id % 25 = 7;
-- and a few lose their job's income altogether (segment_migration gets moves).
UPDATE customers SET monthly_income = 0 WHERE id % 50 = 11;
UPDATE applications SET tenor_months = 12 WHERE id = 4;
UPDATE applications SET loan_amount = NULL WHERE id = 2;
SQL

say "read-only role $role: USAGE on schema credit, SELECT on the five views"
# The password goes through stdin, not the command line (ps would show it).
pg -d "$dbname" -v role="$role" <<SQL
SET client_min_messages = warning;
SET log_statement = 'none';
CREATE ROLE :"role" LOGIN PASSWORD '$password';
SQL
pg -d "$dbname" -v role="$role" <<'SQL'
GRANT USAGE ON SCHEMA credit TO :"role";
GRANT SELECT ON credit.current_scores, credit.portfolio_summary, credit.segment_migration,
                credit.decision_summary, credit.open_alerts TO :"role";
SQL
# Exactly those grants: the role holds no other privilege on any relation.
granted=$(pg -d "$dbname" -At -v role="$role" <<'SQL'
SELECT string_agg(c.oid::regclass || ':' || a.privilege_type, ' ' ORDER BY c.oid::regclass::text)
FROM pg_class c, aclexplode(c.relacl) a
WHERE a.grantee = :'role'::regrole;
SQL
)
expected="credit.current_scores:SELECT credit.decision_summary:SELECT credit.open_alerts:SELECT credit.portfolio_summary:SELECT credit.segment_migration:SELECT"
[ "$granted" = "$expected" ] || die "$role holds unexpected privileges: $granted"
echo "granted: $granted"

# From here on, connections go over TCP with the password, as a BI tool's do.
export PGPASSWORD=$password
bi_psql=("$psql_bin" -X -At -h 127.0.0.1 -p "$port" -U "$role" -d "$dbname")
if ! out=$("${bi_psql[@]}" -c 'SELECT current_user' 2>&1); then
    echo "clients/run.sh: $role cannot log in over TCP with its password: $out" >&2
    echo "pg_hba.conf rules for host connections (a 127.0.0.1 line with scram-sha-256 or md5 is needed):" >&2
    pg -d postgres -c "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules WHERE type LIKE 'host%'" >&2 || true
    exit 2
fi
say "$role logs in over TCP 127.0.0.1:$port with its password"

failed=0
refused() {
    local sql=$1 err
    if err=$("${bi_psql[@]}" -v ON_ERROR_STOP=1 -c "$sql" 2>&1); then
        echo "FAIL: $role may run: $sql"; failed=1
    elif grep -q 'permission denied' <<<"$err"; then
        echo "refused: $sql"
    else
        echo "FAIL: unexpected error for $sql: $err"; failed=1
    fi
}
refused "SELECT count(*) FROM credit.score_history"
refused "SELECT count(*) FROM credit.score_alerts"
refused "SELECT count(*) FROM public.loans"
refused "SELECT count(*) FROM public.customers"
refused "SELECT count(*) FROM public.applications"
refused "UPDATE credit.open_alerts SET kind = kind"
refused "SELECT credit.acknowledge_alert(1)"
if rows=$("${bi_psql[@]}" -c "SELECT count(*) FROM credit.current_scores") && [ "$rows" -gt 0 ]; then
    echo "reads credit.current_scores: $rows rows"
else
    echo "FAIL: $role cannot read credit.current_scores"; failed=1
fi

if want java; then
    say "JDBC ($(basename "$(readlink -f "$JDBC_JAR")")): jdbc/ViewsTest.java"
    classes=$(mktemp -d "${TMPDIR:-/tmp}/credit_clients.XXXXXX")
    javac -cp "$JDBC_JAR" -d "$classes" "$here/jdbc/ViewsTest.java"
    java -cp "$JDBC_JAR:$classes" ViewsTest "jdbc:postgresql://127.0.0.1:$port/$dbname" "$role" || failed=1
fi
if want python; then
    say "psycopg2: psycopg_views.py"
    PGHOST=127.0.0.1 PGPORT=$port PGDATABASE=$dbname PGUSER=$role \
        "$PYTHON" "$here/psycopg_views.py" || failed=1
fi

echo
if [ "$failed" -ne 0 ]; then
    echo "clients/run.sh: FAILED"
    exit 1
fi
echo "clients/run.sh: all clients passed (${clients[*]})"
