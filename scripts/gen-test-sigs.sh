#!/bin/sh
# Generates mailscan's TEST signature database into DIR (default build/testsigs):
# MD5 signatures (sigtool --md5) of the files in Debian's clamav-testfiles, and an
# EICAR body signature. For tests and the demo only: every name starts with
# "MailscanTest.", and the marker file makes mailscand refuse the directory unless the
# configuration says `test_signatures = yes`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/testsigs}
src=/usr/share/clamav-testfiles
[ -d "$src" ] || { echo "gen-test-sigs: $src missing (apt-get install clamav-testfiles)" >&2; exit 2; }
mkdir -p "$out"
tmp=$out/.mailscan-test.hdb.new
: >"$tmp"
for f in "$src"/*; do
	# sigtool prints md5:size:filename; the name becomes MailscanTest.<file>
	sigtool --md5 "$f" | awk -F: -v n="MailscanTest.$(basename "$f")" '{ print $1 ":" $2 ":" n }' >>"$tmp"
done
mv "$tmp" "$out/mailscan-test.hdb"
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
hex=$(printf '%s' "$eicar" | od -An -tx1 | tr -d ' \n')
echo "MailscanTest.EICAR:0:*:$hex" >"$out/mailscan-test.ndb"
cat >"$out/MAILSCAN-TEST-SIGNATURES" <<TXT
mailscan test signatures, generated $(date -u +%Y-%m-%d) by scripts/gen-test-sigs.sh.
They detect only Debian's clamav-testfiles and EICAR. Not for production.
TXT
echo "gen-test-sigs: $(wc -l <"$out/mailscan-test.hdb") md5 + 1 EICAR signatures in $out"
