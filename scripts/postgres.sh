#!/usr/bin/env bash
# A real PostgreSQL server for evoforge's tests and benchmarks, on 127.0.0.1 (port $EVOFORGE_PG_PORT, default 55432),
# with its data in $EVOFORGE_PG_DATA (default /tmp/evoforge-postgres-PORT: the server runs as the postgres user when
# we are root, and a checkout under a private home would be out of its reach). Installs the Debian package if missing.
#   scripts/postgres.sh start   # idempotent; prints the SQLAlchemy URL of the test database
#   scripts/postgres.sh stop
#   scripts/postgres.sh url
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${EVOFORGE_PG_PORT:-55432}"
DATA="${EVOFORGE_PG_DATA:-/tmp/evoforge-postgres-$PORT}"
URL="postgresql+psycopg://evoforge:evoforge@127.0.0.1:$PORT/evoforge_test"

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$found" ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
            found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
        else
            echo "postgres: PostgreSQL is not installed (apt-get install postgresql)" >&2
            exit 1
        fi
    fi
    echo "$found"
}

# The server refuses to run as root: run it as the postgres user (the Debian package creates it) when we are root.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    local bin; bin=$(bin_dir)
    mkdir -p "$DATA"
    if [ "$(id -u)" = 0 ]; then chown postgres "$DATA"; chmod 700 "$DATA"; fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
            -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c max_connections=200" start >/dev/null
    fi
    psql_() { as_owner "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
    psql_ -c "SELECT 1 FROM pg_roles WHERE rolname='evoforge'" | grep -q 1 ||
        psql_ -c "CREATE ROLE evoforge LOGIN PASSWORD 'evoforge' CREATEDB"
    psql_ -c "SELECT 1 FROM pg_database WHERE datname='evoforge_test'" | grep -q 1 ||
        psql_ -c "CREATE DATABASE evoforge_test OWNER evoforge"
    echo "$URL"
}

stop() {
    local bin; bin=$(bin_dir)
    [ -f "$DATA/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    url) echo "$URL" ;;
    *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
