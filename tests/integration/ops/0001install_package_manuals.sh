#!/bin/bash
# Installing: `make install DESTDIR` lays out the tree (PREFIX /usr/local and /usr),
# keeps an existing configuration, `make uninstall` takes it all back but the
# configuration; the unit passes `systemd-analyze verify`; the manual pages are clean
# under `mandoc -Tlint` and their synopses match the programs' usage; the .deb holds
# what `make install` installs, lintian finds no error in it, and installing it creates
# the mailscan user and its directory without enabling anything or touching the
# ruleset; purging it removes it.
. "$(dirname "$0")/../../lib.sh"
cd "$TOP" || fail "cd"
R=$WORK/root
make -s install DESTDIR="$R" >/dev/null || fail "make install"
for f in usr/local/sbin/mailscand usr/local/sbin/mailscanctl; do
	[ -x "$R/$f" ] || fail "$f"
done
for f in usr/local/share/man/man8/mailscand.8 usr/local/share/man/man8/mailscanctl.8 \
	usr/local/share/man/man5/mailscan.conf.5 usr/local/lib/systemd/system/mailscand.service \
	usr/local/share/mailscan/nft/mailscan-gateway.nft usr/local/share/mailscan/nft/mailscan-host.nft \
	etc/mailscan/mailscan.conf; do
	[ -f "$R/$f" ] || fail "$f not installed"
done
grep -q "^ExecStart=/usr/local/sbin/mailscand$" "$R/usr/local/lib/systemd/system/mailscand.service" ||
	fail "unit does not name the installed program"
cmp -s "$R/etc/mailscan/mailscan.conf" scripts/dist/mailscan.conf || fail "configuration"
"$R/usr/local/sbin/mailscanctl" -c "$R/etc/mailscan/mailscan.conf" ports list >/dev/null ||
	fail "the installed configuration does not load"
ok "make install DESTDIR: programs, manual pages, unit, rule files, configuration"
echo "workers = 3" >>"$R/etc/mailscan/mailscan.conf"
make -s install DESTDIR="$R" >/dev/null || fail "make install again"
grep -q "^workers = 3$" "$R/etc/mailscan/mailscan.conf" || fail "configuration overwritten"
ok "an existing configuration is kept"
make -s uninstall DESTDIR="$R" || fail "make uninstall"
expect_eq "left after uninstall" "$(cd "$R" && find . -type f)" "./etc/mailscan/mailscan.conf"

# PREFIX=/usr, as the package has it; the unit verified against that tree
U=$WORK/usr
make -s install DESTDIR="$U" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null || fail "install /usr"
sed "s|/usr/sbin/|$U/usr/sbin/|g" "$U/lib/systemd/system/mailscand.service" >"$WORK/mailscand.service"
out=$(systemd-analyze verify --man=no "$WORK/mailscand.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
ok "systemd-analyze verify: clean"
score=$(systemd-analyze security --offline=yes "$WORK/mailscand.service" 2>&1 | sed -n 's/.*Overall exposure level for mailscand.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s < 2.5) }' || fail "exposure $score"
ok "systemd-analyze security: exposure $score"

for m in "$U"/usr/share/man/man*/*; do
	out=$(mandoc -Tlint -W style "$m" 2>&1 | grep -v "referenced manual not found\|mandoc.db")
	[ -z "$out" ] || fail "mandoc -Tlint $(basename "$m"): $out"
done
ok "mandoc -Tlint: clean (but for cross references to pages not yet in the database)"
# synopsis = usage, spaces aside
synopsis() { mandoc -Tascii "$1" | col -b | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' |
	tr -d ' ' | tr 'A-Z' 'a-z' | grep .; }
usage() { "$@" 2>&1 | grep -v "invalid option" | sed 's/^usage://' | tr -d ' ' | tr 'A-Z' 'a-z'; }
expect_eq "mailscanctl(8) synopsis = mailscanctl -h" \
	"$(synopsis "$U/usr/share/man/man8/mailscanctl.8")" "$(usage "$BUILD/mailscanctl" -h)"
expect_eq "mailscand(8) synopsis = mailscand's usage" \
	"$(synopsis "$U/usr/share/man/man8/mailscand.8")" "$(usage "$BUILD/mailscand" -x)"
# every subcommand's usage error names it as the page does
for c in "rules install --bogus" "ports add" "stats --bogus"; do
	# shellcheck disable=SC2086
	"$BUILD/mailscanctl" $c >/dev/null 2>&1
	expect_eq "mailscanctl $c: usage error" "$?" 2
done

# the package
deb=$(scripts/build-deb.sh) || fail "build-deb"
[ -f "$deb" ] || fail "no package"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|; s|\.gz$||' | sort >"$WORK/deb.list"
(cd "$U" && find . -type f | sed 's|^\./|/|' | sort) >"$WORK/install.list"
expect_eq "package = make install (+ copyright, changelog)" \
	"$(grep -v '^/usr/share/doc/mailscan/\(copyright\|changelog\)$' "$WORK/deb.list")" \
	"$(cat "$WORK/install.list")"
lint=$(lintian "$deb" 2>&1 | grep -v "running with root privileges")
echo "$lint" | grep -q "^E:" && fail "lintian errors: $lint"
ok "lintian: no errors ($(echo "$lint" | grep -c '^W:') warnings)"

had_user=$(getent passwd mailscan >/dev/null && echo yes || echo no)
[ -e /usr/sbin/mailscand ] && fail "/usr/sbin/mailscand exists already: not installing the package over it"
dpkg -i "$deb" >/dev/null 2>&1 || fail "dpkg -i"
getent passwd mailscan >/dev/null || fail "no mailscan user after install"
expect_eq "/var/lib/mailscan owner" "$(command stat -c %U:%a /var/lib/mailscan)" "mailscan:750"
nft list tables 2>/dev/null | grep -q "inet mailscan" && fail "the package installed rules"
[ -d /run/systemd/system ] && systemctl is-enabled mailscand.service >/dev/null 2>&1 && fail "service enabled"
/usr/sbin/mailscanctl ports list >/dev/null || fail "installed mailscanctl"
ok "dpkg -i: the user (created: $([ $had_user = no ] && echo yes || echo "no, existed")) and its directory; no rules, nothing enabled"
dpkg --purge mailscan >/dev/null 2>&1 || fail "dpkg --purge"
[ -e /usr/sbin/mailscand ] || [ -e /var/lib/mailscan ] || [ -e /etc/mailscan/mailscan.conf ] &&
	fail "left after purge"
ok "dpkg --purge removes it"
