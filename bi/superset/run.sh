#!/usr/bin/env bash
# The risk dashboard in Apache Superset, over the extension's views.
#
#   bi/superset/run.sh          install (first time), start, load the dashboard, print its URL
#   bi/superset/run.sh stop     stop Superset
#   bi/superset/run.sh status   say whether it runs
#
# Idempotent: run it again after the data or the dashboard definition changed.
# Installs Superset 6.1.0 from PyPI into a virtualenv in the cache directory
# (${XDG_CACHE_HOME:-~/.cache}/credit_scoring/superset, reused when present),
# serves it on 127.0.0.1 only, and registers the database through a
# read-only PostgreSQL role that can SELECT the five credit.* views and
# nothing else. Works as root and as an ordinary user with sudo.
#
# Settings (environment):
#   CREDIT_DB=credit_demo       database with the extension (on the local cluster)
#   CREDIT_BI_ROLE=credit_bi    the read-only role Superset logs in as
#   SUPERSET_PORT=8088          port on 127.0.0.1
#   CREDIT_SUPERSET_HOME=…      cache directory (venv, metadata, secrets, logs)
#   PYTHON=/usr/bin/python3     interpreter for the virtualenv (3.10 to 3.12)
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/common.sh"

SUPERSET_VERSION=6.1.0
HERE="$REPO/bi/superset"
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE="${CREDIT_SUPERSET_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/credit_scoring/superset}"
VENV="$CACHE/venv"
export SUPERSET_HOME="$CACHE/home"
export SUPERSET_CONFIG_PATH="$HERE/superset_config.py"
CREDIT_DB="${CREDIT_DB:-credit_demo}"
CREDIT_BI_ROLE="${CREDIT_BI_ROLE:-credit_bi}"
PORT="${SUPERSET_PORT:-8088}"
URL="http://127.0.0.1:$PORT"
PIDFILE="$CACHE/gunicorn.pid"
LOG="$CACHE/superset.log"
VIEWS=(credit.current_scores credit.portfolio_summary credit.segment_migration
       credit.decision_summary credit.open_alerts)

secs() { date +%s; }

# A random secret kept in the cache directory (mode 600), created once.
secret() {
    local file="$CACHE/$1"
    if [ ! -s "$file" ]; then
        (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$file")
    fi
    cat "$file"
}

running_pid() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

healthy() { curl -fsS -m 5 "$URL/health" >/dev/null 2>&1; }

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PIDFILE"
        echo "Superset is not running"
        return 0
    fi
    say "stopping Superset (gunicorn $pid)"
    kill -TERM "$pid"
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; echo "stopped"; return 0; }
        sleep 0.5
    done
    echo "gunicorn $pid did not stop in 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
}

install_superset() {
    local stamp="$VENV/.credit_scoring-superset-$SUPERSET_VERSION"
    [ -e "$stamp" ] && return 0
    local python="${PYTHON:-}"
    if [ -z "$python" ]; then
        if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python=python3; fi
    fi
    if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        say "installing python3-venv"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
    say "installing Superset $SUPERSET_VERSION into $VENV (a few minutes, once)"
    local t0; t0=$(secs)
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip wheel
    # constraints.txt pins every dependency to a set that was seen working;
    # rich, cachetools and Flask-Caching 2.4 are the three repairs 6.1.0 needs
    # (undeclared imports; Flask-Caching 2.5 breaks the metastore cache).
    "$VENV/bin/pip" install -q -c "$HERE/constraints.txt" \
        "apache-superset==$SUPERSET_VERSION" psycopg2-binary rich cachetools 'flask-caching==2.4.1'
    touch "$stamp"
    echo "installed in $(( $(secs) - t0 )) s"
}

initialise_superset() {
    mkdir -p "$SUPERSET_HOME"
    secret home/secret_key >/dev/null
    local stamp="$SUPERSET_HOME/.initialised-$SUPERSET_VERSION"
    if [ -e "$stamp" ] && [ -s "$SUPERSET_HOME/superset.db" ]; then
        if [ ! -s "$CACHE/admin_password" ]; then  # deleted by hand: a new one
            "$VENV/bin/superset" fab reset-password --username admin \
                --password "$(secret admin_password)" >>"$LOG" 2>&1
        fi
        return 0
    fi
    say "initialising Superset's metadata ($SUPERSET_HOME/superset.db)"
    local t0; t0=$(secs)
    "$VENV/bin/superset" db upgrade >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; return 1; }
    "$VENV/bin/superset" fab create-admin --username admin --firstname Credit --lastname Risk \
        --email admin@localhost --password "$(secret admin_password)" >>"$LOG" 2>&1
    "$VENV/bin/superset" init >>"$LOG" 2>&1 || { tail -30 "$LOG" >&2; return 1; }
    touch "$stamp"
    echo "initialised in $(( $(secs) - t0 )) s"
}

