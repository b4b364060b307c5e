#!/bin/bash
# POP3 through mailscand (gateway) from a real dovecot: clean messages (plain,
# dot-stuffed, 5 MiB) are retrieved byte-identical by python's poplib and by curl; an
# EICAR message and one with ClamAV's clam.zip never complete: the connection is reset,
# the messages before them were retrieved, and they are still on the server. Counters
# match.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean stuffed big eicar zip; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/stuffed.eml" "$WORK/big.eml" "$WORK/eicar.eml" \
	"$WORK/zip.eml"
start_daemon "queues = 0"
mkdir -p "$WORK/got"

same() { # KIND FILE: retrieved as sent (dovecot stores LF, serves CRLF)
	cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2")
}

out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 1 2 3 4)
echo "$out"
expect_eq "poplib: three clean, then the infected one resets" "$out" "1 ok
2 ok
3 ok
reset (ConnectionResetError)"
same clean "$WORK/got/1" || fail "clean differs"
same stuffed "$WORK/got/2" || fail "stuffed differs"
same big "$WORK/got/3" || fail "5 MiB message differs"
[ ! -e "$WORK/got/4" ] || fail "the infected message was saved"
ok "clean messages retrieved byte-identical; the infected one never completed"

expect_eq "clam.zip message" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 5)" \
	"reset (ConnectionResetError)"
# curl, another real client
in_c curl -s --max-time 30 -u alice:secret "pop3://$S4/2" -o "$WORK/got/curl2" ||
	fail "curl RETR 2"
same stuffed "$WORK/got/curl2" || fail "curl: stuffed differs"
ok "curl retrieved the dot-stuffed message intact"
if in_c curl -s --max-time 30 -u alice:secret "pop3://$S4/4" -o "$WORK/got/curl4"; then
	fail "curl completed the infected message"
fi
ok "curl: the infected message never completed (curl reports the reset)"

expect_eq "messages still on the server" "$(mailbox_count)" 5
expect_eq "STAT through the daemon" "$(in_c "$PY" "$POP3GET" list $S4 110)" 5
expect_eq "pop3_messages_clean" "$(stat pop3_messages_clean)" 4
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 3
expect_eq "resets" "$(stat resets)" 3
expect_eq "quarantined" "$(stat quarantined)" 3
grep -q "detection result=infected virus=MailscanTest.clam.exe.UNOFFICIAL proto=pop3 flow=10.89.1.2.[0-9]*>10.89.2.2.110 user=alice msg=5 action=reset" \
	"$WORK/mailscand.log" || fail "detection log: $(cat "$WORK/mailscand.log")"
ok "detections logged with flow, user and message number"
