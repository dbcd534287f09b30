#!/usr/bin/env bash
# Sourced by .ci/run: starts a local S3-compatible server (moto, from PyPI, in
# a virtualenv under ~/.cache/writ-ci) for the object storage tests and exports
# WRIT_TEST_S3 (the endpoint) with the AWS_* variables a client needs;
# `stop_s3` stops it. Never fails the run by itself: without it the S3 tests
# say that they were skipped, or fail when WRIT_CI=1.

# Whether something listens on a local port.
port_open() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
PY
}

start_s3() {
    local venv="${WRIT_CI_CACHE:-$HOME/.cache/writ-ci}/moto"
    local port=55440
    if port_open "$port"; then
        # One left running by an earlier run on this machine.
        echo "port $port is taken: using the S3 server already there"
    else
        if [ ! -x "$venv/bin/moto_server" ]; then
            python3 -m venv "$venv" || return 0
            "$venv/bin/pip" install -q "moto[server]>=5,<6" || return 0
        fi
        S3_LOG=${S3_LOG:-$(mktemp)}
        # In a session of its own, so that no signal meant for the tests'
        # process group reaches it.
        setsid "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >>"$S3_LOG" 2>&1 &
        S3_PID=$!
        # A first start imports boto and compiles its modules: allow a minute.
        for _ in $(seq 1 600); do
            port_open "$port" && break
            kill -0 "$S3_PID" 2>/dev/null || break
            sleep 0.1
        done
        port_open "$port" || { echo "the S3 server did not start; its log:"; tail -n 30 "$S3_LOG"; }
    fi
    export WRIT_TEST_S3="http://127.0.0.1:$port"
    export AWS_ACCESS_KEY_ID=writ-test AWS_SECRET_ACCESS_KEY=writ-test AWS_REGION=us-east-1
    export AWS_ENDPOINT="$WRIT_TEST_S3" AWS_ALLOW_HTTP=true
    echo "S3 for tests: $WRIT_TEST_S3"
}

# Before the S3 tests: the server still answers, or it is started again
# (with what it printed before it stopped).
ensure_s3() {
    [ -n "${WRIT_TEST_S3:-}" ] || return 0
    if port_open "${WRIT_TEST_S3##*:}"; then
        echo "S3 server answers at $WRIT_TEST_S3"
        return 0
    fi
    echo "the S3 server at $WRIT_TEST_S3 does not answer; its log:"
    [ -n "${S3_LOG:-}" ] && tail -n 30 "$S3_LOG"
    if [ -n "${S3_PID:-}" ]; then
        wait "$S3_PID" 2>/dev/null
        echo "(it exited with status $?)"
    fi
    start_s3
}

stop_s3() {
    if [ -n "${S3_PID:-}" ]; then
        kill "$S3_PID" 2>/dev/null || true
        wait "$S3_PID" 2>/dev/null || true
    fi
}
