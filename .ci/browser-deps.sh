#!/usr/bin/env bash
# Installs what the browser tests need: Debian's Chromium (and its driver)
# and playwright-core from npm, which drives it (`tests/browser/`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    $SUDO apt-get install -y chromium chromium-driver nodejs npm \
        || { $SUDO apt-get update && $SUDO apt-get install -y chromium chromium-driver nodejs npm; }
fi
chromium --version
# playwright-core only: it never downloads a browser of its own.
(cd tests/browser && npm ci --no-audit --no-fund)
