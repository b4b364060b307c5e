#!/bin/sh
# Runs the unit test binaries and sums their counts. Usage: run-unit.sh DIR TEST...
dir=$1
shift
passed=0 failed=0 bad=""
for t in "$@"; do
	out=$("$dir/$t" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ]; then
		# crashed before reporting: count the binary as one failure
		p=0 f=1
	fi
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -ne 0 ] && bad="$bad $t"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "unit: failing:$bad"; exit 1; }
