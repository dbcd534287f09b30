#!/usr/bin/env bash
# CI's short fuzzing pass: every target in fuzz/ for a few seconds from its
# seed corpus (tools/fuzz-all.sh runs them for an hour each). A crash, a
# hang over 10 s or an allocation over 64 MiB fails the step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR_FUZZ=${CARGO_TARGET_DIR_FUZZ:-$PWD/target/fuzz}
exec tools/fuzz-all.sh "${WRIT_FUZZ_SECONDS:-15}"
