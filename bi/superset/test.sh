#!/usr/bin/env bash
# The dashboard's test, as CI runs it:
#
#   bi/superset/test.sh
#
# 1. the demo database credit_demo (scripts/demo.sh: a portfolio, a month of
#    income changes, open alerts) is there, else the demo is run;
# 2. bi/superset/run.sh installs (first time) and starts Superset, loads the
#    dashboard, and is run a second time to prove it idempotent;
# 3. check.py: every chart's chart-data API rows equal the view's rows in
#    psql; the read-only role cannot read the application's tables nor the
#    extension's tables; headless Chromium screenshots the dashboard into
#    docs/dashboard.png and the test checks that every chart was drawn;
# 4. Superset is stopped again (if this test started it).
#
# Takes about 1 minute once Superset is installed; the first run installs it
# (about 2 to 4 minutes more, from PyPI) and Debian's chromium, chromium-driver
# and fonts-dejavu-core when they are missing. Exits non-zero on any failure.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)/common.sh"

HERE="$REPO/bi/superset"
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export CREDIT_SUPERSET_HOME="${CREDIT_SUPERSET_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/credit_scoring/superset}"
export CREDIT_DB="${CREDIT_DB:-credit_demo}"
export CREDIT_BI_ROLE="${CREDIT_BI_ROLE:-credit_bi}"
PORT="${SUPERSET_PORT:-8088}"
CACHE="$CREDIT_SUPERSET_HOME"
t_start=$(date +%s)
timings=()
lap() { # lap NAME START
    timings+=("$1 $(( $(date +%s) - $2 )) s")
}

# --- 1. the demo data
t0=$(date +%s)
views_present() {
    [ "$(pg -d "$CREDIT_DB" -tAc "SELECT count(*) FROM pg_views WHERE schemaname = 'credit' AND viewname IN
        ('current_scores', 'portfolio_summary', 'segment_migration', 'decision_summary', 'open_alerts')" \
        2>/dev/null)" = 5 ]
}
if ! pg -tAc "SELECT 1 FROM pg_database WHERE datname = '$CREDIT_DB'" 2>/dev/null | grep -q 1 || ! views_present; then
    [ "$CREDIT_DB" = credit_demo ] || { echo "database $CREDIT_DB lacks the extension's views" >&2; exit 1; }
    say "credit_demo is missing or predates the views: running scripts/demo.sh"
    "$REPO/scripts/demo.sh" >"${TMPDIR:-/tmp}/credit_demo.log" 2>&1 \
        || { tail -40 "${TMPDIR:-/tmp}/credit_demo.log" >&2; exit 1; }
    lap demo "$t0"
fi

# --- the browser (Debian's packages)
t0=$(date +%s)
missing=()
for p in chromium chromium-driver fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    as_root apt-get update -q >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    lap "apt-get install" "$t0"
fi

# --- 2. Superset with the dashboard, twice
started_here=false
"$HERE/run.sh" status | grep -q '^running' || started_here=true
cleanup() {
    if $started_here; then "$HERE/run.sh" stop >/dev/null || true; fi
}
trap cleanup EXIT

t0=$(date +%s)
"$HERE/run.sh"
lap "run.sh (first)" "$t0"
t0=$(date +%s)
"$HERE/run.sh" >/dev/null
lap "run.sh (again)" "$t0"

# --- 3. the checks
say "checking the dashboard"
t0=$(date +%s)
rc=0
SUPERSET_URL="http://127.0.0.1:$PORT" \
SUPERSET_ADMIN_PASSWORD="$(cat "$CACHE/admin_password")" \
CREDIT_BI_PASSWORD="$(cat "$CACHE/bi_password")" \
CREDIT_PG_PORT="$(pg -tAc 'SHOW port')" \
SCREENSHOT="$REPO/docs/dashboard.png" \
    "$CACHE/venv/bin/python" "$HERE/check.py" || rc=$?
lap checks "$t0"

# --- 4. stop
if $started_here; then
    t0=$(date +%s)
    "$HERE/run.sh" stop
    if curl -fsS -m 3 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
        echo "Superset still answers after run.sh stop" >&2
        rc=1
    fi
    started_here=false
    lap stop "$t0"
fi

lap total "$t_start"
say "timings"
printf '  %s\n' "${timings[@]}"
exit $rc
