#!/bin/bash
# A pass verdict lives exactly as long as its connection, for POP3 too. A client
# retrieves a clean message from dovecot over STLS (the flow is passed and its conntrack
# entry marked for offload), then at once opens a new connection from the same port and
# RETRs the infected message in plain text: the new connection is followed from its SYN
# and the message never completes (reset). The same from the port of that reset
# connection; then the clean message from that port is retrieved byte-identical.
# conntrack shows the mark only on the STLS connection, every new connection's SYN
# reaches the queue, and dovecot's side of each connection is released. Gateway (IPv4,
# IPv6) and host mode, on the server and on the client.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean plaineicar; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/plaineicar.eml"
mkdir -p "$WORK/got"
reuse() { in_c "$PY" "$TOP/tests/tools/portreuse.py" "$@"; }
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

check_mode() { # MODE NS SERVER PORT
	local mode=$1 ns=$2 host=$3 sport=$4 out total inf clean stls g=$WORK/got/$4
	total=$(stat flows_total) inf=$(stat pop3_messages_infected)
	clean=$(stat pop3_messages_clean) stls=$(stat pop3_stls)
	mkdir -p "$g/tls" "$g/inf1" "$g/inf2" "$g/plain"
	out=$(reuse "$host" 110 "$sport" "pop3tls:1:$g/tls")
	expect_eq "$mode: clean over STLS from port $sport" "$out" ok
	same clean "$g/tls/1" || fail "$mode: the message over STLS differs"
	offload_marked "$ns" "$sport" || fail "$mode: the STLS connection was not marked for offload"
	ok "$mode: conntrack marked the STLS connection for offload"
	# at once, from the same port: a new connection, scanned; then from the port of the
	# connection mailscand reset
	out=$(reuse "$host" 110 "$sport" "pop3:2:$g/inf1" "pop3:2:$g/inf2" "pop3:1:$g/plain")
	expect_eq "$mode: after the pass, after the reset, then clean" "${out//$'\n'/ }" "reset reset ok"
	[ ! -e "$g/inf1/2" ] && [ ! -e "$g/inf2/2" ] || fail "$mode: the infected message completed"
	ok "$mode: a new connection from the passed one's port, and from the reset one's, is scanned"
	same clean "$g/plain/1" || fail "$mode: the clean message from the same port differs"
	ok "$mode: the clean message from the same port is retrieved byte-identical"
	server_released "$NS_S" 110 || fail "$mode: dovecot's connections are left open"
	ok "$mode: dovecot's connections are released"
	expect_eq "$mode: every SYN reached the queue (flows_total)" "$(stat flows_total)" $((total + 4))
	expect_eq "$mode: pop3_stls" "$(stat pop3_stls)" $((stls + 1))
	expect_eq "$mode: pop3_messages_infected" "$(stat pop3_messages_infected)" $((inf + 2))
	expect_eq "$mode: pop3_messages_clean" "$(stat pop3_messages_clean)" $((clean + 1))
	offload_inherited "$ns" "$sport" && fail "$mode: a connection after the STLS one kept its mark"
	ok "$mode: no connection after the STLS one inherited the mark"
}

start_daemon "queues = 0" "pop3_action = reset"
check_mode gateway "$NS_G" $S4 40110
check_mode "gateway IPv6" "$NS_G" $S6 40111
stop_daemon

start_host_daemon "$NS_S" "pop3_action = reset"
check_mode "host (server)" "$NS_S" $S4 40112
stop_host_daemon "$NS_S"

start_host_daemon "$NS_C" "pop3_action = reset"
check_mode "host (client)" "$NS_C" $S4 40113
expect_eq "messages still on the server" "$(mailbox_count)" 2
