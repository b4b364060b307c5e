#!/bin/bash
# The one test command: installs dependencies, builds, and runs every test (unit tests,
# the same unit tests under ASan/UBSan, the integration tests in network namespaces,
# the POP3 ones again with pop3_hold = end, part of them again with the daemon built
# with ASan/UBSan, the format check). Run as root on Debian 12. Prints "test: N passed, N failed" last.
# SHUFFLE=1 runs the integration tests in a random order (printed).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "scripts/test.sh: run as root (namespaces, nftables)" >&2; exit 2; }
scripts/deps.sh || exit 2
make -j"$(nproc)" all >/dev/null || { echo "build failed" >&2; make all; exit 2; }
passed=0 failed=0 recap=""

# run_suite NAME CMD...: runs a suite, adds the counts of its "N passed, N failed" line
run_suite() {
	local name=$1 out rc line p f
	shift
	echo "== $name"
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, .*/\1/p')
	f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed/\1/p')
	[ -n "$p" ] || { p=0; f=1; }
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -eq 0 ] || recap="$recap$(echo "$out" | grep -E 'FAIL|failing|rror' | tail -n 12 | sed "s/^/$name: /")
"
}

run_suite unit make -s unit
run_suite sanitize make -s sanitize
run_suite integration tests/run-integration.sh ${SHUFFLE:+--shuffle}
# every POP3 test again with only the end of each body held (and so, where a test names
# no pop3_action, reset for the default); a test's own pop3_hold comes after and wins
run_suite pop3-end env CONF_EXTRA="pop3_hold = end" tests/run-integration.sh ${SHUFFLE:+--shuffle} pop3
run_suite sanitize-integration make -s sanitize-integration
echo "== format"
if make -s format-check; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
# what failed, again at the end, where a log cut in the middle still shows it
[ -z "$recap" ] || printf 'failed:\n%s' "$recap"
echo "test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
