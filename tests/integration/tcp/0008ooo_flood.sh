#!/bin/bash
# A flood of tiny out-of-order segments during infected and clean transfers: 6,000
# one-byte copies of the message's own bytes (every other byte) ahead of the stream,
# more than the per-flow bound (ooo_segments, 4,096). Past the bound they are dropped and
# counted, the rest are kept; the infected message still gets the 554, the clean one
# arrives byte-identical, the server's connection is released. Gateway and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
quiet_kernel "$NS_C"
for k in bigplaineicar bigplainclean; do make_mail $k; done
V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'

flood() { # MODE
	raw_smtp_expect in_c $S4 bigplaineicar oooflood "$V"
	raw_smtp_expect in_c $S4 bigplainclean oooflood 250
	[ "$(stat ooo_dropped)" -ge 2 ] || fail "$1: ooo_dropped $(stat ooo_dropped)"
	[ "$(stat reasm_out_of_order)" -ge 8192 ] || fail "$1: reasm_out_of_order $(stat reasm_out_of_order)"
	ok "$1: $(stat reasm_out_of_order) out-of-order segments kept, $(stat ooo_dropped) past the bound dropped"
	grep -q "policy=out_of_order action=drop" "$WORK/mailscand.log" || fail "$1: not logged"
}
start_daemon "queues = 0"
flood gateway
stop_daemon
start_host_daemon "$NS_S"
flood host
postfix_settle
nothing_infected_stored
expect_eq "stored: the clean ones" "$(delivered_count)" 2
