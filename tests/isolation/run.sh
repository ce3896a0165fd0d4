#!/usr/bin/env bash
#
# Run the concurrency suite (tests/isolation) with PostgreSQL's own isolation
# tester (pg_isolation_regress + isolationtester) against a running server
# that has credit_scoring installed.
#
# usage: tests/isolation/run.sh [--use-existing] [--bless] [SPEC ...]
#
#   SPEC ...         run only these specs (specs/SPEC.spec); default: every
#                    spec in ./schedule, in order
#   --use-existing   keep the database instead of dropping and re-creating
#                    it (credit_scoring and schema credit in it are dropped
#                    and the extension created afresh)
#   --bless          after the run, copy results/*.out over expected/*.out
#                    for the specs that ran, to be reviewed with git diff
#
# Each spec creates its own tables in its setup and drops them (and their
# history and alerts) in its teardown; the extension itself is created by
# pg_isolation_regress --load-extension=credit_scoring when it creates the
# database (or by this script with --use-existing).
#
# The server is found the usual libpq way: PGHOST, PGPORT, PGUSER (and
# PGPASSWORD or ~/.pgpass); the role needs to be able to create databases
# and the (untrusted) extension, i.e. a superuser.  As root on a Debian-style
# install:
#   PGHOST=/var/run/postgresql PGUSER=postgres tests/isolation/run.sh
# (as root, PGUSER defaults to postgres when root itself cannot log in).
# When root cannot log in as PGUSER (peer authentication on the Unix
# socket) but the OS user PGUSER can, psql and pg_isolation_regress are run
# as that OS user (runuser), in a scratch directory it owns; results/,
# regression.diffs and regression.out are copied back here afterwards.
#
# pg_isolation_regress and the isolationtester binary it runs live in
# $(pg_config --pkglibdir)/pgxs/src/test/isolation/; on Debian both are
# shipped by the postgresql-client-15 package (not by
# postgresql-server-dev-15, which ships pgxs and pg_regress).
#
# Environment:
#   PG_CONFIG          pg_config of the server's installation (default: the
#                      one on PATH); pg_isolation_regress and psql are taken
#                      from it
#   ISOLATION_DBNAME   test database (default credit_isolation); it is
#                      dropped and re-created unless --use-existing is given
#   ISOLATION_OUTPUTDIR  where results/, regression.diffs and regression.out
#                      go (default: this directory; a temporary directory if
#                      this one is not writable)
#
# Exit status: 0 all specs passed, 1 some failed (regression.diffs is
# printed), 2 the specs could not be run.
#
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
schedule="$here/schedule"
extension=credit_scoring
dbname=${ISOLATION_DBNAME:-credit_isolation}
PG_CONFIG=${PG_CONFIG:-pg_config}

use_existing=false
bless=false
tests=()
for arg in "$@"; do
    case "$arg" in
        --use-existing) use_existing=true ;;
        --bless)        bless=true ;;
        -h|--help)      sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        -*)             echo "run.sh: unknown option $arg" >&2; exit 2 ;;
        *)              t=${arg##*/}; tests+=("${t%.spec}") ;;
    esac
done

die() { echo "run.sh: $*" >&2; exit 2; }

command -v "$PG_CONFIG" >/dev/null 2>&1 || die "pg_config not found (set PG_CONFIG)"
bindir=$("$PG_CONFIG" --bindir)
isodir="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation"
pg_isolation_regress="$isodir/pg_isolation_regress"
[ -x "$pg_isolation_regress" ] || die "pg_isolation_regress not found at $pg_isolation_regress (on Debian it comes with postgresql-client-<version>)"
# pg_isolation_regress runs the isolationtester found beside itself.
[ -x "$isodir/isolationtester" ] || die "isolationtester not found at $isodir/isolationtester (on Debian it comes with postgresql-client-<version>)"
psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1)

