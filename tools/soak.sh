#!/usr/bin/env bash
# The kill soak: runs `writ serve --demo` on one data folder, drives mixed
# traffic at it (signed subpoenas, and search warrants that a reviewer
# approves and an approver confirms, all through the CLI), kills the server
# with SIGKILL at a random moment, starts it again and repeats. At the end
# it lets the outbox drain, stops the server, and counts:
#
# - acknowledged orders (`writ submit` printed a case) whose case row or
#   logged `received` event is missing: lost;
# - acknowledged confirmations (`writ review confirm` succeeded) whose case
#   is not `approved`: lost;
# - `writ check` on the stopped server, every CHECK_EVERY cycles and at the
#   end, and `writ log verify` of the log folder against the previous
#   verified checkpoint (the log only grows: never a fork across kills).
#
#   tools/soak.sh [WRIT_BINARY] [CYCLES]      (default target/release/writ, 100)
#
# Environment: CLIENTS (order senders, default 2; one review client runs
# beside them), MIN_MS and MAX_MS (the kill comes this long after the server
# listens, uniformly; default 300 and 3000), EARLY_ONE_IN (one cycle in this
# many kills the server within a second of its start instead, while it
# recovers; default 10), CHECK_EVERY (default 50), DATA (keep the data
# folder there instead of a scratch folder), KEEP (a folder: copies of the
# data folder where a check failed).
# Exit 1 if anything acknowledged was lost or a check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

writ=${1:-target/release/writ}
cycles=${2:-100}
clients=${CLIENTS:-2}
min_ms=${MIN_MS:-300}
max_ms=${MAX_MS:-3000}
check_every=${CHECK_EVERY:-50}
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed (apt-get install sqlite3)" >&2; exit 2; }
[ -x "$writ" ] || { echo "no writ binary at $writ" >&2; exit 2; }
writ=$(realpath "$writ")

