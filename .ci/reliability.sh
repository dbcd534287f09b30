#!/usr/bin/env bash
# CI's reliability steps (docs/reliability.md), kept short:
#
# - every fuzz target in fuzz/ for a few seconds from its seed corpus
#   (tools/fuzz-all.sh runs them for an hour each); a crash, a hang over
#   10 s or an allocation over 64 MiB fails the step;
# - a few injected system-call faults (tools/faults.sh runs the whole
#   table): no acknowledged order lost, `writ check` passes after each,
#   and a large package whose early sync fails is not delivered;
# - a few kills at the Nth call (MODE=kill), checked the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR_FUZZ=${CARGO_TARGET_DIR_FUZZ:-$PWD/target/fuzz}
tools/fuzz-all.sh "${WRIT_FUZZ_SECONDS:-15}"
command -v strace >/dev/null || { apt-get update -qq && apt-get install -y -qq strace sqlite3 >/dev/null; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
SYSCALLS="fsync rename" ERRORS="EIO ENOSPC" tools/faults.sh "${CARGO_TARGET_DIR:-target}/debug/writ" 1 3
# With fdatasync: also a 64 MiB package whose first early sync fails.
SYSCALLS="fdatasync" ERRORS="EIO" tools/faults.sh "${CARGO_TARGET_DIR:-target}/debug/writ" 1
MODE=kill ORDERS=6 SYSCALLS="fsync rename" tools/faults.sh "${CARGO_TARGET_DIR:-target}/debug/writ" 3 8
MODE=kill ORDERS=6 SYSCALLS="write pwrite64" tools/faults.sh "${CARGO_TARGET_DIR:-target}/debug/writ" 80
