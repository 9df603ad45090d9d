#!/usr/bin/env bash
# Checks, after scripts/install-peers.sh, that every peer the tests talk to is installed with the
# capabilities the tests use, so a missing one fails here by name instead of as a bare exit code
# deep in a test (swaks without IO::Socket::INET6 once failed the IPv6 e2e test that way).
# Runs every check, prints one line per missing capability with the package that gives it, and
# exits 1 if any is missing. Paths are the ones the tests use.
set -euo pipefail

failures=0
ok() { printf 'ok       %s\n' "$1"; }
missing() { printf 'MISSING  %s\n' "$1" >&2; failures=$((failures + 1)); }

# swaks: each feature we use must be reported "=== <feature> supported" by `swaks --support`.
SWAKS=/usr/bin/swaks
if [[ -x $SWAKS ]]; then
  # It prints "=== X supported" on stdout and "*** X not available: requires M" on stderr; read
  # them apart, as the two streams interleave mid-line when merged.
  supported=$("$SWAKS" --support 2>/dev/null) || true
  unavailable=$("$SWAKS" --support 2>&1 >/dev/null) || true
  while IFS='|' read -r feature package; do
    if grep -q "^=== $feature supported" <<<"$supported"; then
      ok "swaks $feature"
    else
      missing "swaks lacks $feature support: install $package (swaks --support: $(grep -m1 "$feature" <<<"$unavailable" || echo 'no line'))"
    fi
  done <<'EOF'
IPv6|libio-socket-inet6-perl
TLS|libnet-ssleay-perl
Basic AUTH|perl
AUTH CRAM-MD5|perl
AUTH DIGEST-MD5|libauthen-sasl-perl
Socket Transport|perl
EOF
  # PIPELINING needs no module, so --support does not list it: check that the option is taken.
  dump=$("$SWAKS" --pipeline --dump PROTOCOL --server 127.0.0.1 --to peer-check@example.org 2>&1) || true
  if grep -Eq '^ *pipeline *= *TRUE' <<<"$dump"; then
    ok 'swaks --pipeline'
  else
    missing 'swaks lacks --pipeline (PIPELINING): install a newer swaks'
  fi
else
  missing "$SWAKS not found: install swaks"
fi
if perl -MIO::Socket::SSL -e 1 2>/dev/null; then ok 'Perl IO::Socket::SSL'; else missing 'Perl IO::Socket::SSL: install libio-socket-ssl-perl'; fi

# Python, as the tests find it (python3 on PATH).
if ! command -v python3 >/dev/null; then
  missing 'python3 not found on PATH: install python3'
elif err=$(python3 -c 'import smtplib, imaplib, ssl' 2>&1); then
  ok "python3 smtplib, imaplib, ssl ($(command -v python3))"
else
  missing "python3 ($(command -v python3)) cannot import smtplib, imaplib, ssl: ${err##*$'\n'}"
fi

# Postfix's load generator and sink, and Postfix itself as the MX hosts of the relay test net
# (test/helpers/testnet.ts runs `postfix check` and `postfix start` in a network namespace).
for program in /usr/sbin/smtp-source /usr/sbin/smtp-sink /usr/sbin/postfix; do
  if [[ -x $program ]]; then ok "$program"; else missing "$program not found: install postfix"; fi
done
# The test net's main.cf says compatibility_level = 3.6 and logs through maillog_file (3.4+).
if version=$(/usr/sbin/postconf -dh mail_version 2>&1) && [[ $(printf '3.6\n%s\n' "$version" | sort -V | head -1) == 3.6 ]]; then
  ok "postfix $version"
else
  missing "postfix $version is older than 3.6 (test/helpers/testnet.ts writes compatibility_level = 3.6): install postfix from Debian 12 or later"
fi
if ip netns list >/dev/null 2>&1; then ok 'ip netns'; else missing 'ip netns list fails: install iproute2 (and run as root)'; fi

