#!/bin/bash
# log = syslog: mailscand's lines go to the syslog socket (a datagram listener of the
# test's) with the configured facility, the detection line carries its key=value fields
# (flow, protocol, virus, action, sender and recipient; POP3 user and message number),
# and nothing of it goes to stderr.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_dovecot
syslog_listener "$WORK/log.sock" "$WORK/syslog.txt"
start_daemon "queues = 0" "pop3_action = reset" "log = syslog" "log_facility = local5" "syslog_socket = $WORK/log.sock"
for k in clean eicar; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/eicar.eml"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "infected mail refused" ;; *) fail "eicar passed" ;; esac
mkdir -p "$WORK/got"
out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 2 2>&1)
case $out in reset*) ok "infected RETR reset" ;; *) fail "infected RETR: $out" ;; esac

# local5 (21) * 8 + notice (5) = 173
wait_for grep -q "detection result=infected.*proto=pop3" "$WORK/syslog.txt" || fail "no POP3 detection line"
line=$(grep "proto=smtp" "$WORK/syslog.txt" | grep "detection")
echo "$line" | grep -qE "^<173>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} mailscand\[$DAEMON_PID\]: detection result=infected virus=MailscanTest.EICAR.UNOFFICIAL proto=smtp flow=$C4.[0-9]+>$S4.25 helo=[^ ]+ from=<?a@example.org>? to=<?b@example.org>? action=reject$" ||
	fail "SMTP detection line: $line"
ok "SMTP detection line: $line"
line=$(grep "proto=pop3" "$WORK/syslog.txt" | grep "detection")
echo "$line" | grep -qE "^<173>.* mailscand\[$DAEMON_PID\]: detection result=infected virus=MailscanTest.EICAR.UNOFFICIAL proto=pop3 flow=$C4.[0-9]+>$S4.110 user=alice msg=2 action=reset$" ||
	fail "POP3 detection line: $line"
ok "POP3 detection line: $line"
grep -q "^<174>.*mailscand\[$DAEMON_PID\]: scan master [0-9]* loaded 45 signatures" "$WORK/syslog.txt" || fail "info line (<174>)"
ok "info lines at info severity"
grep -q "detection" "$WORK/mailscand.log" && fail "detection also on stderr"
ok "nothing on stderr"
