#!/bin/bash
# A SYN on a live offloaded connection does not end it. A client is in the middle of an
# SMTP session over STARTTLS (passed, its conntrack entry marked for offload) when a
# SYN with its addresses and ports arrives (spoofed here, with scapy): postfix's stack
# answers it with a challenge ACK and the connection goes on, so mailscand keeps
# passing that connection's packets, offloaded again (counted as offload_kept), and the
# client's message is delivered. Once while mailscand still has the passed flow, once
# after it has forgotten it (a passed flow goes after 10 s without packets). A new
# connection from the same port, after the TLS one, is still followed and scanned; so is
# one whose SYN comes while conntrack still holds the TLS connection offloaded but
# neither end has it any more (their resets and FINs lost): the server answers that SYN
# with a SYN-ACK, and the pass verdict does not carry over to the new connection.
# Gateway (IPv4, IPv6) and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in clean eicar; do make_mail $k; done
start_daemon "queues = 0"
V='554 5.7.1 Virus found: MailscanTest.EICAR'
reuse() { in_c "$PY" "$TOP/tests/tools/portreuse.py" "$@"; }

# spoof_syn CLIENT SERVER SPORT: one SYN from CLIENT:SPORT to SERVER:25, a fresh ISN
spoof_syn() {
	in_c "$PY" - "$@" <<'PY' || fail "scapy"
import random, sys
from scapy.all import IP, IPv6, TCP, send
c, s, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
ip = IPv6(src=c, dst=s) if ":" in c else IP(src=c, dst=s)
send(ip / TCP(sport=sport, dport=25, flags="S", seq=random.getrandbits(32)), verbose=0)
PY
}

live() { # NAME CLIENT SERVER SPORT WAIT [NS: where conntrack is]
	local name=$1 c=$2 s=$3 sport=$4 wait=$5 ns=${6:-$NS_G} kept out gone
	kept=$(stat offload_kept)
	gone=$(stat flows_timed_out)
	mkfifo "$WORK/$name.in"
	bg sh -c "exec ip netns exec '$NS_C' '$PY' '$TOP/tests/tools/portreuse.py' '$s' 25 $sport \
		'tlspause:$WORK/clean.eml' <'$WORK/$name.in' >'$WORK/$name.out'"
	exec {GO}<>"$WORK/$name.in"
	await "$name: the TLS session paused" grep -qx paused "$WORK/$name.out"
	offload_marked "$ns" "$sport" || fail "$name: the TLS connection was not marked for offload"
	if [ "$wait" = forgotten ]; then
		expect_eq "$name: no flow before this one" "$gone" 0
		await "$name: mailscand has forgotten the passed flow" stat_ge flows_timed_out 1
	fi
	spoof_syn "$c" "$s" "$sport"
	echo >&$GO
	await "$name: the client's end" sh -c "sed 1d '$WORK/$name.out' | grep ."
	out=$(sed 1d "$WORK/$name.out")
	[[ $out == "250 "* ]] || fail "$name: the TLS session after the SYN: '$out'"
	ok "$name: the TLS session went on past the SYN: $out"
	[ "$(stat offload_kept)" -gt "$kept" ] || fail "$name: offload_kept did not move"
	ok "$name: offload_kept $(stat offload_kept)"
	exec {GO}>&-
	# the port again, in plain text: followed from its SYN, scanned
	out=$(reuse "$s" 25 "$sport" "plain:$WORK/eicar.eml")
	[[ $out =~ ^$V ]] || fail "$name: a new connection from the port afterwards: '$out'"
	ok "$name: a new connection from the port afterwards is scanned"
}

# forgotten first: its passed flow is then the only one whose timeout the counter shows
live ipv4-forgotten $C4 $S4 40126 forgotten
live ipv4-at-once $C4 $S4 40125 at-once
live ipv6-at-once $C6 $S6 40127 at-once
await_delivered 3
expect_eq "clean messages stored" "$(delivered_count)" 3
nothing_infected_stored
expect_eq "tcp_syn_on_established" "$(stat tcp_syn_on_established)" 0
stop_daemon

# both ends gone, unheard: conntrack keeps the offloaded entry, the next SYN is answered
silent() { # NS ACTION SPORT|DPORT PORT: ACTION the RSTs and FINs NS sends with that port
	ip netns exec "$1" nft "$2" table inet silent 2>/dev/null
	[ "$2" = add ] && ip netns exec "$1" nft add chain inet silent out \
		'{ type filter hook output priority 0; policy accept; }' &&
		ip netns exec "$1" nft add rule inet silent out tcp "$3" "$4" \
			'tcp flags & (rst | fin) != 0 drop'
}
resync() { # NAME SPORT
	local name=$1 sport=$2 pid out
	mkfifo "$WORK/$name.in"
	bg sh -c "exec ip netns exec '$NS_C' '$PY' '$TOP/tests/tools/portreuse.py' '$S4' 25 $sport \
		'tlspause:$WORK/clean.eml' <'$WORK/$name.in' >'$WORK/$name.out'"
	pid=$!
	exec {GO}<>"$WORK/$name.in"
	await "$name: the TLS session paused" grep -qx paused "$WORK/$name.out"
	offload_marked "$NS_G" "$sport" || fail "$name: the TLS connection was not marked for offload"
	silent "$NS_C" add sport "$sport"
	silent "$NS_S" add dport "$sport"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	# the server's socket destroyed at once (its reset lost), not left to send its FIN
	in_s ss -HK "( dport = :$sport )" >/dev/null
	await "$name: neither end has the connection" sh -c "! ip netns exec '$NS_S' ss -Htn \
		'( dport = :$sport )' | grep . && ! ip netns exec '$NS_C' ss -Htn '( sport = :$sport )' | grep ."
	silent "$NS_C" delete
	silent "$NS_S" delete
	offload_marked "$NS_G" "$sport" || fail "$name: conntrack no longer holds the offloaded entry"
	ok "$name: conntrack holds the offloaded connection that neither end has"
	exec {GO}>&-
	out=$(reuse "$S4" 25 "$sport" "plain:$WORK/eicar.eml")
	[[ $out =~ ^$V ]] || fail "$name: a new connection on the offloaded entry: '$out'"
	ok "$name: a new connection on the offloaded entry is followed and scanned"
	offload_inherited "$NS_G" "$sport" && fail "$name: the new connection kept the mark"
	ok "$name: no mark carried over"
}
start_daemon "queues = 0"
resync ipv4-resync 40129
nothing_infected_stored
stop_daemon

start_host_daemon "$NS_S"
live host-at-once $C4 $S4 40128 at-once "$NS_S"
await_delivered 4
expect_eq "clean messages stored" "$(delivered_count)" 4
nothing_infected_stored
stop_host_daemon "$NS_S"