work=$(mktemp -d)
data=${DATA:-$work/data}
server=""
traffic=()
cleanup() {
    [ -n "$server" ] && kill -KILL "$server" 2>/dev/null
    for p in "${traffic[@]}"; do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

start() {
    "$writ" serve --demo --data "$data" --listen 127.0.0.1:0 --rate-limit 0 \
        >/dev/null 2>"$work/server.log" &
    server=$!
    url=""
    for _ in $(seq 1 600); do
        url=$(sed -n 's/^listening on //p' "$work/server.log" | sed -n 1p)
        [ -n "$url" ] && return 0
        kill -0 "$server" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

stop_gently() {
    kill -TERM "$server" 2>/dev/null
    for _ in $(seq 1 400); do
        kill -0 "$server" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=""
}

key="$data/demo/agencies/us-fbi-wfo/signing.key"
yesterday=$(date -u -d 'yesterday' +%Y-%m-%dT%H:%M:%SZ)

subpoena() {
    cat <<EOF
{"reference": "$1", "agency": "us-fbi-wfo", "instrument": "subpoena",
 "legal_basis": "18 U.S.C. § 2703(c)(2)", "issued_by": {"kind": "prosecutor"},
 "issued_at": "$yesterday",
 "targets": [{"kind": "email", "value": "alice@example.com"}],
 "categories": ["subscriber"]}
EOF
}

warrant() {
    cat <<EOF
{"reference": "$1", "agency": "us-fbi-wfo", "instrument": "search_warrant",
 "legal_basis": "18 U.S.C. § 2703(a); Fed. R. Crim. P. 41", "issued_by": {"kind": "judge"},
 "issued_at": "$yesterday", "expires_at": "2099-12-31T00:00:00Z",
 "targets": [{"kind": "email", "value": "alice@example.com"}],
 "categories": ["subscriber", "content"],
 "date_range": {"from": "2026-01-01T00:00:00Z", "to": "2026-10-31T23:59:59Z"}}
EOF
}

# Prints the case id of an acknowledged submission, nothing otherwise (the
# reason goes to the file `refused`).
submit() {
    "$writ" submit --server "$url" --agency us-fbi-wfo --key "$key" --json "$1" 2>"$1.err" |
        sed -nE 's/.*"case" *: *"(c-[0-9a-f]+)".*/\1/p' | sed -n 1p
}

# Sends subpoenas until the server goes away.
order_client() {
    local cycle=$1 client=$2 i=0 case_id
    local file="$work/order-$client.json"
    while :; do
        i=$((i + 1))
        subpoena "SOAK-$cycle-$client-$i" >"$file"
        case_id=$(submit "$file")
        if [ -n "$case_id" ]; then
            echo "$case_id" >>"$work/acked"
        else
            echo "$cycle $(tail -n 1 "$file.err")" >>"$work/refused"
            kill -0 "$server" 2>/dev/null || return 0
        fi
    done
}

# Sends search warrants; a reviewer proposes approval and an approver
# confirms it.
review_client() {
    local cycle=$1 i=0 file="$work/warrant.json" case_id
    while :; do
        i=$((i + 1))
        warrant "SOAK-W-$cycle-$i" >"$file"
        case_id=$(submit "$file")
        if [ -z "$case_id" ]; then
            echo "$cycle $(tail -n 1 "$file.err")" >>"$work/refused"
            kill -0 "$server" 2>/dev/null || return 0
            continue
        fi
        echo "$case_id" >>"$work/acked"
        "$writ" review --server "$url" --token "$rita" approve "$case_id" >/dev/null 2>&1 || {
            kill -0 "$server" 2>/dev/null || return 0
            continue
        }
        if "$writ" review --server "$url" --token "$alex" confirm "$case_id" >/dev/null 2>&1; then
            echo "$case_id" >>"$work/confirmed"
        else
            kill -0 "$server" 2>/dev/null || return 0
        fi
    done
}

# Cases among those in FILE that fail the SQL condition; prints them.
missing() {
    local file=$1 query=$2
    [ -s "$file" ] || return 0
    sqlite3 "$data/writ.db" <<EOF
CREATE TEMP TABLE want (id TEXT PRIMARY KEY);
.mode list
.import $file want
$query
EOF
}

check_failures=0 verify_failures=0 checks=0
since=""
vkey=""
verify() {
    checks=$((checks + 1))
    if ! "$writ" check --data "$data" >"$work/check.out" 2>"$work/check.err"; then
        check_failures=$((check_failures + 1))
        echo "cycle $1: writ check failed:" >&2
        head -n 5 "$work/check.out" >&2
        [ -n "${KEEP:-}" ] && cp -a "$data" "$KEEP/cycle-$1"
    fi
    [ -n "$vkey" ] || vkey=$("$writ" log key --data "$data" 2>/dev/null)
    if "$writ" log verify --dir "$data/objects/log" --vkey "$vkey" ${since:+--since "$since"} \
        >"$work/verified" 2>"$work/verify.err"; then
        cp "$data/objects/log/checkpoint" "$work/since" 2>/dev/null && since="$work/since"
    else
        verify_failures=$((verify_failures + 1))
        echo "cycle $1: writ log verify failed: $(tail -n 1 "$work/verify.err")" >&2
    fi
}

# Seed the demo folder.
start || { cat "$work/server.log" >&2; exit 2; }
stop_gently
users="$data/demo/console-users.txt"
rita=$(awk '$2 == "rita" {print $NF}' "$users")
alex=$(awk '$2 == "alex" {print $NF}' "$users")
[ -n "$rita" ] && [ -n "$alex" ] || { echo "no demo console users in $users" >&2; exit 2; }
touch "$work/acked" "$work/confirmed" "$work/refused"

began=$(date +%s)
no_start=0 early=0 exited=0
# One cycle: start, traffic, SIGKILL at a random moment. One cycle in
# EARLY_ONE_IN kills the server within a second of its start instead, while
# it recovers. Returns 1 when the server did not start.
cycle() {
    local cycle=$1 delay state
    if [ $((RANDOM % ${EARLY_ONE_IN:-10})) -eq 0 ]; then
        "$writ" serve --demo --data "$data" --listen 127.0.0.1:0 --rate-limit 0 \
            >/dev/null 2>"$work/server.log" &
        server=$!
        sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
        kill -KILL "$server"
        wait "$server" 2>/dev/null
        server=""
        early=$((early + 1))
        return 0
    fi
    if ! start; then
        echo "cycle $cycle: the server did not start: $(tail -n 1 "$work/server.log")" >&2
        kill -KILL "$server" 2>/dev/null
        wait "$server" 2>/dev/null
        server=""
        return 1
    fi
    traffic=()
    for c in $(seq 1 "$clients"); do
        order_client "$cycle" "$c" &
        traffic+=($!)
    done
    review_client "$cycle" &
    traffic+=($!)
    delay=$((min_ms + (RANDOM * 32768 + RANDOM) % (max_ms - min_ms + 1)))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    # A server that exited by itself (it is a zombie until waited for) is a
    # finding: its log is kept.
    state=$(awk '{print $3}' "/proc/$server/stat" 2>/dev/null)
    if [ "$state" = Z ] || [ -z "$state" ]; then
        exited=$((exited + 1))
        echo "cycle $cycle: the server exited by itself: $(grep -v '^[a-z]* [a-z]* ' "$work/server.log" | tail -n 2)" >&2
        [ -n "${KEEP:-}" ] && cp "$work/server.log" "$KEEP/server-exited-$cycle.log"
    fi
    kill -KILL "$server"
    wait "$server" 2>/dev/null
    server=""
    for p in "${traffic[@]}"; do wait "$p" 2>/dev/null; done
    traffic=()
}

for cycle in $(seq 1 "$cycles"); do
    if cycle "$cycle"; then
        no_start=0
    else
        no_start=$((no_start + 1))
        [ "$no_start" -ge 3 ] && break
    fi
    if [ $((cycle % check_every)) -eq 0 ]; then
        verify "$cycle"
        printf 'cycle %d: %d acknowledged, %d confirmed, %d refused; %d s\n' "$cycle" \
            "$(wc -l <"$work/acked")" "$(wc -l <"$work/confirmed")" \
            "$(wc -l <"$work/refused")" $(($(date +%s) - began))
    fi
done
done_cycles=$cycle

# Drain: start once more without a kill, let the publisher log the outbox,
# stop with SIGTERM.
if start; then
    sleep 3
    stop_gently
else
    echo "the server does not start after the last kill: $(tail -n 3 "$work/server.log")" >&2
    check_failures=$((check_failures + 1))
fi
verify end

sort -u -o "$work/acked" "$work/acked"
sort -u -o "$work/confirmed" "$work/confirmed"
missing "$work/acked" "SELECT w.id FROM want w WHERE NOT EXISTS (SELECT 1 FROM events e
    WHERE e.case_id = w.id AND e.kind = 'received' AND e.log_index IS NOT NULL);" >"$work/lost"
missing "$work/confirmed" "SELECT w.id FROM want w LEFT JOIN cases c ON c.id = w.id
    WHERE c.status IS NOT 'approved';" >"$work/lost-confirmed"
unlogged=$(sqlite3 "$data/writ.db" "SELECT COUNT(*) FROM events WHERE log_index IS NULL AND state = 'pending'" 2>/dev/null || echo "?")

acked=$(wc -l <"$work/acked")
confirmed=$(wc -l <"$work/confirmed")
lost=$(wc -l <"$work/lost")
lost_confirmed=$(wc -l <"$work/lost-confirmed")
echo "cycles: $done_cycles of $cycles (SIGKILL each; $early of them while starting), $(($(date +%s) - began)) s"
echo "orders acknowledged: $acked; lost: $lost"
echo "confirmations acknowledged: $confirmed; lost: $lost_confirmed"
echo "submissions refused or cut off by a kill: $(wc -l <"$work/refused")"
cut -d' ' -f2- "$work/refused" | sed -E 's/c-[0-9a-f]+/c-…/g; s/[0-9]+/N/g' | sort | uniq -c |
    sort -rn | sed -n 1,5p | sed 's/^/  /'
echo "servers that exited by themselves before the kill: $exited"
echo "events still pending after the drain: $unlogged"
echo "writ check: $((checks - check_failures)) of $checks passed; writ log verify: $((checks - verify_failures)) of $checks passed"
for f in lost lost-confirmed; do
    [ -s "$work/$f" ] && { echo "$f (first 10):"; head -n 10 "$work/$f"; } >&2
done
[ "$lost" -eq 0 ] && [ "$lost_confirmed" -eq 0 ] && [ "$check_failures" -eq 0 ] && [ "$exited" -eq 0 ] &&
    [ "$verify_failures" -eq 0 ] && [ "$done_cycles" -eq "$cycles" ]
