#!/bin/bash
# A flood of tiny out-of-order segments during infected and clean POP3 transfers: the
# hostile server (rawtcp.py pop3d) sends 6,000 one-byte copies of its RETR response's
# own bytes (every other byte) ahead of the stream, more than the per-flow bound
# (ooo_segments, 4,096), then the response. Past the bound they are dropped and counted,
# the rest are kept; the infected message still never completes at the client (poplib is
# reset), the clean one is retrieved byte-identical, the server's connection ends.
# Gateway and host mode (on the client).
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
quiet_kernel "$NS_S"
for k in bigplaineicar bigplainclean; do make_mail $k; done
R='reset \(ConnectionResetError'

flood() { # MODE
	raw_pop3d_expect $S4 bigplaineicar oooflood "$R"
	raw_pop3d_expect $S4 bigplainclean oooflood ok
	[ "$(stat ooo_dropped)" -ge 2 ] || fail "$1: ooo_dropped $(stat ooo_dropped)"
	[ "$(stat reasm_out_of_order)" -ge 8192 ] || fail "$1: reasm_out_of_order $(stat reasm_out_of_order)"
	ok "$1: $(stat reasm_out_of_order) out-of-order segments kept, $(stat ooo_dropped) past the bound dropped"
	grep -q "policy=out_of_order action=drop" "$WORK/mailscand.log" || fail "$1: not logged"
	expect_eq "$1: pop3_messages_infected" "$(stat pop3_messages_infected)" 1
	expect_eq "$1: pop3_messages_clean" "$(stat pop3_messages_clean)" 1
}
start_daemon "queues = 0" "pop3_action = reset"
flood gateway
stop_daemon
: >"$WORK/mailscand.log"
start_host_daemon "$NS_C" "pop3_action = reset"
flood host
