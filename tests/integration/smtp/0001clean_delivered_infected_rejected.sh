#!/bin/bash
# SMTP through mailscand (gateway) to a real postfix: clean mail (small, dot-stuffed, a
# 5 MiB attachment) is delivered byte-identical; EICAR and ClamAV's test files (zip,
# MIME base64) are never stored, and the client gets a 554 naming the virus; after a
# 554 the client reconnects and its clean mail goes through. Counters match.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0"
for k in clean stuffed big eicar zip mbox; do make_mail $k; done

for k in clean stuffed big; do
	expect_eq "$k: client's answer" "$(smtp_send $S4 25 $k smtplib)" "250 sent"
done
for k in eicar zip mbox; do
	out=$(smtp_send $S4 25 $k smtplib)
	case "$out" in
	"554 5.7.1 Virus found: MailscanTest."*) ok "$k: $out" ;;
	*) fail "$k: client got '$out'" ;;
	esac
done
# reconnect after the 554: clean mail passes again
expect_eq "clean after an infected one" "$(smtp_send $S4 25 clean smtplib)" "250 sent"

postfix_settle
expect_eq "messages postfix stored" "$(delivered_count)" 4
for k in clean stuffed big; do
	was_delivered $k || fail "$k not delivered byte-identical"
	ok "$k delivered byte-identical"
done
for k in eicar zip mbox; do
	was_delivered $k && fail "$k was stored"
done
grep -rl "EICAR-STANDARD" "$WORK/pf/mail" && fail "EICAR reached the mailbox"
ok "nothing infected stored"

expect_eq "smtp_messages_clean" "$(stat smtp_messages_clean)" 4
expect_eq "smtp_messages_infected" "$(stat smtp_messages_infected)" 3
expect_eq "smtp_rejects" "$(stat smtp_rejects)" 3
expect_eq "smtp_sessions" "$(stat smtp_sessions)" 7
expect_eq "quarantined" "$(stat quarantined)" 3
expect_eq "quarantine files" "$(ls "$WORK/quarantine" | grep -c '\.eml$')" 3
grep -q "virus=MailscanTest.EICAR" "$WORK"/quarantine/*.meta || fail "quarantine record"
grep -q "detection result=infected virus=MailscanTest.EICAR.UNOFFICIAL proto=smtp flow=10.89.1.2.* from=.* to=.* action=reject" "$WORK/mailscand.log" ||
	fail "detection not logged"
ok "detections logged and quarantined"
expect_eq "holds_current" "$(stat holds_current)" 0
