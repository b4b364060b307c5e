#!/bin/bash
# A pass verdict lives exactly as long as its connection. A client passes a clean
# message over STARTTLS (the flow is passed and its conntrack entry marked for
# offload), then at once opens a new connection from the same port and sends EICAR in
# plain text: the new connection is followed from its SYN and rejected. The same after
# a connection that was rejected (reset by mailscand). conntrack shows the mark only on
# the TLS connection, and every new connection's SYN reaches the queue. Gateway (IPv4,
# IPv6) and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in clean eicar; do make_mail $k; done
reuse() { in_c "$PY" "$TOP/tests/tools/portreuse.py" "$@"; }
V='554 5.7.1 Virus found: MailscanTest.EICAR'

check_mode() { # MODE NS SERVER PORT
	local mode=$1 ns=$2 host=$3 sport=$4 out total
	total=$(stat flows_total)
	out=$(reuse "$host" 25 "$sport" "tls:$WORK/clean.eml")
	expect_eq "$mode: clean over STARTTLS from port $sport" "$out" "250 2.0.0 Ok: queued as ${out##* }"
	offload_marked "$ns" "$sport" || fail "$mode: the TLS connection was not marked for offload"
	ok "$mode: conntrack marked the TLS connection for offload"
	# at once, from the same port: a new connection, scanned
	out=$(reuse "$host" 25 "$sport" "plain:$WORK/eicar.eml" "plain:$WORK/eicar.eml" "plain:$WORK/clean.eml")
	[[ $(echo "$out" | sed -n 1p) =~ ^$V ]] || fail "$mode: after the pass: '$out'"
	ok "$mode: a new connection from the passed one's port is scanned: $(echo "$out" | sed -n 1p)"
	# after a connection that was rejected (reset by mailscand)
	[[ $(echo "$out" | sed -n 2p) =~ ^$V ]] || fail "$mode: after the reject: '$out'"
	ok "$mode: a new connection from a rejected one's port is scanned"
	[[ $(echo "$out" | sed -n 3p) == 250* ]] || fail "$mode: clean after the reject: '$out'"
	ok "$mode: clean mail from the same port is delivered"
	expect_eq "$mode: every SYN reached the queue (flows_total)" "$(stat flows_total)" $((total + 4))
	# the plain connections carry no offload mark: conntrack shows them unmarked
	offload_inherited "$ns" "$sport" && fail "$mode: a connection after the TLS one kept its mark"
	ok "$mode: no connection after the TLS one inherited the mark"
}

start_daemon "queues = 0"
check_mode gateway "$NS_G" $S4 40025
check_mode "gateway IPv6" "$NS_G" $S6 40027
stop_daemon

start_host_daemon "$NS_S"
check_mode host "$NS_S" $S4 40026
stop_host_daemon "$NS_S"

postfix_settle
nothing_infected_stored
expect_eq "stored: the TLS and the plain clean messages" "$(delivered_count)" 6
