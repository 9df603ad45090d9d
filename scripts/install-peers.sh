#!/usr/bin/env bash
# Installs the programs the test suite talks to (Debian packages), run as root by .ci/run on a
# fresh machine where nothing else is installed. scripts/check-peers.sh then checks the result.
#
# Every package is named: we install with --no-install-recommends, so whatever a peer needs but
# only Recommends must be listed here (swaks without libio-socket-inet6-perl cannot do IPv6).
#   swaks and the Perl modules for what we use or will use of it (`swaks --support`):
#     IPv6 (IO::Socket::INET6), TLS (Net::SSLeay, IO::Socket::SSL), AUTH DIGEST-MD5 (Authen::SASL)
#   python3 (smtplib, imaplib, ssl)
#   postfix for smtp-source/smtp-sink and as the MX hosts of the relay test net (its own instances in
#     network namespaces), preseeded to "No configuration" so no system MTA runs
#   dovecot-core and dovecot-imapd, read our Maildir over IMAP; dovecot-sqlite, its passdb reading
#     our user database; sqlite3, the shell the tests read that database with
#   testssl.sh, scanning our TLS ports (protocols and cipher categories)
#   libconfig-dev, gcc and libc6-dev for the differential test against C libconfig
#   dnsmasq-base (the binary alone, no system service) for DNS tests against a loopback server
#   openssl for making test certificates; ca-certificates
#   nmap, whose smtp-open-relay script checks that we are no open relay (loopback only)
#   iproute2, procps and util-linux for the process and network helpers of the tests (ip netns and
#     veth pairs for the relay test net, test/helpers/testnet.ts)
#   binutils (strip) and dpkg-dev (dpkg-shlibdeps) to build the single executable and the .deb;
#   lintian to check it; mmdebstrap to make the fresh Debian 12 root the package is installed in
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# No package may start a system service (Dovecot's would listen on 143 and 993): the tests run
# their own instances. policy-rc.d is Debian's switch for that (invoke-rc.d, exit 101 = forbidden);
# one the machine already has is left alone.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  swaks libio-socket-inet6-perl libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl \
  python3 \
  postfix \
  dovecot-core dovecot-imapd dovecot-sqlite sqlite3 \
  testssl.sh \
  libconfig-dev gcc libc6-dev \
  dnsmasq-base \
  openssl ca-certificates \
  nmap \
  iproute2 procps util-linux \
  binutils dpkg-dev lintian mmdebstrap >/dev/null
