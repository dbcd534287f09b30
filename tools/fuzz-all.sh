#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz on the stable toolchain) for a
# while each, one after the other, and prints a table of CPU seconds and
# results for docs/reliability.md.
#
#   tools/fuzz-all.sh [SECONDS_PER_TARGET] [TARGET...]   (default 3600, all)
#
# SECONDS_PER_TARGET is wall-clock time, unless FUZZ_BUDGET=cpu: then each
# target runs until it has used that many CPU seconds (measured from
# /proc), however busy the machine is, so that the figures recorded in
# docs/reliability.md are CPU-hours even on a shared machine.
#
# Limits: no allocation over 64 MiB (-malloc_limit_mb), no input slower than
# 10 s (-timeout). Crashes land in fuzz/artifacts/TARGET/; the corpus grows
# in a scratch copy, so the committed seeds stay small.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-3600}
shift || true
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR_FUZZ:-/work/target-fuzz}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir .)
fi
# Rust code here forbids `unsafe`: AddressSanitizer would find nothing the
# compiler has not ruled out, and doubles the run time; libFuzzer still
# catches panics, hangs and memory over the limit.
cargo fuzz build --fuzz-dir . -s none

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '%-16s %8s %10s %8s  %s\n' target cpu_s execs corpus result
failed=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t" "artifacts/$t"
    cp -r "corpus/$t/." "$scratch/$t/" 2>/dev/null || true
    log="$scratch/$t.log"
    start=$(date +%s)
    status=0
    if [ "${FUZZ_BUDGET:-wall}" = cpu ]; then
        # The fuzzer itself, so that its CPU time can be read; stopped with
        # SIGINT (libFuzzer's exit code 72) once it has used the budget.
        bin="$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t"
        /usr/bin/time -f '%U %S' -o "$scratch/$t.time" \
            "$bin" "$scratch/$t" -max_total_time=$((seconds * 50)) -malloc_limit_mb=64 \
            -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
            -artifact_prefix="artifacts/$t/" >"$log" 2>&1 &
        timer=$!
        budget_hit=0
        while kill -0 "$timer" 2>/dev/null; do
            sleep 5
            fuzzer=$(pgrep -P "$timer" -x "$t" || true)
            [ -n "$fuzzer" ] || continue
            used=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) / hz}' "/proc/$fuzzer/stat" 2>/dev/null || echo 0)
            if [ "$used" -ge "$seconds" ]; then
                budget_hit=1
                kill -INT "$fuzzer" 2>/dev/null || true
                break
            fi
        done
        wait "$timer" || status=$?
        if [ "$budget_hit" = 1 ] && [ "$status" = 72 ]; then status=0; fi
    else
        /usr/bin/time -f '%U %S' -o "$scratch/$t.time" \
            cargo fuzz run --fuzz-dir . -s none "$t" "$scratch/$t" -- \
            -max_total_time="$seconds" -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || status=$?
    fi
    cpu=$(tail -n 1 "$scratch/$t.time" 2>/dev/null | awk '{printf "%d", $1 + $2}' || echo "?")
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
    corpus=$(ls "$scratch/$t" | wc -l)
    if [ "$status" -eq 0 ]; then
        result="ok ($(( $(date +%s) - start )) s wall)"
    else
        result="FAILED (exit $status): $(grep -m1 -E '^==[0-9]+== ERROR|panicked at|deadly signal|out-of-memory|timeout' "$log" || tail -n 1 "$log")"
        failed=1
        tail -n 40 "$log" >&2
    fi
    printf '%-16s %8s %10s %8s  %s\n' "$t" "$cpu" "${execs:-?}" "$corpus" "$result"
done
exit $failed
