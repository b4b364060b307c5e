#!/bin/bash
# Runs every integration test (as root, in network namespaces) and sums the results.
# Usage: run-integration.sh [--shuffle] [PATTERN...]   (patterns select test paths, e.g.
# rules/; --shuffle runs them in a random order, which it prints first, to show that no
# test depends on another; BUILD=DIR runs the binaries from DIR, e.g. a sanitizer build)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "integration tests need root (network namespaces)" >&2; exit 2; }
order=sort
[ "${1:-}" = --shuffle ] && order=shuf && shift
tests=$(find "$top/tests/integration" -name '*.sh' | $order)
[ "$order" = shuf ] && echo "order: $(echo "$tests" | sed "s|^$top/tests/integration/||" | tr '\n' ' ')"
passed=0 failed=0 bad="" checks=""
for t in $tests; do
	name=${t#"$top/tests/integration/"}
	if [ $# -gt 0 ]; then
		# patterns match the test's own name, never the checkout's path
		hit=0
		for pat in "$@"; do case "$name" in *"$pat"*) hit=1 ;; esac; done
		[ $hit = 1 ] || continue
	fi
	start=$(date +%s)
	if out=$(timeout 600 bash "$t" 2>&1); then
		passed=$((passed + 1))
		echo "PASS $name ($(($(date +%s) - start)) s)"
		[ -n "${VERBOSE:-}" ] && echo "$out" | sed 's/^/    /'
	else
		failed=$((failed + 1))
		bad="$bad $name"
		echo "FAIL $name ($(($(date +%s) - start)) s)"
		echo "$out" | tail -n 40 | sed 's/^/    /'
		checks="$checks$(echo "$out" | grep -m 3 '^FAIL' | sed "s|^|$name: |")
"
	fi
done
echo "integration: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { printf '%s' "$checks"; echo "integration: failing:$bad"; exit 1; }
