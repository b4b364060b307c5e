#!/bin/bash
# Two SYNs before the SYN-ACK, with and without data, in either order, from a hand-made
# POP3 client to dovecot: the client's stream starts where dovecot's SYN-ACK says, and
# data on a SYN (commands that, if believed, would pair dovecot's answers with commands
# it never read) counts only if the server acknowledges it (mailscand removes it). In
# one session per trick the client RETRs a clean message, retrieved byte-identical, then
# the infected one, which never completes (reset); dovecot's side is released. The
# server's first SYN-ACK of each connection is lost (a drop rule in its namespace), so
# both SYNs pass mailscand before the SYN-ACK it retransmits, every time; they leave
# 0.2 s apart, so that conntrack does not drop the second as a clash with the first
# still in the queue (the client would send it again). Gateway and host mode (on the
# server); then in gateway mode without min_ttl, the first SYN leaves with TTL 2 and
# expires before dovecot (a TTL 1 drop rule stands for the next hop), so that dovecot
# acknowledges the second.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
quiet_kernel "$NS_C"
lose_first_synack 110
for k in plainclean plaineicar; do make_mail $k; done
seed_mailbox "$WORK/plainclean.eml" "$WORK/plaineicar.eml"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

both() { # MODE [TRICK SUFFIX]
	local t out d n
	n=$(lost_synacks)
	for t in syn2$2 syn2data$2 syn2datarev$2; do
		d=$WORK/got/$1-$t
		mkdir -p "$d"
		out=$(SYN_GAP=0.2 in_c "$PY" "$RAWTCP" pop3 $S4 110 "$d" $t 1 2)
		expect_eq "$1 $t: the clean message, then the infected one" "${out//$'\n'/ }" "1 ok 2 reset"
		same plainclean "$d/1" || fail "$1 $t: the clean message differs"
		[ ! -e "$d/2" ] || fail "$1 $t: the infected message completed"
		server_released "$NS_S" 110 || fail "$1 $t: dovecot's connection is left open"
		ok "$1 $t: clean retrieved byte-identical, infected reset, dovecot released"
	done
	expect_eq "$1: pop3_messages_infected" "$(stat pop3_messages_infected)" 3
	expect_eq "$1: pop3_messages_clean" "$(stat pop3_messages_clean)" 3
	expect_eq "$1: a first SYN-ACK lost per connection" "$(lost_synacks)" $((n + 3))
	# the data on the first SYN and on the second, both before the SYN-ACK (a SYN sent
	# again counts again)
	[ "$(stat tcp_syn_data_removed)" -ge 2 ] || fail "$1: tcp_syn_data_removed $(stat tcp_syn_data_removed)"
	ok "$1: data removed from $(stat tcp_syn_data_removed) SYNs"
	expect_eq "$1: tcp_syn_on_established (no SYN came after the SYN-ACK)" \
		"$(stat tcp_syn_on_established)" 0
}
start_daemon "queues = 0" "pop3_action = reset"
both gateway
stop_daemon
start_host_daemon "$NS_S" "pop3_action = reset"
both host
stop_host_daemon "$NS_S"

next_hop "$NS_S"
start_daemon "queues = 0" "pop3_action = reset" "min_ttl = 0"
both "gateway, the first SYN lost" lost
expect_eq "every first SYN expired before dovecot" "$(next_hop_expired "$NS_S" ip)" 3
expect_eq "tcp_ttl_raised" "$(stat tcp_ttl_raised)" 0
await "dovecot ended every session" pop3_sessions_ended 8
expect_eq "messages still on the server" "$(mailbox_count)" 2
