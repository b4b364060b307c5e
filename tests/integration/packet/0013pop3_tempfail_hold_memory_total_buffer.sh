#!/bin/bash
# POP3 with dovecot, in gateway and in host mode: an infected RETR that cannot be scanned
# in time or kept in memory takes the temporary failure, which for POP3 is a reset of
# both sides: a scanner slower than hold_timeout (a test key makes it spin), a message
# past message_memory, and a body whose bytes do not fit total_buffer (another
# connection's buffers fill it while the RETR is in progress). Each time the client gets
# a reset within seconds, never the whole message and never a bare timeout; it is
# counted and logged; dovecot's connection is released and it keeps the message; clean
# mail afterwards is retrieved byte-identical. The slow scanner and message_memory with
# both holds: pop3_hold = whole (the default: no byte of a body before its scan; a body
# that does not fit message_memory falls back to its end held, counted, then takes the
# same reset) and end (a body's bytes reach the client before its scan); total_buffer
# with end, where a RETR can be stopped in the middle of its body.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in bigplaineicar clean; do make_mail $k; done
printf 'Subject: slow\r\n\r\nSPINME slow to scan\r\n' >"$WORK/slow.eml"
make_mail plaineicar
cat "$WORK/slow.eml" "$WORK/plaineicar.eml" >"$WORK/slowinf.eml"
seed_mailbox "$WORK/slowinf.eml" "$WORK/bigplaineicar.eml" "$WORK/bigplaineicar.eml" "$WORK/clean.eml"
quiet_kernel "$NS_C" # for the hand-made filler; the other clients do not need their RSTs
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }
RESET="reset (ConnectionResetError)"
# logged PATTERN: this daemon's log has a line matching PATTERN
logged() {
	tail -n +"$LOG0" "$WORK/mailscand.log" | grep -q "$1" || fail "$MODE $HOLD: not logged: $1"
	ok "$MODE $HOLD: logged"
}
# clean_afterwards: the clean message is retrieved byte-identical
clean_afterwards() {
	mkdir -p "$WORK/$MODE-$HOLD"
	expect_eq "$MODE $HOLD: clean mail afterwards" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/$MODE-$HOLD" 4)" "4 ok"
	same clean "$WORK/$MODE-$HOLD/4" || fail "$MODE $HOLD: the clean message differs"
	ok "$MODE $HOLD: clean mail afterwards retrieved byte-identical"
}
released() {
	server_released "$NS_S" 110 || fail "$MODE $HOLD: dovecot's connection is left open"
	ok "$MODE $HOLD: dovecot's connection is released"
	expect_eq "$MODE $HOLD: dovecot keeps the messages" "$(mailbox_count)" 4
}
# retr_reset N WHAT: RETR N is reset (poplib reports no timeout), nothing retrieved, one
# reset counted
retr_reset() {
	expect_eq "$MODE $HOLD: $2: reset" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK" "$1")" "$RESET"
	[ ! -e "$WORK/$1" ] || fail "$MODE $HOLD: the infected message was retrieved"
	expect_eq "$MODE $HOLD: resets" "$(stat resets)" 1
}
new_daemon() {
	LOG0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1))
	start_daemon_mode "$MODE" "pop3_hold = $HOLD" "pop3_action = reset" "$@"
}

slow_scan_over() {
	local n=$(($(stat scans_killed) + $(stat scans_timeouts)))
	echo "scans killed or timed out: $n"
	[ "$n" -ge 1 ]
}
slow() {
	new_daemon "workers = 1" "hold_timeout = 3" "scan_timeout = 10" "test_spin = SPINME"
	retr_reset 1 "slower than hold_timeout"
	expect_eq "$MODE $HOLD: holds_expired" "$(stat holds_expired)" 1
	logged "policy=on_error reason=hold_expired proto=pop3 .* action=reset"
	released
	# the spinning scanner is killed at scan_timeout and forked again
	await "$MODE $HOLD: the slow scan ended" slow_scan_over
	await "$MODE $HOLD: every scanner forked" scanners_up
	clean_afterwards
	stop_daemon_mode
}

memory() {
	new_daemon "message_memory = 64K"
	retr_reset 2 "over message_memory"
	expect_eq "$MODE $HOLD: not oversize" "$(stat pop3_messages_oversize)" 0
	if [ "$HOLD" = whole ]; then
		expect_eq "$MODE $HOLD: the whole hold fell back to the end" "$(stat pop3_hold_fallbacks)" 1
	else
		expect_eq "$MODE $HOLD: no whole hold to fall back from" "$(stat pop3_hold_fallbacks)" 0
	fi
	logged "policy=message_memory proto=pop3 .* action=reset"
	released
	# the reset flow kept the body for a reading that goes on: it is given back
	await_stat message_bytes_kept 0 "$MODE $HOLD: the reset flow's message memory given back"
	clean_afterwards
	stop_daemon_mode
}

# reasm_mem TEST N: the reassembly buffers (as of the queue thread's last sweep, each
# second) compare to N with TEST
reasm_mem() {
	local n
	n=$(stat reasm_buffered_bytes)
	echo "reasm_buffered_bytes=$n"
	[ "${n:-0}" "$1" "$2" ]
}

total() {
	new_daemon "total_buffer = 64K"
	# the victim: 20 KB into the body, its window closed (with a small receive buffer, so
	# that its few bytes in flight need no buffer once acknowledged)
	mkfifo "$WORK/$MODE.in"
	bg in_c sh -c "exec '$PY' '$TOP/tests/tools/pop3pause.py' $S4 110 3 20000 '$WORK/$MODE.got' \
		<'$WORK/$MODE.in' >'$WORK/$MODE.out'"
	exec {GO}<>"$WORK/$MODE.in"
	await "$MODE $HOLD: the infected RETR in progress" grep -qx paused "$WORK/$MODE.out"
	coproc FILL { in_c "$PY" "$TOP/tests/tools/buffill.py" "$S4" 110 32700; }
	read -r -t "$DEADLINE" line <&"${FILL[0]}"
	expect_eq "$MODE $HOLD: the filler holds the memory" "$line" "ready"
	# less than the smallest buffer a direction takes (512 bytes) is left
	await "$MODE $HOLD: total_buffer full" reasm_mem -gt $((65536 - 512))
	echo >&$GO
	await "$MODE $HOLD: the client's end" sh -c "sed 1d '$WORK/$MODE.out' | grep ."
	expect_eq "$MODE $HOLD: the body past total_buffer: reset" "$(sed 1d "$WORK/$MODE.out")" reset
	[ ! -e "$WORK/$MODE.got" ] || fail "$MODE $HOLD: the infected message was retrieved"
	expect_eq "$MODE $HOLD: total_buffer_tempfail" "$(stat total_buffer_tempfail)" 1
	expect_eq "$MODE $HOLD: pop3_messages_infected (never ended)" "$(stat pop3_messages_infected)" 0
	logged "policy=total_buffer action=tempfail"
	echo >&"${FILL[1]}"
	read -r -t "$DEADLINE" line <&"${FILL[0]}"
	expect_eq "$MODE $HOLD: the filler let go" "$line" "released"
	wait "$FILL_PID" 2>/dev/null
	released
	await "$MODE $HOLD: the memory given back by the reset flows" reasm_mem -eq 0
	clean_afterwards
	stop_daemon_mode
}

for MODE in gateway host; do
	for HOLD in whole end; do
		echo "# $MODE, pop3_hold = $HOLD"
		slow
		memory
	done
	HOLD=end
	total
done
