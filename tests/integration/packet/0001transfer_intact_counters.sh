#!/bin/bash
# Through mailscand (gateway): large transfers arrive byte-identical in both directions,
# IPv4 and IPv6, several at once; the daemon's counters, read with mailscanctl stats,
# match the traffic and the kernel's own rule counters. JSON and Prometheus agree. Two
# queues, one thread each.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0-1"
xfer_server 25
start_daemon

pids=""
for i in 1 2 3; do
	xfer_client $S4 25 8000000 $i >"$WORK/x4.$i" 2>&1 &
	pids="$pids $!"
	xfer_client $S6 25 8000000 $((i + 10)) >"$WORK/x6.$i" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || { cat "$WORK"/x*; fail "a transfer was not intact"; }; done
ok "6 concurrent 8 MB transfers (IPv4 and IPv6) intact both ways"

# the last segments may still be in the queue when the clients are done
await_stat stream_bytes_to_server $((6 * 8000000))
# the server answers each with a 64-hex-digit line and the data echoed
await_stat stream_bytes_to_client $((6 * (8000000 + 65)))
expect_eq "flows_total" "$(stat flows_total)" 6
expect_eq "flows_midstream" "$(stat flows_midstream)" 0
# on the wire, retransmissions and window probes may carry bytes again
[ "$(stat bytes_to_server)" -ge $((6 * 8000000)) ] || fail "bytes_to_server too small"
[ "$(stat bytes_to_client)" -ge $((6 * 8000065)) ] || fail "bytes_to_client too small"
# every unacknowledged byte is kept for comparison: past flow_buffer in flight a segment
# is dropped (and sent again); nothing else is
expect_eq "verdict_drop" "$(stat verdict_drop)" "$(stat reasm_overflows)"
expect_eq "tcp_rewritten" "$(stat tcp_rewritten)" 0
kernel=$(($(nft_counter "$NS_G" smtp_to_server) + $(nft_counter "$NS_G" smtp_to_client)))
daemon=$(($(stat packets_to_server) + $(stat packets_to_client)))
expect_eq "packets the daemon saw = packets the rules queued" "$daemon" "$kernel"
expect_eq "every packet got a verdict" "$(($(stat verdict_accept) + $(stat verdict_drop)))" "$daemon"
[ "$(stat verdict_sends)" -le "$daemon" ] || fail "more verdict sends than packets"

json=$(ctl stats --json)
echo "$json" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["flows_total"] == 6, d' ||
	fail "stats --json: $json"
ok "stats --json parses and agrees"
prom=$(ctl stats --prometheus)
echo "$prom" | grep -q '^# TYPE mailscan_flows_total counter$' || fail "prometheus TYPE line"
echo "$prom" | grep -q '^mailscan_flows_total 6$' || fail "prometheus value: $prom"
ok "stats --prometheus agrees"
expect_eq "status: two queue threads" "$(ctl status | sed -n 's/^queues=//p')" 2
