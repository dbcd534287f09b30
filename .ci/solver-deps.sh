#!/usr/bin/env bash
# The cvc5 SMT solver that `writ policy prove` (crate writ-prove) queries:
# Debian's package. Its tests fail under WRIT_CI=1 when it is missing.
set -euo pipefail
if ! command -v cvc5 >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq cvc5 >/dev/null
fi
cvc5 --version | sed -n 1p
