#!/bin/sh
# Installs every Debian package that mailscan's build, tests, demo and benchmarks need.
# Non-interactive and idempotent: packages already present are not fetched again.
set -eu
PKGS="
gcc make pkg-config clang-format git
libmnl-dev libnetfilter-queue-dev libnftnl-dev libclamav-dev libseccomp-dev libcap-ng-dev
clamav clamav-testfiles
nftables iproute2 ethtool conntrack procps openssl bsdutils
postfix swaks dovecot-pop3d fetchmail curl mpop getmail6 clamsmtp clamav-daemon c-icap libc-icap-mod-virus-scan
python3 python3-scapy iperf3
prometheus mandoc lintian systemd dpkg-dev binutils adduser bsdextrautils util-linux passwd
"
# the daemon's unprivileged user (the package's postinst creates it the same way)
user() {
	getent passwd mailscan >/dev/null && return 0
	[ "$(id -u)" = 0 ] || { echo "deps: no user mailscan (run as root)" >&2; exit 2; }
	adduser --system --group --quiet --home /var/lib/mailscan --no-create-home mailscan
	echo "deps: created user mailscan"
}
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all installed"
	user
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "deps: missing:$missing (run as root)" >&2; exit 2; }
export DEBIAN_FRONTEND=noninteractive
# postfix serves only the tests' private instances: no system configuration
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: installed$missing"
user