# Dovecot: the e2e test writes a 2.3 config and reads over IMAP.
if [[ -x /usr/sbin/dovecot ]] && version=$(/usr/sbin/dovecot --version 2>&1); then
  if [[ $version == 2.3.* ]]; then ok "dovecot $version"; else missing "dovecot $version is not 2.3 (test/e2e/dovecot.e2e.test.ts writes a 2.3 config)"; fi
else
  missing '/usr/sbin/dovecot --version fails: install dovecot-core'
fi
if [[ -x /usr/lib/dovecot/imap ]]; then ok 'dovecot imap'; else missing '/usr/lib/dovecot/imap not found: install dovecot-imapd'; fi
# The user database: Dovecot's sql passdb reads it with its sqlite driver, and verifies our
# Argon2id hashes (ARGON2ID needs Dovecot built with libsodium, as Debian's is).
if [[ -f /usr/lib/dovecot/modules/auth/libdriver_sqlite.so ]]; then ok 'dovecot sqlite passdb driver'; else missing 'Dovecot sqlite passdb driver not found: install dovecot-sqlite'; fi
if schemes=$(/usr/bin/doveadm pw -l 2>&1) && grep -qw ARGON2ID <<<"$schemes"; then ok 'doveadm pw ARGON2ID'; else missing "doveadm pw -l lacks ARGON2ID: install dovecot-core built with libsodium ($schemes)"; fi
if version=$(/usr/bin/sqlite3 --version 2>&1); then ok "sqlite3 ${version%% *}"; else missing '/usr/bin/sqlite3 --version fails: install sqlite3'; fi

# testssl.sh scans the TLS ports.
if version=$(/usr/bin/testssl --version 2>&1 | grep -oE 'testssl +[0-9][0-9.]*' | head -1) && [[ -n $version ]]; then
  ok "$(tr -s " " <<<"$version")"
else
  missing '/usr/bin/testssl --version fails: install testssl.sh'
fi

# DNS server for loopback DNS tests, and openssl for test certificates.
if version=$(/usr/sbin/dnsmasq --version 2>&1) && [[ $version == Dnsmasq* ]]; then ok "${version%%$'\n'*}"; else missing '/usr/sbin/dnsmasq --version fails: install dnsmasq-base'; fi
if version=$(openssl version 2>&1); then ok "$version"; else missing 'openssl version fails: install openssl'; fi
if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then ok 'CA bundle'; else missing '/etc/ssl/certs/ca-certificates.crt missing: install ca-certificates'; fi

# nmap with its smtp-open-relay script (test/e2e/open-relay.e2e.test.ts runs it against 127.0.0.1 only).
if version=$(nmap --version 2>&1) && [[ $version == *Nmap* ]]; then
  if [[ -f /usr/share/nmap/scripts/smtp-open-relay.nse ]]; then ok "${version%%$'\n'*} with smtp-open-relay"; else missing 'nmap lacks /usr/share/nmap/scripts/smtp-open-relay.nse: install nmap-common'; fi
else
  missing 'nmap --version fails: install nmap'
fi

# C compiler (as the differential test calls it, cc) and libconfig: compile, link and run.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <libconfig.h>\nint main(void) { config_t c; config_init(&c); config_destroy(&c); return 0; }\n' >"$tmp/t.c"
if ! command -v cc >/dev/null; then
  missing 'cc not found: install gcc'
elif err=$(cc -o "$tmp/t" "$tmp/t.c" -lconfig 2>&1) && "$tmp/t"; then
  ok 'cc with libconfig.h and -lconfig'
else
  missing "cc cannot build against libconfig: install libconfig-dev gcc libc6-dev (${err%%$'\n'*})"
fi

# Tools the test helpers run, and those that build and check the single executable and the .deb.
for tool in ip:iproute2 ps:procps mount:mount umount:mount ss:iproute2 chroot:coreutils strip:binutils \
  dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev lintian:lintian mmdebstrap:mmdebstrap; do
  if command -v "${tool%%:*}" >/dev/null; then ok "${tool%%:*}"; else missing "${tool%%:*} not found: install ${tool#*:}"; fi
done

if ((failures > 0)); then
  echo "check-peers: $failures missing; the tests that need them will fail" >&2
  exit 1
fi
echo 'check-peers: every peer has what the tests need'
