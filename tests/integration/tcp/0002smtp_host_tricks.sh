#!/bin/bash
# TCP normalisation in host mode: mailscand on the mail server itself (input and output
# hooks) against the same hand-made segments as in gateway mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_host_daemon "$NS_S"
quiet_kernel "$NS_C"
for k in plaineicar plainclean bigplaineicar; do make_mail $k; done

V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'
raw_smtp_expect in_c $S4 plaineicar urg 250
for t in syn badsum conflict-real-first paws; do
	raw_smtp_expect in_c $S4 plaineicar $t "$V"
	raw_smtp_expect in_c $S6 plaineicar $t "$V"
done
raw_smtp_expect in_c $S4 bigplaineicar window "$V"
raw_smtp_expect in_c $S4 plaineicar fin 'reset|closed'
for t in urg badsum repack; do
	raw_smtp_expect in_c $S4 plainclean $t 250
done
nothing_infected_stored
expect_eq "smtp_messages_infected" "$(stat smtp_messages_infected)" 9
expect_eq "tcp_urg_cleared" "$(stat tcp_urg_cleared)" 2
expect_eq "tcp_syn_on_established" "$(stat tcp_syn_on_established)" 2
expect_eq "tcp_data_after_close" "$(stat tcp_data_after_close)" 1
for c in tcp_bad_checksum tcp_paws_dropped tcp_rewritten tcp_out_of_window; do
	[ "$(stat $c)" -ge 1 ] || fail "$c not counted"
done
ok "every trick counted"
