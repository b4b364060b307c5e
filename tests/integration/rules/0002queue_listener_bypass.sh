#!/bin/bash
# Traffic to a protected port through the gateway really reaches a queue listener, both
# directions; with no listener it passes (bypass); with fail_closed it does not; an
# unprotected port never reaches the queue. IPv4 and IPv6.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0"
bg in_s "$PY" "$TOP/tests/tools/xfer.py" server 25
bg in_s "$PY" "$TOP/tests/tools/xfer.py" server 8080
await "server did not start" listening "$NS_S" 25
await "server did not start" listening "$NS_S" 8080

in_g "$BUILD/mailscanctl" -c "$CONF" rules install --gateway >/dev/null || fail "install"

# no listener: bypass lets the connection through unscanned
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 25 200000) || fail "bypass v4: $out"
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S6 25 200000) || fail "bypass v6: $out"
up=$(nft_counter "$NS_G" smtp_to_server)
down=$(nft_counter "$NS_G" smtp_to_client)
[ "$up" -gt 0 ] && [ "$down" -gt 0 ] || fail "queue rules not hit: up=$up down=$down"
ok "no listener: connections pass (bypass), both directions hit the queue rules"

# with a listener every packet of the flow is queued, in both directions
bg in_g "$BUILD/tools/nfq_accept" 0 30 >"$WORK/nfq.out" 2>"$WORK/nfq.err"
nfq=$!
wait_for grep -q listening "$WORK/nfq.err" || fail "listener did not start"
before=$(($(nft_counter "$NS_G" smtp_to_server) + $(nft_counter "$NS_G" smtp_to_client)))
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 25 300000 2) || fail "queued v4: $out"
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S6 25 300000 3) || fail "queued v6: $out"
after=$(($(nft_counter "$NS_G" smtp_to_server) + $(nft_counter "$NS_G" smtp_to_client)))
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 8080 100000) || fail "port 8080: $out"
kill -TERM $nfq
wait $nfq
got=$(sed -n 's/^packets=\([0-9]*\) .*/\1/p' "$WORK/nfq.out")
expect_eq "packets the listener saw = packets the queue rules counted" "$got" $((after - before))
[ "$got" -gt 10 ] || fail "too few packets queued: $got"

# fail closed: no listener, no connection
write_config "queues = 0" "fail_closed = yes"
in_g "$BUILD/mailscanctl" -c "$CONF" rules install --gateway >/dev/null || fail "install"
if in_c timeout 5 "$PY" "$TOP/tests/tools/xfer.py" client $S4 25 1000 >/dev/null 2>&1; then
	fail "fail_closed let a connection through with no listener"
fi
ok "fail_closed: no listener, no connection"
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 8080 1000) || fail "8080 blocked: $out"
ok "unprotected port unaffected"
