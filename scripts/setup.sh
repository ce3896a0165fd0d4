#!/usr/bin/env bash
# Installs whatever is missing to build and test credit_scoring on Debian:
# PostgreSQL server + dev headers, clang, sudo, cargo-pgrx 0.18.1, and
# pgrx's configuration for the pg_config named in pgrx-config.toml.
# Idempotent: a second run changes nothing and takes seconds.
source "$(dirname "$0")/common.sh"

packages=(postgresql-"$PG_MAJOR" postgresql-server-dev-"$PG_MAJOR" postgresql-contrib libclang-dev clang sudo
          python3 python3-psycopg2 libpostgresql-jdbc-java)
# A JDK for the JDBC client test, unless one is there already.
command -v javac >/dev/null 2>&1 || packages+=(default-jdk-headless)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! cargo pgrx --version 2>/dev/null | grep -q '0\.18\.1'; then
    say "installing cargo-pgrx 0.18.1 (about 5 minutes)"
    cargo install cargo-pgrx --version 0.18.1 --locked
fi

pgrx_home="${PGRX_HOME:-$HOME/.pgrx}"
if ! grep -qs "^$PG_VERSION_TAG *= *\"$PG_CONFIG\"" "$pgrx_home/config.toml"; then
    say "configuring pgrx for $PG_CONFIG"
    cargo pgrx init --"$PG_VERSION_TAG" "$PG_CONFIG"
fi

start_cluster
say "prerequisites ready"
