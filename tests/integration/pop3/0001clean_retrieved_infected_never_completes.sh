#!/bin/bash
# POP3 through mailscand (gateway) from a real dovecot, with the defaults: clean
# messages (plain, dot-stuffed, 5 MiB) are retrieved byte-identical by python's poplib
# and by curl; an EICAR message and one with ClamAV's clam.zip never reach the client:
# with the default pop3_hold = whole each arrives as a notice of its length from
# mailscan with no infected byte (pop3_action = replace, the default with that hold);
# when a suite sets pop3_hold = end, the default action is reset: the connection is
# reset, the messages before them were retrieved. Either way they stay on the server,
# and the counters match.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean stuffed big eicar zip; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/stuffed.eml" "$WORK/big.eml" "$WORK/eicar.eml" \
	"$WORK/zip.eml"
start_daemon "queues = 0" # no pop3_action, no pop3_hold: the defaults
ACTION=$(pop3_default_action)
echo "pop3_hold = $(conf_get pop3_hold | grep . || echo "whole (the default)"), so pop3_action = $ACTION"
case $ACTION in
replace | reset) ;;
*) fail "no expectation for pop3_action = $ACTION" ;;
esac
mkdir -p "$WORK/got"

same() { # KIND FILE: retrieved as sent (dovecot stores LF, serves CRLF)
	cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2")
}
# notice KIND FILE: FILE is the notice of KIND's message, as long as it, nothing of it
notice() {
	grep -q "^From: mailscan" "$2" || fail "$2: not a notice from mailscan"
	grep -q "^Subject: \[virus removed\]" "$2" || fail "$2: no [virus removed] Subject"
	grep -q "^X-Mailscan-Virus: MailscanTest\." "$2" || fail "$2: no X-Mailscan-Virus"
	grep -q "EICAR-STANDARD\|clam.zip\|UEsDB" "$2" && fail "$2: infected bytes in the notice"
	expect_eq "$1: the notice has the original's length" "$(wc -c <"$2")" \
		"$(wc -c <"$WORK/$1.eml")"
}

out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 1 2 3 4)
echo "$out"
if [ "$ACTION" = replace ]; then
	expect_eq "poplib: three clean, then the infected one as a notice" "$out" "1 ok
2 ok
3 ok
4 ok"
	notice eicar "$WORK/got/4"
else
	expect_eq "poplib: three clean, then the infected one resets" "$out" "1 ok
2 ok
3 ok
reset (ConnectionResetError)"
	[ ! -e "$WORK/got/4" ] || fail "the infected message was saved"
fi
same clean "$WORK/got/1" || fail "clean differs"
same stuffed "$WORK/got/2" || fail "stuffed differs"
same big "$WORK/got/3" || fail "5 MiB message differs"
ok "clean messages retrieved byte-identical; the infected one never reached the client"

if [ "$ACTION" = replace ]; then
	expect_eq "clam.zip message" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 5)" "5 ok"
	notice zip "$WORK/got/5"
else
	expect_eq "clam.zip message" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 5)" \
		"reset (ConnectionResetError)"
fi
# curl, another real client
in_c curl -s --max-time 30 -u alice:secret "pop3://$S4/2" -o "$WORK/got/curl2" ||
	fail "curl RETR 2"
same stuffed "$WORK/got/curl2" || fail "curl: stuffed differs"
ok "curl retrieved the dot-stuffed message intact"
if [ "$ACTION" = replace ]; then
	in_c curl -s --max-time 30 -u alice:secret "pop3://$S4/4" -o "$WORK/got/curl4" ||
		fail "curl RETR 4 (the notice)"
	notice eicar "$WORK/got/curl4"
	ok "curl: the infected message arrived as the notice"
else
	if in_c curl -s --max-time 30 -u alice:secret "pop3://$S4/4" -o "$WORK/got/curl4"; then
		fail "curl completed the infected message"
	fi
	ok "curl: the infected message never completed (curl reports the reset)"
fi
grep -l "EICAR-STANDARD" "$WORK"/got/* && fail "a file a client wrote holds EICAR"
ok "no file a client wrote holds EICAR"

expect_eq "messages still on the server" "$(mailbox_count)" 5
expect_eq "STAT through the daemon" "$(in_c "$PY" "$POP3GET" list $S4 110)" 5
expect_eq "pop3_messages_clean" "$(stat pop3_messages_clean)" 4
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 3
if [ "$ACTION" = replace ]; then
	expect_eq "pop3_replaced" "$(stat pop3_replaced)" 3
	expect_eq "resets" "$(stat resets)" 0
else
	expect_eq "pop3_replaced" "$(stat pop3_replaced)" 0
	expect_eq "resets" "$(stat resets)" 3
fi
expect_eq "quarantined" "$(stat quarantined)" 3
grep -q "detection result=infected virus=MailscanTest.clam.exe.UNOFFICIAL proto=pop3 flow=10.89.1.2.[0-9]*>10.89.2.2.110 user=alice msg=5 action=$ACTION" \
	"$WORK/mailscand.log" || fail "detection log: $(cat "$WORK/mailscand.log")"
ok "detections logged with flow, user and message number"
if [ "$ACTION" = replace ]; then
	grep -q "action=replace result=replaced proto=pop3 flow=.* user=alice msg=5 " \
		"$WORK/mailscand.log" || fail "no replacement logged for msg 5"
	ok "each replacement logged with user and message number"
fi
