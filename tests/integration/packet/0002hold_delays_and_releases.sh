#!/bin/bash
# A held packet really waits: with the test-only hold (test_hold = PATTERN), the packet
# whose client data completes the pattern is held for test_hold_ms and then released;
# the data arrives intact, and retransmissions of the held range are dropped meanwhile.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
bg in_s "$PY" "$TOP/tests/tools/marker.py" server 25 "$WORK/server.log"
await "server" listening "$NS_S" 25
start_daemon "queues = 0" "test_hold = HOLDME" "test_hold_ms = 1500"

out=$(in_c "$PY" "$TOP/tests/tools/marker.py" client $S4 25 "hello " "HOLDME please")
echo "$out"
elapsed=$(echo "$out" | sed -n 's/elapsed=\([0-9.]*\) .*/\1/p')
echo "$out" | grep -q "end=eof" || fail "connection did not end normally: $out"
# the hold is a lower bound set by the daemon, not a timing guess
awk -v e="$elapsed" 'BEGIN { exit !(e >= 1.5) }' || fail "not delayed: $elapsed s"
ok "the completing packet was held ($elapsed s for a 0.3 s exchange)"
wait_for test -s "$WORK/server.log" || fail "server saw nothing"
expect_eq "server received" "$(cat "$WORK/server.log")" "b'hello HOLDME please' eof"
expect_eq "holds_total" "$(stat holds_total)" 1
expect_eq "holds_current" "$(stat holds_current)" 0
us=$(stat hold_time_us_total)
[ "$us" -ge 1500000 ] || fail "hold_time_us_total $us < 1.5 s"
ok "hold time counted ($us us)"
# TCP retransmitted the held segment while it waited (RTO ~200 ms): those were dropped
[ "$(stat held_retransmissions_dropped)" -ge 1 ] || fail "no retransmission of the held range dropped"
ok "retransmissions of the held range dropped ($(stat held_retransmissions_dropped))"
expect_eq "holds_expired" "$(stat holds_expired)" 0
