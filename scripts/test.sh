#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   lint (rustfmt, clippy) → pure-Rust core tests (golden vectors, property
#   tests) → #[pg_test]s in a throwaway cluster → install into the system
#   PostgreSQL → pg_regress sessions.
# Works as root (PostgreSQL itself then runs as user postgres) and as an
# ordinary user with sudo.
source "$(dirname "$0")/common.sh"

"$REPO/scripts/setup.sh"
cd "$REPO"

say "cargo fmt --check"
cargo fmt --all --check

say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --features "$PG_VERSION_TAG pg_test" -- -D warnings
cargo clippy -p credit_core --all-targets -- -D warnings

say "core: unit, golden-vector and property tests"
cargo test -p credit_core

say "#[pg_test]s"
if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: pgrx runs the test cluster as
    # postgres, in a data directory postgres owns (outside root's home).
    pgdata_parent=/var/tmp/credit_scoring-pgrx-test
    mkdir -p "$pgdata_parent"
    chown postgres "$pgdata_parent"
    cargo pgrx test "$PG_VERSION_TAG" --runas postgres --pgdata "$pgdata_parent/data"
else
    cargo pgrx test "$PG_VERSION_TAG"
fi

install_extension
start_cluster

say "pg_regress"
PGHOST="$PG_SOCKET" PGUSER=postgres "$REPO/tests/pg_regress/run.sh"

say "isolation specs (concurrent sessions)"
PGHOST="$PG_SOCKET" PGUSER=postgres "$REPO/tests/isolation/run.sh"

say "upgrade path: previous version + data, ALTER EXTENSION UPDATE, same as a fresh install"
PGHOST="$PG_SOCKET" PGUSER=postgres "$REPO/tests/upgrade/run.sh"

say "BI clients: JDBC (what Metabase uses) and psycopg2 over TCP with a read-only role"
PGHOST="$PG_SOCKET" PGUSER=postgres "$REPO/tests/clients/run.sh"

say "all tests passed"
