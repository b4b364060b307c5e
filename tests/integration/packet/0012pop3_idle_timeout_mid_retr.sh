#!/bin/bash
# POP3 with dovecot, in gateway and in host mode: a client stopped in the middle of an
# infected RETR (its window closed, dovecot waiting) past idle_timeout (5 s) is reset on
# both sides, never forgotten: the client reads a reset when it goes on, never the whole
# message and never a bare timeout; dovecot's connection is released and it keeps the
# message; counted and logged. Clean mail afterwards is retrieved byte-identical.
# (pop3_hold = end, where a body's bytes reach the client before its scan.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in bigplaineicar bigplainclean; do make_mail $k; done
seed_mailbox "$WORK/bigplaineicar.eml" "$WORK/bigplainclean.eml"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

idle() { # MODE
	local m=$1 log0
	log0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1))
	start_daemon_mode "$m" "pop3_hold = end" "pop3_action = reset" "idle_timeout = 5"
	mkfifo "$WORK/$m.in"
	bg in_c sh -c "exec '$PY' '$TOP/tests/tools/pop3pause.py' $S4 110 1 20000 '$WORK/$m.got' \
		<'$WORK/$m.in' >'$WORK/$m.out'"
	exec {GO}<>"$WORK/$m.in"
	await "$m: the infected RETR in progress" grep -qx paused "$WORK/$m.out"
	# dovecot probes the closed window less and less often: then the flow is idle
	await_stat flows_idle_reset 1 "$m: the stopped RETR reset past idle_timeout"
	expect_eq "$m: flows_timed_out" "$(stat flows_timed_out)" 1
	server_released "$NS_S" 110 || fail "$m: dovecot's connection is left open"
	ok "$m: dovecot's connection is released"
	echo >&$GO
	await "$m: the client's end" sh -c "sed 1d '$WORK/$m.out' | grep ."
	expect_eq "$m: the client reads a reset, never the whole message" \
		"$(sed 1d "$WORK/$m.out")" reset
	[ ! -e "$WORK/$m.got" ] || fail "$m: the infected message was retrieved"
	tail -n +"$log0" "$WORK/mailscand.log" | grep -q "policy=idle_timeout action=reset" ||
		fail "$m: not logged"
	ok "$m: logged"
	expect_eq "$m: pop3_messages_infected (never scanned: it never ended)" \
		"$(stat pop3_messages_infected)" 0
	expect_eq "$m: dovecot keeps the messages" "$(mailbox_count)" 2
	mkdir -p "$WORK/$m"
	expect_eq "$m: clean mail afterwards" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/$m" 2)" \
		"2 ok"
	same bigplainclean "$WORK/$m/2" || fail "$m: the clean message afterwards differs"
	ok "$m: clean mail afterwards retrieved byte-identical"
	stop_daemon_mode
}

idle gateway
idle host
