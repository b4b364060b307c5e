#!/bin/bash
# Nothing passes unscanned because scanning is slow or memory is short: a temporary
# failure, so the sending server tries again later; in gateway and in host mode. A
# scanner slower than hold_timeout (a test key makes it spin): the client gets 451 4.7.1
# in place of the reply to the end of data, the server aborts the transaction and stores
# nothing; a message queued behind it whose hold expired is not scanned at all. A
# message that does not fit message_memory gets 451 too, never oversize. Clean mail
# afterwards arrives. (POP3 with the gateway here; both modes in 0013.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in clean plaineicar; do make_mail $k; done
printf 'Subject: slow\r\n\r\nSPINME slow to scan\r\n' >"$WORK/slow.eml"
T='451 4\.7\.1 '
head -c 300000 /dev/urandom | base64 -w 76 | sed 's/$/\r/' >"$WORK/big.body"
{ printf 'Subject: big\r\n\r\n'; cat "$WORK/big.body"; } >"$WORK/big.eml"

slow() { # MODE
	local m=$1 log0 out p1
	log0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1))
	start_daemon_mode "$m" "workers = 1" "hold_timeout = 3" "scan_timeout = 10" \
		"test_spin = SPINME"
	# the slow one first, then one behind it on the same (only) scanner
	(smtp_send $S4 25 slow smtplib >"$WORK/$m.slow.out") &
	p1=$!
	await_stat scan_queue_current 0 "$m: the slow message taken by the scanner"
	await "$m: the slow message is being scanned" stat_ge holds_current 1
	out=$(smtp_send $S4 25 plaineicar smtplib)
	[[ $out =~ ^$T ]] || fail "$m: queued behind the slow scan: '$out'"
	ok "$m: queued behind the slow scan: $out"
	wait $p1
	[[ $(cat "$WORK/$m.slow.out") =~ ^$T ]] || fail "$m: slow scan: '$(cat "$WORK/$m.slow.out")'"
	ok "$m: slower than hold_timeout: $(cat "$WORK/$m.slow.out")"
	expect_eq "$m: holds_expired" "$(stat holds_expired)" 2
	await_stat scans_expired 1 "$m: the expired job skipped"
	expect_eq "$m: smtp_tempfail" "$(stat smtp_tempfail)" 2
	server_released "$NS_S" 25 || fail "$m: the server's connections are left open"
	tail -n +"$log0" "$WORK/mailscand.log" |
		grep -q "policy=on_error reason=hold_expired proto=smtp .* action=tempfail" ||
		fail "$m: not logged"
	ok "$m: logged"
	stop_daemon_mode
}

memory() { # MODE: a message that does not fit is deferred, not passed as oversize
	local m=$1 out
	start_daemon_mode "$m" "message_memory = 64K"
	out=$(smtp_send $S4 25 big smtplib)
	[[ $out =~ ^$T ]] || fail "$m: over message_memory: '$out'"
	ok "$m: over message_memory: $out"
	expect_eq "$m: not oversize" "$(stat smtp_messages_oversize)" 0
	expect_eq "$m: smtp_tempfail" "$(stat smtp_tempfail)" 1
	expect_eq "$m: clean mail that fits" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
	postfix_settle
	stop_daemon_mode
}

for mode in gateway host; do
	slow $mode
	memory $mode
done
expect_eq "stored: the clean messages only" "$(delivered_count)" 2
nothing_infected_stored
was_delivered clean || fail "the clean message is not intact"
ok "the clean messages arrived intact"

# POP3 has no temporary failure for a message: the client is reset, the server keeps it
start_dovecot
seed_mailbox "$WORK/slow.eml" "$WORK/clean.eml"
start_daemon "queues = 0" "workers = 1" "hold_timeout = 3" "scan_timeout = 10" "test_spin = SPINME"
SECONDS=0
out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/pop" 1)
expect_eq "POP3, slower than hold_timeout: reset" "$out" "reset (ConnectionResetError)"
[ "$SECONDS" -lt 20 ] || fail "the POP3 client waited $SECONDS s for its reset"
expect_eq "the server keeps both messages" "$(mailbox_count)" 2
stop_daemon
