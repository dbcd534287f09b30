#!/usr/bin/env bash
# Sourced by .ci/run: starts a private PostgreSQL cluster for the case store's
# tests and exports WRIT_TEST_POSTGRES; `stop_postgres` stops it. Installs
# PostgreSQL from Debian when missing. Never fails the run: without a
# cluster the PostgreSQL tests say that they were skipped.

start_postgres() {
    local bin=""
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin="$d"; done
    if [ -z "$bin" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 0
        for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin="$d"; done
    fi
    [ -n "$bin" ] || return 0
    export WRIT_TEST_POSTGRES="postgres://writ@127.0.0.1:55432/postgres"
    # A cluster left running by an earlier run on this machine: use it.
    if "$bin/psql" "$WRIT_TEST_POSTGRES" -qAtc "SELECT 1" >/dev/null 2>&1; then
        PG_BIN="$bin"
        echo "PostgreSQL for tests (already running): $WRIT_TEST_POSTGRES"
        return 0
    fi
    unset WRIT_TEST_POSTGRES
    id postgres >/dev/null 2>&1 || return 0
    PG_DIR=$(mktemp -d)
    chown postgres "$PG_DIR"
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/pg" -A trust -U writ >/dev/null || return 0
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/pg" \
        -o "-k $PG_DIR -p 55432 -c listen_addresses=127.0.0.1" -l "$PG_DIR/pg.log" -w start >/dev/null || return 0
    PG_CTL="$bin/pg_ctl"
    PG_BIN="$bin"
    export WRIT_TEST_POSTGRES="postgres://writ@127.0.0.1:55432/postgres"
    echo "PostgreSQL for tests: $WRIT_TEST_POSTGRES"
}

# Drops every database but the built-in ones: each test makes one of its
# own, and a few hundred of them fill a small disk.
drop_test_databases() {
    [ -n "${PG_BIN:-}" ] && [ -n "${WRIT_TEST_POSTGRES:-}" ] || return 0
    local db
    for db in $("$PG_BIN/psql" "$WRIT_TEST_POSTGRES" -qAtc \
        "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')" 2>/dev/null); do
        "$PG_BIN/psql" "$WRIT_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}

# The end of the server's own log, to explain a failure.
postgres_log_tail() {
    if [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/pg.log" ]; then
        echo "-- the last lines of PostgreSQL's log ($PG_DIR/pg.log):"
        grep -v 'idle-session timeout' "$PG_DIR/pg.log" | tail -n 25
    fi
}

stop_postgres() {
    if [ -n "${PG_CTL:-}" ]; then
        runuser -u postgres -- "$PG_CTL" -D "$PG_DIR/pg" -m fast stop >/dev/null || true
        rm -rf "$PG_DIR"
    fi
}
