#!/bin/bash
# A flood of SYNs from spoofed clients (half-open flows) is held within the flow cap:
# the oldest half-open flows are evicted and counted (a SYN-ACK that comes after is
# reset, never passed), the daemon's memory stays bounded, and a real connection
# afterwards is followed and intact. (After midstream_grace: during it only passed
# flows make room.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0" "max_flows = 64" "midstream_grace = 0"
xfer_server 25
start_daemon
rss0=$(awk '/VmRSS/ {print $2}' /proc/$DAEMON_PID/status)

in_c "$PY" - "$S4" <<'PY' || fail "scapy"
import random, sys
from scapy.all import IP, TCP, send
random.seed(7)
pkts = [IP(src=f"10.89.1.{random.randint(100, 250)}", dst=sys.argv[1]) /
        TCP(sport=random.randint(1024, 65535), dport=25, flags="S", seq=random.getrandbits(32))
        for _ in range(3000)]
send(pkts, verbose=0)
PY
await "the SYNs arrived" stat_ge flows_total 2900
# the queue is drained when the packet counters stop moving
settled() {
	local a b
	a=$(stat packets_to_client)-$(stat flows_evicted)
	sleep 0.3
	b=$(stat packets_to_client)-$(stat flows_evicted)
	echo "packets_to_client-flows_evicted: $a then $b"
	[ "$a" = "$b" ]
}
await "the flood processed" settled
active=$(stat flows_active)
evicted=$(stat flows_evicted)
total=$(stat flows_total)
[ "$active" -le 64 ] || fail "flows_active $active above the cap"
[ "$total" -ge 2900 ] || fail "flows_total $total: the SYNs did not arrive"
# every flow started beyond the cap took an unanswered one's place; the server's late
# SYN-ACKs for those are reset (their tombstones take places too)
[ "$evicted" -ge $((total - active)) ] || fail "flows_evicted $evicted < $((total - active))"
ok "half-open flows evicted: $evicted"
[ "$(stat midstream_reset)" -ge 1 ] || fail "the evicted handshakes' SYN-ACKs were not reset"
expect_eq "midstream_passed" "$(stat midstream_passed)" 0
rss1=$(awk '/VmRSS/ {print $2}' /proc/$DAEMON_PID/status)
[ $((rss1 - rss0)) -lt 20000 ] || fail "RSS grew from $rss0 to $rss1 kB"
ok "memory bounded: RSS $rss0 -> $rss1 kB"
xfer_client $S4 25 1000000 5 >/dev/null || fail "transfer after the flood"
expect_eq "a real connection after the flood is followed" "$(stat stream_bytes_to_server)" 1000000
