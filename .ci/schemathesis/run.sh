#!/usr/bin/env bash
# Runs schemathesis (pinned) against a `writ serve --demo` server as every
# role: anonymous, a reviewer, an approver, an admin, and the signing demo
# agency (hooks.py), with every check. The bar is no failure and no error.
#
#   .ci/schemathesis/run.sh PATH/TO/writ [MAX_EXAMPLES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
writ=${1:?give the path of the writ binary}
examples=${2:-50}
venv=${WRIT_ST_VENV:-$here/../../target/schemathesis-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q schemathesis==4.32.5 cryptography==50.0.2
fi
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port
"$writ" serve --demo --rate-limit 0 --data "$data" --listen "127.0.0.1:$port" >"$data/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 60); do
    curl -sf "$url/healthz" >/dev/null && break
    sleep 1
done
export PYTHONPATH=$here SCHEMATHESIS_HOOKS=hooks WRIT_ST_DATA=$data WRIT_ST_URL=$url WRIT_ST_AGENCY=us-fbi-wfo
WRIT_ST_CASE=$("$venv/bin/python" -c 'import hooks; print(hooks.submit_case())')
export WRIT_ST_CASE
failed=()
for role in anonymous reviewer approver admin agency; do
    printf '\n-- schemathesis as %s\n' "$role"
    if ! WRIT_ST_ROLE=$role "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$url/openapi.json" \
        --checks all --max-examples "$examples" --workers 1 --warnings off --no-color --generation-database none 2>&1 | tee "$data/out.txt" | tail -n 60; then
        failed+=("$role")
    elif [[ "$(tail -n 1 "$data/out.txt")" != *"No issues found"* ]]; then
        failed+=("$role")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "schemathesis found issues as: ${failed[*]}" >&2
    exit 1
fi
echo "schemathesis: no issues found as any role"
