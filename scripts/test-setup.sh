#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine (run as root):
# the Debian packages of the real components the tests drive, the npm packages, and the
# local PostgreSQL and NATS servers if they are not running.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Real components the tests drive: HAProxy (edge), glpsol (scheduler optimum), redfishtool (a
# standard Redfish client), NATS, nginx, BIND, Postfix, Dovecot, Pure-FTPd (provisioning), rsync
# (replication), curl and dig (protocol clients), chromium (console end-to-end tests), fonts (rendered images).
DEBS=(haproxy glpk-utils redfishtool fonts-dejavu-core nats-server openssl
      nginx-light bind9 bind9-utils dnsutils postfix dovecot-imapd pure-ftpd rsync curl chromium)
missing=()
for p in "${DEBS[@]}"; do dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  # Postfix asks how to configure itself; the tests write their own configuration.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# PostgreSQL (127.0.0.1:5432, trust) and NATS with JetStream (127.0.0.1:4222) for contract tests.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
fi
