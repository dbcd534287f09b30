#!/usr/bin/env bash
# The real SMTP server that the notice tests send to: aiosmtpd under
# Debian's own Python (/usr/bin/python3), whatever python3 is first on PATH.
set -euo pipefail
if /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-aiosmtpd >/dev/null
/usr/bin/python3 -c 'import aiosmtpd; print("aiosmtpd", aiosmtpd.__version__)'
