#!/bin/sh
# Builds build/mailscan_VERSION_ARCH.deb from `make install` (PREFIX=/usr) with
# dpkg-deb. The maintainer scripts create the mailscan system user; nothing is enabled
# or started and no rules are installed until the administrator enables the service.
# Usage: scripts/build-deb.sh   (prints the package's path)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s build/mailscand build/mailscanctl
version=0.2.$(git rev-list --count HEAD 2>/dev/null || echo 0)
arch=$(dpkg --print-architecture)
root=$top/build/deb/root
rm -rf "$top/build/deb"
mkdir -p "$root/DEBIAN"
make -s install DESTDIR="$root" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
strip --remove-section=.comment --remove-section=.note "$root/usr/sbin/"*
gzip -9n "$root/usr/share/man/man5/"* "$root/usr/share/man/man8/"*
doc=$root/usr/share/doc/mailscan
cat >"$doc/copyright" <<TXT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: mailscan
Source: https://github.com/mailscan/mailscan

Files: *
Copyright: 2026 the mailscan developers
License: GPL-2+
 mailscan uses libclamav (opened at run time), which is licensed under the GPL
 version 2.
 .
 On Debian systems, the full text of the GNU General Public License version 2
 can be found in /usr/share/common-licenses/GPL-2.
TXT
printf 'mailscan (%s) unstable; urgency=medium\n\n  * Package built from the source tree.\n\n -- mailscan developers <mailscan@example.org>  %s\n' \
	"$version" "$(date -R)" | gzip -9n >"$doc/changelog.gz"

# the shared libraries the programs need, as dpkg-shlibdeps finds them
work=$top/build/deb/shlibs
mkdir -p "$work/debian"
printf 'Source: mailscan\n\nPackage: mailscan\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O "$root/usr/sbin/mailscand" "$root/usr/sbin/mailscanctl" |
	sed -n 's/^shlibs:Depends=//p')
# libclamav is opened at run time (dlopen), not linked: the package that has it by the
# name the programs open
so=$(objdump -p "$(pkg-config --variable=libdir libclamav)/libclamav.so" | awk '$1 == "SONAME" {print $2}')
clamav=$(dpkg -S "*/$so" | head -1 | cut -d: -f1)
[ -n "$clamav" ] || { echo "build-deb: no package has $so" >&2; exit 1; }
depends="$depends, $clamav"
cat >"$root/DEBIAN/control" <<TXT
Package: mailscan
Version: $version
Architecture: $arch
Maintainer: mailscan developers <mailscan@example.org>
Installed-Size: $(du -sk "$root" | cut -f1)
Depends: $depends, adduser
Recommends: clamav-freshclam
Section: mail
Priority: optional
Homepage: https://github.com/mailscan/mailscan
Description: transparent antivirus for SMTP and POP3 traffic
 mailscan scans mail as it crosses a Linux gateway or host, without changes
 to any mail client or server. nftables rules send the traffic of the
 protected ports to NFQUEUE; mailscand reassembles both directions of each
 connection, follows SMTP and POP3, scans every message with libclamav and
 keeps infected mail from its receiver: an SMTP client gets a 554 naming the
 virus, a POP3 download is reset. mailscanctl installs the rules, manages the
 protected ports and reports counters.
TXT
echo /etc/mailscan/mailscan.conf >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! getent passwd mailscan >/dev/null; then
		adduser --system --group --quiet --home /var/lib/mailscan --no-create-home \
			--gecos "mailscan daemon" mailscan
	fi
	install -d -o mailscan -g mailscan -m 750 /var/lib/mailscan
fi
SH
cat >"$root/DEBIAN/prerm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = remove ]; then
	if [ -d /run/systemd/system ]; then
		deb-systemd-invoke stop mailscand.service >/dev/null || true
	fi
	# no rules without the package: protected traffic flows as before it
	mailscanctl rules remove >/dev/null 2>&1 || true
fi
SH
cat >"$root/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/mailscan /etc/mailscan/ports
fi
SH
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
out=$top/build/mailscan_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
