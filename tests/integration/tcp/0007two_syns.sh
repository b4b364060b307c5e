#!/bin/bash
# Two SYNs before the SYN-ACK, with and without data, in either order: the client's
# stream starts where the server's SYN-ACK says, and data on a SYN counts only if the
# server acknowledges it (mailscand removes it: the client sends it again after the
# handshake). An infected message gets the 554, a clean one arrives byte-identical, the
# server's connection is released. Gateway and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
quiet_kernel "$NS_C"
for k in plaineicar plainclean; do make_mail $k; done
V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'

both() { # MODE
	for t in syn2 syn2data syn2datarev; do
		raw_smtp_expect in_c $S4 plaineicar $t "$V"
		raw_smtp_expect in_c $S4 plainclean $t 250
	done
	expect_eq "$1: smtp_messages_infected" "$(stat smtp_messages_infected)" 3
	# every SYN's data was removed, or the SYN came after the SYN-ACK and was dropped
	# (the receiver keeps its connection): the second SYN may lose the race
	r=$(stat tcp_syn_data_removed) d=$(stat tcp_syn_on_established)
	[ "$r" -ge 2 ] && [ $((r + d)) -ge 4 ] || fail "$1: tcp_syn_data_removed $r, tcp_syn_on_established $d"
	ok "$1: SYN data removed $r times, late SYNs dropped $d times"
}
start_daemon "queues = 0"
both gateway
stop_daemon
start_host_daemon "$NS_S"
both host
postfix_settle
nothing_infected_stored
expect_eq "stored: the clean ones" "$(delivered_count)" 6
