#!/usr/bin/env bash
# Debian packages the log's interoperability test needs: Go and its x/mod
# module (sumdb/note, sumdb/tlog), to build tools/tlog-verify offline.
# Installs them only when missing.
set -euo pipefail

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb/tlog ] || need+=(golang-golang-x-mod-dev)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
go version
