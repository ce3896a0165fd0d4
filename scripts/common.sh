# Shared helpers for the scripts; source it, don't run it.
# Works as root and as an ordinary user (with sudo for system changes).

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION_TAG="$(sed -n 's/^versions *= *\["\(pg[0-9]*\)".*/\1/p' "$REPO/pgrx-config.toml")"
PG_CONFIG="${PG_CONFIG:-$(sed -n "s/^$PG_VERSION_TAG *= *\"\\(.*\\)\"/\\1/p" "$REPO/pgrx-config.toml")}"
PG_MAJOR="${PG_VERSION_TAG#pg}"
export PG_CONFIG PG_MAJOR PG_VERSION_TAG
PG_BINDIR="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_SOCKET=/var/run/postgresql

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# Run as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Run as the postgres OS user (PostgreSQL refuses to run as root, and the
# system cluster authenticates local connections by OS user).
as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"
    elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
    else sudo -u postgres "$@"; fi
}

# psql on the system cluster as its superuser; reads SQL from stdin when
# given no -c/-f, so files need not be readable by the postgres user.
pg() {
    as_postgres env PGHOST="$PG_SOCKET" psql -X -v ON_ERROR_STOP=1 "$@"
}

# Install cargo-pgrx (if missing), build the extension in release mode and
# install it into the PostgreSQL named by pgrx-config.toml.
install_extension() {
    say "building and installing credit_scoring into $PG_CONFIG"
    local sudo_flag=()
    [ "$(id -u)" -eq 0 ] || sudo_flag=(--sudo)
    # Unlink the old library first: copying over it in place would change
    # the pages running backends have mapped (and can crash them); a new
    # file leaves them on the old one until they reconnect.
    local lib
    lib="$("$PG_CONFIG" --pkglibdir)/credit_scoring.so"
    [ -e "$lib" ] && as_root rm -f "$lib"
    (cd "$REPO" && cargo pgrx install --release --pg-config "$PG_CONFIG" "${sudo_flag[@]}")
}

start_cluster() {
    if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_MAJOR" '$1==v && $2=="main"' | grep -q online; then
        say "starting the PostgreSQL $PG_MAJOR cluster"
        if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main"' | grep -q .; then
            as_root pg_createcluster "$PG_MAJOR" main
        fi
        as_root pg_ctlcluster "$PG_MAJOR" main start
    fi
}
