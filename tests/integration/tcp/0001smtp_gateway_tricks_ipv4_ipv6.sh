#!/bin/bash
# TCP normalisation, gateway mode, against a real postfix: a hand-made client bends its
# segments the ways the receiver's TCP (Linux) reads differently from a naive
# reassembler. Whatever the trick, postfix stores exactly the bytes mailscand scanned:
# the infected message is rejected with the 554 (or the connection reset), a clean one
# arrives byte-identical, the server's connection is released, nothing hangs.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0"
quiet_kernel "$NS_C"
for k in plaineicar plainclean bigplaineicar bigplainclean; do make_mail $k; done

V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'
# urgent byte inside EICAR: read inline (as scanned) it breaks the signature: stored
raw_smtp_expect in_c $S4 plaineicar urg 250
# a benign copy first, then the real bytes: the first copy is what postfix gets
raw_smtp_expect in_c $S4 plaineicar conflict 250
for t in syn badsum conflict-real-first repack finooo paws; do
	raw_smtp_expect in_c $S4 plaineicar $t "$V"
done
raw_smtp_expect in_c $S4 bigplaineicar window "$V"
# data after the client's own FIN: postfix never reads it; mailscand resets
raw_smtp_expect in_c $S4 plaineicar fin 'reset|closed'
# a reset inside the window but off rcv_nxt, then silence past the closing linger
raw_smtp_expect in_c $S4 plaineicar rst "$V"
for t in urg syn badsum conflict conflict-real-first repack finooo paws; do
	raw_smtp_expect in_c $S4 plainclean $t 250
done
raw_smtp_expect in_c $S4 bigplainclean window 250
for t in urg syn badsum conflict-real-first paws; do
	raw_smtp_expect in_c $S6 plaineicar $t "$(if [ $t = urg ]; then echo 250; else echo "$V"; fi)"
	raw_smtp_expect in_c $S6 plainclean $t 250
done

nothing_infected_stored
expect_eq "smtp_messages_infected" "$(stat smtp_messages_infected)" 12
expect_eq "tcp_urg_cleared" "$(stat tcp_urg_cleared)" 4
expect_eq "tcp_syn_on_established" "$(stat tcp_syn_on_established)" 4
expect_eq "tcp_rst_ignored" "$(stat tcp_rst_ignored)" 1
expect_eq "tcp_data_after_close" "$(stat tcp_data_after_close)" 1
[ "$(stat tcp_bad_checksum)" -ge 4 ] || fail "tcp_bad_checksum $(stat tcp_bad_checksum)"
[ "$(stat tcp_paws_dropped)" -ge 4 ] || fail "tcp_paws_dropped $(stat tcp_paws_dropped)"
# a clean message has no EICAR to make a benign copy of: its copies are equal
expect_eq "tcp_rewritten" "$(stat tcp_rewritten)" 3
[ "$(stat tcp_out_of_window)" -ge 2 ] || fail "tcp_out_of_window $(stat tcp_out_of_window)"
ok "every trick counted"
# logged once per flow and kind
n=$(grep -c "tcp urgent pointer: cleared" "$WORK/mailscand.log")
expect_eq "urgent pointer warnings" "$n" 4
