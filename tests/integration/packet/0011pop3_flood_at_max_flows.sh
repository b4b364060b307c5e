#!/bin/bash
# POP3 with dovecot, in gateway and in host mode: a flood of connections at a small
# max_flows while two RETRs are in progress (their clients stopped in the middle of the
# bodies). With every place an open connection, the SYNs that find no room are refused
# and counted, and nothing is evicted. Then spoofed SYNs take the places of the closed
# connections and of the half-open ones: those are evicted, and a late SYN-ACK of an
# evicted handshake is reset, never passed. The two RETRs were followed all along: the
# infected message never completes (the client is reset, dovecot keeps it), the clean
# one arrives byte-identical; dovecot's connections are released, and clean mail
# afterwards is intact. (pop3_hold = end, where a body's bytes reach the client before
# its scan, so that a RETR can be stopped in its middle.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in bigplaineicar bigplainclean clean; do make_mail $k; done
seed_mailbox "$WORK/bigplaineicar.eml" "$WORK/bigplainclean.eml" "$WORK/clean.eml"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

# pause_retr NAME N: a client 20 KB into the body of message N, stopped there; it goes
# on at "go NAME", and prints how its RETR ended to $WORK/NAME.out
pause_retr() {
	mkfifo "$WORK/$1.in"
	bg in_c sh -c "exec '$PY' '$TOP/tests/tools/pop3pause.py' $S4 110 $2 20000 '$WORK/$1.got' \
		<'$WORK/$1.in' >'$WORK/$1.out'"
	eval "exec {PAUSE_$1}<>'$WORK/$1.in'"
	await "$1: RETR $2 in progress" grep -qx paused "$WORK/$1.out"
}
go() { eval "echo >&\$PAUSE_$1"; }
# ended NAME: how the RETR ended, once it has
ended() { await "$1: the end of its RETR" sh -c "sed 1d '$WORK/$1.out' | grep ." && sed 1d "$WORK/$1.out"; }

flood() { # MODE
	start_daemon_mode "$1" "pop3_hold = end" "pop3_action = reset" "max_flows = 16" "midstream_grace = 0"
	pause_retr "${1}_inf" 1
	pause_retr "${1}_clean" 2

	# the table filled with open connections, then more: no flow can make room, the
	# new SYNs are refused (the clients send them again), and nothing is evicted
	mkfifo "$WORK/$1-flood.in"
	bg in_c sh -c "exec '$PY' -c \"
import socket, sys
held = [socket.create_connection(('$S4', 110), timeout=30) for _ in range(14)]
more = []
for _ in range(26):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(('$S4', 110))
    more.append(s)
print('flood', flush=True)
sys.stdin.readline()
for s in held + more:
    s.close()
print('closed', flush=True)
\" <'$WORK/$1-flood.in' >'$WORK/$1-flood.out'"
	exec {FLOOD}<>"$WORK/$1-flood.in"
	await "the table filled, the flood sent" grep -qx flood "$WORK/$1-flood.out"
	await "the SYNs past the table refused" stat_ge flows_refused 26
	expect_eq "$1: flows_evicted (every flow an open connection)" "$(stat flows_evicted)" 0
	[ "$(stat flows_active)" -le 16 ] || fail "flows_active $(stat flows_active) over max_flows"
	tail -n +"$LOG0" "$WORK/mailscand.log" | grep -q "policy=max_flows action=drop" ||
		fail "not logged"
	ok "$1: new SYNs refused at max_flows ($(stat flows_refused)), counted and logged"
	echo >&$FLOOD
	await "the flood's connections closed" grep -qx closed "$WORK/$1-flood.out"
	# closed, they are tombstones, which can make room
	await "the flood's connections ended" sh -c "n=\$(ip netns exec $NS_S ss -Htn state established '( sport = :110 )' | wc -l); echo \$n established; [ \$n = 2 ]"

	# spoofed SYNs: each takes the place of a flow that is not an open connection
	in_c "$PY" - "$S4" <<'PY' || fail "scapy"
import random, sys
from scapy.all import IP, TCP, send
random.seed(11)
send([IP(src=f"10.89.1.{random.randint(100, 250)}", dst=sys.argv[1]) /
      TCP(sport=random.randint(1024, 65535), dport=110, flags="S", seq=random.getrandbits(32))
      for _ in range(1000)], verbose=0)
PY
	await "flows evicted for the spoofed SYNs" stat_ge flows_evicted 900
	# dovecot answers the evicted handshakes (and sends its SYN-ACKs again): reset
	await "a late SYN-ACK of an evicted handshake reset" stat_ge midstream_reset 1
	expect_eq "$1: midstream_passed" "$(stat midstream_passed)" 0
	[ "$(stat flows_active)" -le 16 ] || fail "flows_active $(stat flows_active) over max_flows"
	ok "$1: half-open flows and tombstones evicted ($(stat flows_evicted)), late packets reset"

	# the two RETRs go on: they were never evicted
	go "${1}_inf"
	expect_eq "$1: the infected message never completes" "$(ended "${1}_inf")" reset
	go "${1}_clean"
	expect_eq "$1: the clean message completes" "$(ended "${1}_clean")" complete
	same bigplainclean "$WORK/${1}_clean.got" || fail "the clean message differs"
	ok "$1: the clean message retrieved byte-identical"
	expect_eq "$1: pop3_messages_infected (the RETR was followed)" \
		"$(stat pop3_messages_infected)" 1
	expect_eq "$1: pop3_messages_clean" "$(stat pop3_messages_clean)" 1
	server_released "$NS_S" 110 || fail "dovecot's connections are left open"
	ok "$1: dovecot's connections are released"
	expect_eq "$1: dovecot keeps the infected message" "$(mailbox_count)" 3
	mkdir -p "$WORK/$1"
	expect_eq "$1: clean mail afterwards" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/$1" 3)" "3 ok"
	same clean "$WORK/$1/3" || fail "the clean message afterwards differs"
	ok "$1: clean mail afterwards retrieved byte-identical"
	stop_daemon_mode
}

for mode in gateway host; do
	LOG0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1)) # this run's log lines
	flood $mode
done
