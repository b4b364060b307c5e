#!/bin/bash
# Two SYNs before the SYN-ACK, with and without data, in either order, from a hand-made
# POP3 client to dovecot: the client's stream starts where dovecot's SYN-ACK says, and
# data on a SYN (commands that, if believed, would pair dovecot's answers with commands
# it never read) counts only if the server acknowledges it (mailscand removes it). In
# one session per trick the client RETRs a clean message, retrieved byte-identical, then
# the infected one, which never completes (reset); dovecot's side is released. The
# server's first SYN-ACK of each connection is lost (a drop rule in its namespace), so
# both SYNs pass mailscand before the SYN-ACK it retransmits, every time. Gateway and
# host mode (on the server).
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
quiet_kernel "$NS_C"
in_s sysctl -qw net.netfilter.nf_conntrack_acct=1
in_s nft -f - <<'NFT' || fail "the rule that loses the first SYN-ACK"
table inet lost {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp sport 110 tcp flags & (syn | ack) == syn | ack ct reply packets 1 counter drop
	}
}
NFT
lost() { in_s nft list chain inet lost out | grep -o 'counter packets [0-9]*' | awk '{print $NF}'; }
for k in plainclean plaineicar; do make_mail $k; done
seed_mailbox "$WORK/plainclean.eml" "$WORK/plaineicar.eml"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

both() { # MODE
	local t out d n
	n=$(lost)
	for t in syn2 syn2data syn2datarev; do
		d=$WORK/got/$1-$t
		mkdir -p "$d"
		out=$(in_c "$PY" "$RAWTCP" pop3 $S4 110 "$d" $t 1 2)
		expect_eq "$1 $t: the clean message, then the infected one" "${out//$'\n'/ }" "1 ok 2 reset"
		same plainclean "$d/1" || fail "$1 $t: the clean message differs"
		[ ! -e "$d/2" ] || fail "$1 $t: the infected message completed"
		server_released "$NS_S" 110 || fail "$1 $t: dovecot's connection is left open"
		ok "$1 $t: clean retrieved byte-identical, infected reset, dovecot released"
	done
	expect_eq "$1: pop3_messages_infected" "$(stat pop3_messages_infected)" 3
	expect_eq "$1: pop3_messages_clean" "$(stat pop3_messages_clean)" 3
	expect_eq "$1: a first SYN-ACK lost per connection" "$(lost)" $((n + 3))
	# the data on the first SYN and on the second, both before the SYN-ACK
	expect_eq "$1: tcp_syn_data_removed" "$(stat tcp_syn_data_removed)" 2
	expect_eq "$1: tcp_syn_on_established (no SYN came after the SYN-ACK)" \
		"$(stat tcp_syn_on_established)" 0
}
start_daemon "queues = 0"
both gateway
stop_daemon
start_host_daemon "$NS_S"
both host
await "dovecot ended every session" pop3_sessions_ended 5
expect_eq "messages still on the server" "$(mailbox_count)" 2
