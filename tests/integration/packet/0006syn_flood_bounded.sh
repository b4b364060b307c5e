#!/bin/bash
# In gateway and in host mode, a flood of SYNs from spoofed clients (half-open flows) is
# held within the flow cap: the oldest half-open flows are evicted and counted (a
# SYN-ACK that comes after is reset, never passed), the daemon's memory stays bounded,
# and a real connection afterwards is followed and intact. (After midstream_grace:
# during it only passed flows make room.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
xfer_server 25
# the queue is drained when the packet counters stop moving
settled() {
	local a b
	a=$(stat packets_to_client)-$(stat flows_evicted)
	sleep 0.3
	b=$(stat packets_to_client)-$(stat flows_evicted)
	echo "packets_to_client-flows_evicted: $a then $b"
	[ "$a" = "$b" ]
}

flood() { # MODE
	local m=$1 rss0 rss1 active evicted total
	start_daemon_mode "$m" "max_flows = 64" "midstream_grace = 0"
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
	await "$m: the SYNs arrived" stat_ge flows_total 2900
	await "$m: the flood processed" settled
	active=$(stat flows_active)
	evicted=$(stat flows_evicted)
	total=$(stat flows_total)
	[ "$active" -le 64 ] || fail "$m: flows_active $active above the cap"
	[ "$total" -ge 2900 ] || fail "$m: flows_total $total: the SYNs did not arrive"
	# every flow started beyond the cap took an unanswered one's place; the server's
	# late SYN-ACKs for those are reset (their tombstones take places too)
	[ "$evicted" -ge $((total - active)) ] || fail "$m: flows_evicted $evicted < $((total - active))"
	ok "$m: half-open flows evicted: $evicted"
	[ "$(stat midstream_reset)" -ge 1 ] || fail "$m: the evicted handshakes' SYN-ACKs were not reset"
	expect_eq "$m: midstream_passed" "$(stat midstream_passed)" 0
	rss1=$(awk '/VmRSS/ {print $2}' /proc/$DAEMON_PID/status)
	[ $((rss1 - rss0)) -lt 20000 ] || fail "$m: RSS grew from $rss0 to $rss1 kB"
	ok "$m: memory bounded: RSS $rss0 -> $rss1 kB"
	xfer_client $S4 25 1000000 5 >/dev/null || fail "$m: transfer after the flood"
	expect_eq "$m: a real connection after the flood is followed" \
		"$(stat stream_bytes_to_server)" 1000000
	stop_daemon_mode
}

flood gateway
flood host