# The read-only role: LOGIN, USAGE on schema credit, SELECT on the five
# views; every other table privilege it may have been given is revoked. The
# views read the tables behind them with their owner's rights.
prepare_role() {
    say "read-only role $CREDIT_BI_ROLE on database $CREDIT_DB"
    if ! pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$CREDIT_DB'" | grep -q 1; then
        echo "database $CREDIT_DB does not exist: run scripts/demo.sh first (or set CREDIT_DB)" >&2
        exit 1
    fi
    local password; password="$(secret bi_password)"
    pg -q -d "$CREDIT_DB" -v role="$CREDIT_BI_ROLE" <<SQL
\\set password '$password'
BEGIN;
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS missing \\gset
\\if :missing
CREATE ROLE :"role" LOGIN;
\\endif
ALTER ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'password';
ALTER ROLE :"role" SET default_transaction_read_only = on;
ALTER ROLE :"role" SET statement_timeout = '60s';
REVOKE ALL ON ALL TABLES IN SCHEMA credit, public FROM :"role";
GRANT USAGE ON SCHEMA credit TO :"role";
GRANT SELECT ON $(IFS=,; echo "${VIEWS[*]}") TO :"role";
COMMIT;
SQL
}

# Superset connects over TCP to 127.0.0.1 with a password. Debian's default
# pg_hba.conf allows that (scram-sha-256); if this cluster's does not, add
# one rule for this role and database only, and reload.
check_tcp_login() {
    local port; port="$(pg -tAc 'SHOW port')"
    PG_PORT="$port"
    if PGPASSWORD="$(secret bi_password)" psql -X -q -h 127.0.0.1 -p "$port" -U "$CREDIT_BI_ROLE" \
            -d "$CREDIT_DB" -tAc 'SELECT 1' >/dev/null 2>"$CACHE/login.err"; then
        return 0
    fi
    if grep -q 'no pg_hba.conf entry\|authentication failed' "$CACHE/login.err"; then
        local hba; hba="$(pg -tAc 'SHOW hba_file')"
        local rule="host    $CREDIT_DB    $CREDIT_BI_ROLE    127.0.0.1/32    scram-sha-256"
        say "pg_hba.conf has no password rule for $CREDIT_BI_ROLE on 127.0.0.1: adding one"
        echo "  $hba (first line): $rule"
        as_postgres sed -i "1i $rule  # added by credit_scoring bi/superset/run.sh" "$hba"
        pg -q -tAc 'SELECT pg_reload_conf()' >/dev/null
        sleep 1
        PGPASSWORD="$(secret bi_password)" psql -X -q -h 127.0.0.1 -p "$port" -U "$CREDIT_BI_ROLE" \
            -d "$CREDIT_DB" -tAc 'SELECT 1' >/dev/null && return 0
    fi
    echo "cannot log in as $CREDIT_BI_ROLE over 127.0.0.1:$port:" >&2
    cat "$CACHE/login.err" >&2
    exit 1
}

start_superset() {
    if running_pid >/dev/null && healthy; then
        echo "Superset already runs on $URL (pid $(running_pid))"
        return 0
    fi
    if healthy; then
        echo "something else answers on $URL: set SUPERSET_PORT" >&2
        exit 1
    fi
    say "starting Superset on $URL"
    local t0; t0=$(secs)
    rm -f "$PIDFILE"
    # 2 workers x 4 threads: enough for a dashboard's parallel chart queries
    # on a 2-core machine.
    "$VENV/bin/gunicorn" --daemon --pid "$PIDFILE" --no-control-socket \
        -w 2 -k gthread --threads 4 --timeout 120 \
        -b "127.0.0.1:$PORT" --error-logfile "$LOG" --access-logfile "$CACHE/access.log" \
        "superset.app:create_app()"
    for _ in $(seq 240); do
        if healthy; then echo "healthy in $(( $(secs) - t0 )) s"; return 0; fi
        sleep 0.5
    done
    echo "Superset did not become healthy in 120 s; last lines of $LOG:" >&2
    tail -40 "$LOG" >&2
    exit 1
}

load_dashboard() {
    say "loading the dashboard"
    SUPERSET_URL="$URL" SUPERSET_ADMIN_PASSWORD="$(secret admin_password)" \
    CREDIT_DB="$CREDIT_DB" CREDIT_BI_ROLE="$CREDIT_BI_ROLE" CREDIT_BI_PASSWORD="$(secret bi_password)" \
    CREDIT_PG_PORT="$PG_PORT" \
        "$VENV/bin/python" "$HERE/dashboard.py"
}

main() {
    case "${1:-start}" in
        stop) stop; return ;;
        status)
            if running_pid >/dev/null; then echo "running on $URL (pid $(running_pid))"
            else echo "not running"; fi
            return ;;
        start) ;;
        *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
    esac
    command -v curl >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl
    mkdir -p "$CACHE"
    chmod 700 "$CACHE"  # secrets, and a metadata database holding the role's password
    install_superset
    initialise_superset
    prepare_role
    check_tcp_login
    start_superset
    load_dashboard
    say "dashboard: $URL/superset/dashboard/credit-risk/"
    echo "log in as admin, password in $CACHE/admin_password"
    echo "stop with: $0 stop"
}

main "$@"
