#!/usr/bin/env bash
# Installs the programs the test suite talks to (Debian packages): swaks, Python, Postfix's
# smtp-source, Dovecot, the libconfig C library for the differential tests, and a C compiler.
# Run as root. Postfix is preseeded to "No configuration" so no system MTA starts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  swaks python3 postfix dovecot-core dovecot-imapd \
  libconfig-dev gcc libc6-dev \
  iproute2 procps util-linux ca-certificates >/dev/null
