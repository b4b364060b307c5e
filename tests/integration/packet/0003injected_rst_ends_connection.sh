#!/bin/bash
# Injection: with the test-only trigger (test_reset = PATTERN), the packet carrying the
# pattern is dropped and both sides get an in-window RST: the server never receives the
# pattern, both ends see a reset, IPv4 and IPv6.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
bg in_s "$PY" "$TOP/tests/tools/marker.py" server 25 "$WORK/server.log"
await "server" listening "$NS_S" 25
start_daemon "queues = 0" "test_reset = RESETME"

n=0
for addr in $S4 $S6; do
	out=$(in_c "$PY" "$TOP/tests/tools/marker.py" client "$addr" 25 "hello " "RESETME now")
	echo "$out" | grep -q "end=reset" || fail "client to $addr was not reset: $out"
	n=$((n + 1))
	await "the server's record of connection $n" sh -c "[ \$(wc -l <'$WORK/server.log') -ge $n ]"
	expect_eq "server side of $addr" "$(sed -n ${n}p "$WORK/server.log")" "b'hello ' reset"
done
expect_eq "injected_packets" "$(stat injected_packets)" 4
expect_eq "inject_errors" "$(stat inject_errors)" 0
expect_eq "resets" "$(stat resets)" 2
# the injected packets carry the inject mark: the rules never queued them; what the
# peers still send on a reset flow is dropped
[ "$(stat verdict_drop)" -ge 2 ] || fail "the packets carrying the pattern were not dropped"
expect_eq "packets seen = verdicts given" \
	"$(($(stat packets_to_server) + $(stat packets_to_client)))" \
	"$(($(stat verdict_accept) + $(stat verdict_drop)))"
