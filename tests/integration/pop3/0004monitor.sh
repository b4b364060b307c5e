#!/bin/bash
# pop3_action = monitor: the infected message is retrieved whole, and the detection is
# counted, logged and quarantined.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
make_mail eicar
seed_mailbox "$WORK/eicar.eml"
start_daemon "queues = 0" "pop3_action = monitor"
mkdir -p "$WORK/got"
expect_eq "retrieved under monitor" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 1)" "1 ok"
cmp -s <(tr -d '\r' <"$WORK/eicar.eml") <(tr -d '\r' <"$WORK/got/1") || fail "body differs"
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 1
expect_eq "resets" "$(stat resets)" 0
expect_eq "quarantined" "$(stat quarantined)" 1
grep -q "detection result=infected virus=MailscanTest.EICAR.UNOFFICIAL proto=pop3 .* user=alice msg=1 action=pass" \
	"$WORK/mailscand.log" || fail "not logged: $(cat "$WORK/mailscand.log")"
grep -q "^action=monitor$" "$WORK"/quarantine/*.meta || fail "quarantine record"
ok "monitor: logged and quarantined"
