#!/bin/bash
# The SMTP policies end to end, with swaks as the client: oversize (pass and block),
# smtp_action monitor (delivered, counted, logged) and reset (both sides reset).
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
make_mail eicar
printf 'X5O!P%%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$WORK/eicar.com"
head -c 20000 /dev/urandom | base64 >"$WORK/big.txt"
swaks_send() { in_c swaks --server $S4 --to b@example.org --from a@example.org --timeout 30 "$@" 2>&1; }

# reject (default) through swaks: the attachment is found, the 554 names it
start_daemon "queues = 0" "max_message_size = 8K" "oversize = block"
out=$(swaks_send --attach "@$WORK/eicar.com")
echo "$out" | grep -q '<\*\* 554 5.7.1 Virus found: MailscanTest.EICAR' || fail "swaks: $out"
ok "swaks with an EICAR attachment gets the 554"
out=$(swaks_send --body "small and clean")
echo "$out" | grep -q '<-  250 2.0.0 Ok: queued' || fail "swaks clean: $out"
ok "swaks clean mail queued"
# oversize = block: not scanned, refused with the policy's reason
out=$(swaks_send --attach "@$WORK/big.txt")
echo "$out" | grep -q '554 5.7.1 Message not accepted: larger than 8192 bytes' || fail "oversize block: $out"
expect_eq "smtp_messages_oversize" "$(stat smtp_messages_oversize)" 1
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null

# oversize = pass and smtp_action = monitor: both delivered, counted, logged
start_daemon "queues = 0" "max_message_size = 8K" "oversize = pass" "smtp_action = monitor"
out=$(swaks_send --attach "@$WORK/big.txt")
echo "$out" | grep -q '<-  250 2.0.0 Ok: queued' || fail "oversize pass: $out"
expect_eq "monitor: EICAR delivered" "$(smtp_send $S4 25 eicar smtplib)" "250 sent"
expect_eq "monitor: counted" "$(stat smtp_messages_infected)" 1
grep -q "detection result=infected virus=MailscanTest.EICAR.UNOFFICIAL .* action=pass" "$WORK/mailscand.log" || fail "not logged"
ok "monitor logged the detection and passed the mail"
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null

# smtp_action = reset: the client sees its connection reset, nothing stored
start_daemon "queues = 0" "smtp_action = reset"
out=$(smtp_send $S4 25 eicar smtplib)
case "$out" in reset | closed) ok "reset: the client's connection was reset ($out)" ;;
*) fail "reset: $out" ;; esac
expect_eq "resets" "$(stat resets)" 1

postfix_settle
# stored: the small clean one, the oversize one passed, the monitored EICAR
expect_eq "messages stored" "$(delivered_count)" 3
