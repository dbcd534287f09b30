#!/usr/bin/env bash
# pdftotext (Debian's poppler-utils): the response-letter tests extract the
# PDF's text with it.
set -euo pipefail
if command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq poppler-utils >/dev/null || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }
pdftotext -v 2>&1 | sed -n 1p
