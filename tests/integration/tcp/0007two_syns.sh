#!/bin/bash
# Two SYNs before the SYN-ACK, with and without data, in either order: the client's
# stream starts where the server's SYN-ACK says, and data on a SYN counts only if the
# server acknowledges it (mailscand removes it: the client sends it again after the
# handshake). An infected message gets the 554, a clean one arrives byte-identical, the
# server's connection is released. The server's first SYN-ACK of each connection is lost
# (a drop rule in its namespace), so both SYNs pass mailscand before the SYN-ACK it
# retransmits, every time; they leave 0.2 s apart, so that conntrack does not drop the
# second as a clash with the first still in the queue. Gateway and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
quiet_kernel "$NS_C"
lose_first_synack 25
for k in plaineicar plainclean; do make_mail $k; done
V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'
export SYN_GAP=0.2

both() { # MODE
	local t n
	n=$(lost_synacks)
	for t in syn2 syn2data syn2datarev; do
		raw_smtp_expect in_c $S4 plaineicar $t "$V"
		raw_smtp_expect in_c $S4 plainclean $t 250
	done
	expect_eq "$1: smtp_messages_infected" "$(stat smtp_messages_infected)" 3
	expect_eq "$1: a first SYN-ACK lost per connection" "$(lost_synacks)" $((n + 6))
	# the data on the first SYN or the second, both before the SYN-ACK (a SYN sent
	# again counts again)
	[ "$(stat tcp_syn_data_removed)" -ge 4 ] || fail "$1: tcp_syn_data_removed $(stat tcp_syn_data_removed)"
	ok "$1: data removed from $(stat tcp_syn_data_removed) SYNs"
	expect_eq "$1: tcp_syn_on_established (no SYN came after the SYN-ACK)" \
		"$(stat tcp_syn_on_established)" 0
}
start_daemon "queues = 0"
both gateway
stop_daemon
start_host_daemon "$NS_S"
both host
postfix_settle
nothing_infected_stored
expect_eq "stored: the clean ones" "$(delivered_count)" 6
