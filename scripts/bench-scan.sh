#!/bin/bash
# Scan throughput of the scanner pool on real libclamav with mailscan's test
# signatures: unique MIME messages (a text part and a base64 attachment) of 100 KiB and
# 10 MiB, with 1 and 2 scan threads; median of RUNS. Usage: scripts/bench-scan.sh [RUNS]
set -eu
RUNS=${1:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
bench=$top/build/tools/scanbench
db=$top/build/testsigs
echo "message mix: MIME, text part + base64 attachment of random bytes, each unique"
printf '%-10s %-8s %-8s %10s %10s\n' size count workers "MB/s" "msgs/s"
for spec in "102400 200" "10485760 6"; do
	set -- $spec
	for w in 1 2; do
		for r in $(seq "$RUNS"); do "$bench" "$db" "$1" "$2" "$w" test 2>/dev/null; done |
			sed -n 's/.*MB\/s=\([0-9.]*\) msgs\/s=\([0-9.]*\)/\1 \2/p' | sort -n |
			awk -v s="$1" -v c="$2" -v w="$w" '{m[NR]=$1; q[NR]=$2} END {i=int((NR+1)/2); printf "%-10s %-8s %-8s %10.1f %10.1f\n", s, c, w, m[i], q[i]}'
	done
done
echo "(medians of $RUNS runs; $(nproc) cores)"