# The schedule and specs/ must agree, so that a new spec is never silently
# skipped and a listed spec never silently missing.
scheduled=$(sed -n 's/^test:[[:space:]]*//p' "$schedule" | tr -s ' \t' '\n\n' | sed '/^$/d')
for f in "$here"/specs/*.spec; do
    t=$(basename "$f" .spec)
    grep -qxF "$t" <<<"$scheduled" || die "specs/$t.spec is not listed in $schedule"
done
while read -r t; do
    [ -f "$here/specs/$t.spec" ] || die "$schedule lists $t but specs/$t.spec does not exist"
done <<<"$scheduled"
for t in "${tests[@]+"${tests[@]}"}"; do
    grep -qxF "$t" <<<"$scheduled" || die "no spec named $t (see $schedule)"
done

# Is the server there?  As root, fall back to running the client programs as
# the OS user named by PGUSER when peer authentication demands it.
as_user=()
can_connect() { "${as_user[@]+"${as_user[@]}"}" "${psql[@]}" -d postgres -At -c 'SELECT 1' >/dev/null 2>&1; }
# Root with no PGUSER: PostgreSQL's own superuser, postgres, as on Debian.
if [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ] && ! can_connect \
        && id -u postgres >/dev/null 2>&1; then
    export PGUSER=postgres
fi
if ! can_connect && [ "$(id -u)" = 0 ] && [ -n "${PGUSER:-}" ] \
        && [ "$PGUSER" != root ] && id -u "$PGUSER" >/dev/null 2>&1; then
    if command -v runuser >/dev/null 2>&1; then
        as_user=(runuser -u "$PGUSER" --)
    else
        as_user=(sudo -E -u "$PGUSER" --)
    fi
    if can_connect; then
        echo "run.sh: connecting as OS user $PGUSER (peer authentication)"
    else
        as_user=()
    fi
fi
if ! can_connect; then
    echo "run.sh: cannot connect to the server (PGHOST=${PGHOST:-<default>} PGPORT=${PGPORT:-<default>} PGUSER=${PGUSER:-$(id -un)}):" >&2
    "${psql[@]}" -d postgres -At -c 'SELECT 1' >&2 || true
    exit 2
fi
run() { "${as_user[@]+"${as_user[@]}"}" "$@"; }

# Can the server load the extension?
available=$(run "${psql[@]}" -d postgres -At \
    -c "SELECT count(*) FROM pg_available_extensions WHERE name = '$extension'")
[ "$available" = 1 ] || die "extension $extension is not installed in the server's share directory ($(run "${psql[@]}" -d postgres -At -c 'SELECT version()')); install it first (cargo pgrx install --pg-config \"\$(which $PG_CONFIG)\")"

# Somewhere writable for results/: pg_isolation_regress writes there as the
# OS user it runs as (the caller, or PGUSER when switched above).
outputdir=${ISOLATION_OUTPUTDIR:-$here}
copy_back=
if [ ${#as_user[@]} -gt 0 ] && [ -z "${ISOLATION_OUTPUTDIR:-}" ]; then
    copy_back=$here
    outputdir=$(mktemp -d "${TMPDIR:-/tmp}/credit_isolation.XXXXXX")
    scratch=$outputdir
    trap 'rm -rf "$scratch"' EXIT
    chown "$PGUSER" "$outputdir"
else
    mkdir -p "$outputdir" 2>/dev/null || true
    if [ ! -w "$outputdir" ]; then
        outputdir=$(mktemp -d "${TMPDIR:-/tmp}/credit_isolation.XXXXXX")
        echo "run.sh: $here is not writable, writing results to $outputdir"
    fi
fi
outputdir=$(cd "$outputdir" && pwd)
rm -f "$outputdir/regression.diffs" "$outputdir/regression.out"

# --use-existing: pg_isolation_regress neither creates the database nor
# loads the extension; do both here, with the settings it would have given
# the database (C messages and locale, so the expected files match).
if $use_existing; then
    exists=$(run "${psql[@]}" -d postgres -At -v db="$dbname" \
        <<<"SELECT count(*) FROM pg_database WHERE datname = :'db';")
    if [ "$exists" = 0 ]; then
        run "${psql[@]}" -d postgres -v db="$dbname" <<'SQL'
CREATE DATABASE :"db" TEMPLATE = template0 LC_COLLATE = 'C' LC_CTYPE = 'C';
ALTER DATABASE :"db" SET lc_messages TO 'C';
ALTER DATABASE :"db" SET lc_monetary TO 'C';
ALTER DATABASE :"db" SET lc_numeric TO 'C';
ALTER DATABASE :"db" SET lc_time TO 'C';
ALTER DATABASE :"db" SET bytea_output TO 'hex';
ALTER DATABASE :"db" SET timezone_abbreviations TO 'Default';
SQL
    fi
    run "${psql[@]}" -d "$dbname" <<SQL
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS $extension CASCADE;
DROP SCHEMA IF EXISTS credit CASCADE;
CREATE EXTENSION $extension;
SQL
fi

args=(
    --bindir="$bindir"
    --inputdir="$here"
    --outputdir="$outputdir"
    --dbname="$dbname"
    --no-locale            # C collation in the test database: stable ORDER BY
)
if $use_existing; then
    args+=(--use-existing)
else
    args+=(--load-extension="$extension")
fi
if [ ${#tests[@]} -eq 0 ]; then
    args+=(--schedule="$schedule")
    ran=$scheduled
else
    ran=$(printf '%s\n' "${tests[@]}" | awk '!seen[$0]++')
    # shellcheck disable=SC2206
    args+=($ran)
fi

# pg_isolation_regress cannot compare against a missing expected file (it
# gives up).  --bless starts those from empty; otherwise say what is missing.
missing=()
while read -r t; do
    [ -f "$here/expected/$t.out" ] || missing+=("$t")
done <<<"$ran"
if [ ${#missing[@]} -gt 0 ]; then
    if $bless; then
        for t in "${missing[@]}"; do : >"$here/expected/$t.out"; done
    else
        die "no expected output for: ${missing[*]} (create it with --bless, then review it)"
    fi
fi

status=0
(cd "$outputdir" && run "$pg_isolation_regress" "${args[@]}") || status=$?
if [ -n "$copy_back" ]; then
    rm -rf "$copy_back/results"
    cp -r "$outputdir/results" "$copy_back/results" 2>/dev/null || true
    for f in regression.diffs regression.out; do
        rm -f "$copy_back/$f"
        [ -f "$outputdir/$f" ] && cp "$outputdir/$f" "$copy_back/$f"
    done
    rm -rf "$outputdir"
    outputdir=$copy_back
    echo "run.sh: results/, regression.out and regression.diffs copied to $copy_back"
fi
[ "$status" -eq 2 ] && die "pg_isolation_regress could not run the specs (see above)"

if $bless; then
    while read -r t; do
        if [ -f "$outputdir/results/$t.out" ]; then
            cp "$outputdir/results/$t.out" "$here/expected/$t.out"
            echo "blessed expected/$t.out"
        fi
    done <<<"$ran"
    echo "run.sh: review the new expected output (git diff -- $here/expected) before committing"
    exit 0
fi

if [ "$status" -ne 0 ]; then
    if [ -s "$outputdir/regression.diffs" ]; then
        echo
        echo "======== $outputdir/regression.diffs ========"
        cat "$outputdir/regression.diffs"
    fi
    exit "$status"
fi
