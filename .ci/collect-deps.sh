#!/usr/bin/env bash
# Installs what the collection and sealing tests need: Debian's `age` CLI,
# the independent check that Writ's packages are standard age files.
set -euo pipefail

if command -v age >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y age || { $SUDO apt-get update && $SUDO apt-get install -y age; }
age --version
