#!/bin/sh
# The mail servers the SMTP differential test runs beside postfix: exim4 and OpenSMTPD.
# Debian's MTA packages conflict with each other (only one may be installed), so their
# binaries are unpacked from the .debs into a private directory instead (their shared
# libraries are installed by scripts/deps.sh). Idempotent.
# Usage: scripts/mta-private.sh [DIR]   (default build/mta); prints DIR/root
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/mta}
root=$dir/root
if [ -x "$root/usr/sbin/exim4" ] && [ -x "$root/usr/sbin/smtpd" ]; then
	echo "$root"
	exit 0
fi
mkdir -p "$dir/debs"
chmod 755 "$dir" "$dir/debs" # apt's download user writes there
(cd "$dir/debs" && apt-get download -qq exim4-base exim4-daemon-light opensmtpd >/dev/null 2>&1) || {
	echo "mta-private: apt-get download failed" >&2
	exit 2
}
rm -rf "$root.new"
for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$root.new"; done
rm -rf "$root"
mv "$root.new" "$root"
echo "$root"
