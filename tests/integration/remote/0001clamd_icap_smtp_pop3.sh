#!/bin/bash
# Remote scanners on a scanner host beside the gateway: a real clamd (clamav-daemon, a
# private instance with the test signatures) on a unix socket and on TCP, and c-icap
# with its virus_scan service. Through each, SMTP and POP3 behave as with local
# scanning: clean mail stored and retrieved byte-identical, EICAR and clam.zip answered
# with a 554 (SMTP) or a reset (POP3), counted per backend (text and Prometheus);
# status lists the backends.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
topology_scanner
start_postfix
start_dovecot
start_clamd c1 3310
start_icap c1
for k in clean stuffed eicar zip; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/stuffed.eml" "$WORK/eicar.eml" "$WORK/zip.eml"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

n=0
for sc in "clamd:unix:$WORK/c1/clamd.sock" "clamd:tcp:$X4:3310" "icap://$X4/avscan"; do
	n=$((n + 1))
	start_daemon "queues = 0" "pop3_action = reset" "scanners = $sc"
	ctl status | grep -q "^scanner=$sc kind=.* state=up" || fail "status: $sc"
	expect_eq "$sc: clean mail" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
	for k in eicar zip; do
		out=$(smtp_send $S4 25 $k smtplib)
		case "$out" in
		"554 5.7.1 Virus found: MailscanTest."*) ok "$sc: $k rejected: $out" ;;
		*) fail "$sc: $k: $out" ;;
		esac
	done
	mkdir -p "$WORK/got$n"
	out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got$n" 1 2 3)
	expect_eq "$sc: POP3 two clean, then the infected one resets" "$out" "1 ok
2 ok
reset (ConnectionResetError)"
	same clean "$WORK/got$n/1" || fail "$sc: clean differs"
	same stuffed "$WORK/got$n/2" || fail "$sc: stuffed differs"
	expect_eq "$sc: clam.zip over POP3" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got$n" 4)" \
		"reset (ConnectionResetError)"
	line=$(ctl stats | grep "^backend=$sc ")
	echo "$line"
	case "$line" in
	*" state=up "*" scans=7 "*" errors=0 timeouts=0 "*) ok "$sc: 7 scans counted on it" ;;
	*) fail "$sc: backend counters: $line" ;;
	esac
	expect_eq "$sc: scans_infected" "$(stat scans_infected)" 4
	expect_eq "$sc: no local scanner" "$(ctl status | sed -n 's/^scan_master=//p')" 0
	ctl stats --prometheus | grep -q "^mailscan_backend_scans_total{backend=\"$sc\",kind=\"[a-z-]*\"} 7$" ||
		fail "$sc: prometheus family"
	stop_daemon
done
postfix_settle
expect_eq "stored: one clean per backend" "$(delivered_count)" 3
was_delivered clean || fail "clean not stored intact"
for k in eicar zip; do was_delivered $k && fail "$k stored"; done
ok "every backend: same outcomes as local scanning"
