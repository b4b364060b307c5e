#!/bin/bash
# Nothing passes unscanned because scanning is slow or memory is short: a temporary
# failure, so the sending server tries again later. A scanner slower than hold_timeout
# (a test key makes it spin): the client gets 451 4.7.1 in place of the reply to the end
# of data, the server aborts the transaction and stores nothing; a message queued behind
# it whose hold expired is not scanned at all; a POP3 client is reset (dovecot keeps the
# message). A message that does not fit
# message_memory gets 451 too, never oversize. Clean mail afterwards arrives.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in clean plaineicar; do make_mail $k; done
printf 'Subject: slow\r\n\r\nSPINME slow to scan\r\n' >"$WORK/slow.eml"
T='451 4\.7\.1 '

start_daemon "queues = 0" "workers = 1" "hold_timeout = 3" "scan_timeout = 30" "test_spin = SPINME"
# the slow one first, then one behind it on the same (only) scanner
(smtp_send $S4 25 slow smtplib >"$WORK/slow.out") &
p1=$!
await_stat scan_queue_current 0 "the slow message taken by the scanner"
await "the slow message is being scanned" stat_ge holds_current 1
out=$(smtp_send $S4 25 plaineicar smtplib)
[[ $out =~ ^$T ]] || fail "queued behind the slow scan: '$out'"
ok "queued behind the slow scan: $out"
wait $p1
[[ $(cat "$WORK/slow.out") =~ ^$T ]] || fail "slow scan: '$(cat "$WORK/slow.out")'"
ok "slower than hold_timeout: $(cat "$WORK/slow.out")"
expect_eq "holds_expired" "$(stat holds_expired)" 2
await_stat scans_expired 1 "the expired job skipped"
expect_eq "smtp_tempfail" "$(stat smtp_tempfail)" 2
server_released "$NS_S" 25 || fail "the server's connections are left open"
grep -q "policy=on_error reason=hold_expired proto=smtp .* action=tempfail" "$WORK/mailscand.log" ||
	fail "not logged"
ok "logged"
stop_daemon

# POP3 has no temporary failure for a message: the client is reset, the server keeps it
start_dovecot
seed_mailbox "$WORK/slow.eml" "$WORK/clean.eml"
start_daemon "queues = 0" "workers = 1" "hold_timeout = 3" "scan_timeout = 30" "test_spin = SPINME"
SECONDS=0
out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/pop" 1)
expect_eq "POP3, slower than hold_timeout: reset" "$out" "reset (ConnectionResetError)"
[ "$SECONDS" -lt 20 ] || fail "the POP3 client waited $SECONDS s for its reset"
expect_eq "the server keeps both messages" "$(mailbox_count)" 2
stop_daemon

# message_memory: a message that does not fit is deferred, not passed as oversize
head -c 300000 /dev/urandom | base64 -w 76 | sed 's/$/\r/' >"$WORK/big.body"
{ printf 'Subject: big\r\n\r\n'; cat "$WORK/big.body"; } >"$WORK/big.eml"
start_daemon "queues = 0" "message_memory = 64K"
out=$(smtp_send $S4 25 big smtplib)
[[ $out =~ ^$T ]] || fail "over message_memory: '$out'"
ok "over message_memory: $out"
expect_eq "not oversize" "$(stat smtp_messages_oversize)" 0
expect_eq "smtp_tempfail" "$(stat smtp_tempfail)" 1
expect_eq "clean mail that fits" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
postfix_settle
expect_eq "stored: the clean message only" "$(delivered_count)" 1
was_delivered clean || fail "the clean message is not intact"
ok "the clean message arrived intact"
