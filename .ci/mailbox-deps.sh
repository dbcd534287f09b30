#!/usr/bin/env bash
# The real IMAP server that the mailbox test reads from: Debian's Dovecot.
# The test starts a throwaway instance of its own (its own configuration,
# port and folders); the package's service is never started.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq dovecot-imapd >/dev/null
/usr/sbin/dovecot --version
