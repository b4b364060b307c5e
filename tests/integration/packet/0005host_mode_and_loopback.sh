#!/bin/bash
# Host mode: the daemon and the rules on the server itself (input and output chains).
# Remote clients (IPv4, IPv6) and a client on the same host over loopback (queued once,
# on output) all transfer intact, and every queued packet is counted once.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0" "mode = host"
xfer_server 25
in_s "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "rules install"
bg in_s "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
wait_for ctl status || fail "mailscand"

xfer_client $S4 25 3000000 1 >/dev/null || fail "remote IPv4"
xfer_client $S6 25 3000000 2 >/dev/null || fail "remote IPv6"
in_s "$PY" "$TOP/tests/tools/xfer.py" client 127.0.0.1 25 3000000 3 >/dev/null || fail "loopback"
in_s "$PY" "$TOP/tests/tools/xfer.py" client ::1 25 3000000 4 >/dev/null || fail "loopback v6"
ok "remote and loopback transfers intact"
# the last segments may still be in the queue when the clients are done
await_stat stream_bytes_to_server 12000000
await_stat stream_bytes_to_client $((4 * 3000065))
expect_eq "flows_total" "$(stat flows_total)" 4
same_packets() {
	local k d
	k=$(($(nft_counter "$NS_S" smtp_to_server) + $(nft_counter "$NS_S" smtp_to_client)))
	d=$(($(stat packets_to_server) + $(stat packets_to_client)))
	echo "queued=$k seen=$d"
	[ "$k" = "$d" ]
}
await "packets the daemon saw = packets the rules queued" same_packets
ok "packets the daemon saw = packets the rules queued"
expect_eq "packets_truncated" "$(stat packets_truncated)" 0
# queued twice (output and input), every loopback byte would reach the daemon twice
wire=$(stat bytes_to_server)
[ "$wire" -lt $((12000000 * 3 / 2)) ] || fail "loopback queued twice: $wire wire bytes for 12000000"
ok "loopback queued once ($wire wire bytes for 12000000 stream bytes)"
