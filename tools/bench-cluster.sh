#!/usr/bin/env bash
# Intake throughput on PostgreSQL with one `writ serve` and with two sharing
# one database and one objects folder, and their ratio.
#
#   tools/bench-cluster.sh postgres://writ@127.0.0.1:55432/postgres [ORDERS] [CLIENTS]
#
# Uses target/release/writ (built with `cargo build --release` first) or
# $WRIT. Each run gets a fresh database on the server. All servers run on this
# machine, so on a small machine the second server competes with the first
# (and with PostgreSQL) for the same cores: the ratio shows what sharing
# costs here, not what a second machine would add. With PIN_CPUS=1 each
# server is held to one core of its own (the first server to core 0, the
# second to core 1), as if each had a machine of one core; PostgreSQL and
# the load generator still float over all cores.
set -euo pipefail
pg=${1:?usage: $0 POSTGRES_URL [ORDERS] [CLIENTS]}
orders=${2:-4000}
clients=${3:-64}
writ=${WRIT:-$(dirname "$0")/../target/release/writ}
base=${pg%/*}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# Starts a server; sets $url.
start() { # cpu data database objects [--demo]
    local cpu=$1
    shift
    local log="$1.log" pin=()
    if [ -n "${PIN_CPUS:-}" ]; then pin=(taskset -c "$((cpu % $(nproc)))"); fi
    "${pin[@]}" "$writ" serve --listen 127.0.0.1:0 --rate-limit 0 --data "$1" --database "$2" --objects "$3" ${4:-} \
        >/dev/null 2>"$log" &
    pids+=($!)
    url=""
    for _ in $(seq 1 600); do
        url=$(sed -n 's/^listening on //p' "$log")
        [ -n "$url" ] && return
        sleep 0.1
    done
    echo "server did not start: $(cat "$log")" >&2
    exit 1
}

# Runs the benchmark against N servers; sets $result.
run() { # n
    local n=$1 db="writ_bench_$(date +%s%N)"
    psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
    local urls=()
    start 0 "$tmp/$n-a" "$base/$db" "$tmp/$n-objects" --demo; urls+=("$url")
    for i in $(seq 2 "$n"); do
        start "$((i - 1))" "$tmp/$n-$i" "$base/$db" "$tmp/$n-objects"; urls+=("$url")
    done
    local list
    list=$(IFS=,; echo "${urls[*]}")
    result=$("$writ" bench intake --server "$list" --data "$tmp/$n-a" --orders "$orders" --clients "$clients" --json)
    stop_all
}

# SIGTERM, then SIGKILL whatever has not stopped within 20 s.
stop_all() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for _ in $(seq 1 200); do
        local alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    pids=()
}

run 1; one=$result
run 2; two=$result
echo "one server:  $one"
echo "two servers: $two"
python3 - "$one" "$two" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
print(f"throughput ratio (two / one): {b['orders_per_second'] / a['orders_per_second']:.2f}")
PY
