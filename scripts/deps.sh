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
libdb5.3 libgnutls-dane0 libgnutls30 libidn12 libidn2-0 libnsl2 libpcre2-8-0 libcrypt1
libevent-2.1-7 libpam0g libssl3 zlib1g
"
# exim4 and OpenSMTPD (beside postfix; the MTA packages conflict) are unpacked into
# build/mta by scripts/mta-private.sh: the libraries above are theirs
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
mta() {
	[ "$(id -u)" = 0 ] || return 0
	"$(dirname "$0")/mta-private.sh" >/dev/null || echo "deps: exim4/OpenSMTPD not unpacked" >&2
}
if [ -z "$missing" ]; then
	echo "deps: all installed"
	user
	mta
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
mta
