#!/bin/bash
# A reload changes each live key in turn while clean SMTP mail flows, and what the key
# governs changes at once: the action on the next infected message (postfix: reject,
# monitor, reset; dovecot: replace, the default, then reset, the default once
# pop3_hold = end is set, monitor, delete), where the log goes (stderr, a syslog
# socket, another facility, back), the metrics endpoint (it moves to a new port and the
# old one closes), a limit (max_message_size with oversize = block), the quarantine
# directory (refused while the daemon's user cannot write it). A restart key is
# named, not applied. Through all of it no scan is lost and no flow of the load is
# reset: every load message is accepted and stored intact, and the counters add up.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
postfix_unlimited
start_dovecot
MIX="$TOP/tests/tools/mixsend.py"
BOX=$WORK/pf/mail/inbox/new
for k in clean eicar; do make_mail $k; done
# a clean message of 100 KB, over the limit set below and far under the default
{
	printf 'From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n\r\n'
	for i in $(seq 1600); do printf 'line %06d of a big clean message, to be over the limit\r\n' "$i"; done
} >"$WORK/big.eml"
seed_mailbox "$WORK/clean.eml" "$WORK/eicar.eml"
syslog_listener "$WORK/log.sock" "$WORK/syslog.txt"
chmod 600 "$WORK/log.sock" # for now: the daemon's user cannot send to it
start_daemon "queues = 0" "log = stderr" "metrics_listen = $G4C:9311"

set_key() {
	if grep -q "^$1 = " "$CONF"; then
		sed -i "s|^$1 = .*|$1 = $2|" "$CONF"
	else
		echo "$1 = $2" >>"$CONF"
	fi
}
# reload WANT: mailscanctl reload succeeds and its "reloaded:" line is WANT
RELOADS=0
reload() {
	local out
	out=$(ctl reload 2>&1) || fail "reload: $out"
	expect_eq "reload: $1" "$(echo "$out" | grep '^reloaded:')" "reloaded: $1"
	RELOADS=$((RELOADS + 1))
}
detections() { grep -c "detection result=infected" "$1" 2>/dev/null; }
smtp_eicar() { smtp_send $S4 25 eicar smtplib; }
pop3_retr() { in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" "$1" 2>&1; }
metrics_on() { in_c curl -sf -m 10 -o /dev/null "http://$G4C:$1/metrics"; }
mkdir -p "$WORK/got"
DELIBERATE_CLEAN=0

# the load: batches of 40 clean messages over 4 connections until the steps are done
# (at most 60 batches)
load() {
	local i=0
	while [ ! -e "$WORK/load.stop" ] && [ $i -lt 60 ]; do
		i=$((i + 1))
		in_c "$PY" "$MIX" send $S4 25 4 "$WORK/load$i" clean:40 >"$WORK/load$i.out"
		echo "$i" >"$WORK/load.batches"
	done
}
load &
LOAD=$!
PIDS="$PIDS $LOAD"
wait_for sh -c "[ \$(ls $BOX 2>/dev/null | wc -l) -ge 10 ]" ||
	fail "the load did not start: $(ls $BOX 2>/dev/null | wc -l) stored"

# SMTP: reject (the default), monitor, reset, reject
case "$(smtp_eicar)" in 554*) ok "smtp_action = reject: 554" ;; *) fail "eicar not rejected" ;; esac
set_key smtp_action monitor
reload "applied smtp_action"
expect_eq "smtp_action = monitor: delivered" "$(smtp_eicar)" "250 sent"
set_key smtp_action reset
reload "applied smtp_action"
case "$(smtp_eicar)" in reset | closed) ok "smtp_action = reset: the client is cut off" ;;
*) fail "smtp_action = reset: $(smtp_eicar)" ;; esac
set_key smtp_action reject
reload "applied smtp_action"
case "$(smtp_eicar)" in 554*) ok "smtp_action = reject again: 554" ;; *) fail "eicar not rejected" ;; esac

# POP3: replace (the default with the default pop3_hold = whole), then reset (the
# default a reload gives it with pop3_hold = end), monitor, delete
expect_eq "pop3_action = replace (default): retrieved" "$(pop3_retr 2)" "2 ok"
grep -q "^Subject: \[virus removed\]" "$WORK/got/2" || fail "the default: no notice in RETR 2"
grep -q "EICAR-STANDARD" "$WORK/got/2" && fail "the default: EICAR in what the client got"
ok "the default: the infected message arrived as a notice"
set_key pop3_hold end
reload "applied pop3_action, pop3_hold"
case "$(pop3_retr 2)" in reset*) ok "pop3_hold = end, no pop3_action: the client is reset" ;; *) fail "pop3 reset" ;; esac
set_key pop3_action monitor
reload "applied pop3_action"
expect_eq "pop3_action = monitor: retrieved" "$(pop3_retr 2)" "2 ok"
cmp -s <(tr -d '\r' <"$WORK/eicar.eml") <(tr -d '\r' <"$WORK/got/2") || fail "monitored body differs"
expect_eq "mailbox before delete" "$(mailbox_count)" 2
set_key pop3_action delete
reload "applied pop3_action"
case "$(pop3_retr 2)" in reset*) ok "pop3_action = delete: the client is reset" ;; *) fail "delete" ;; esac
wait_for sh -c "[ \$(ls $WORK/dc/home/alice/Maildir/cur $WORK/dc/home/alice/Maildir/new | grep -c '^1') = 1 ]" ||
	fail "pop3_action = delete: the server still has $(mailbox_count) messages"
ok "pop3_action = delete: deleted on the server"
expect_eq "the clean POP3 message still comes" "$(pop3_retr 1)" "1 ok"

# the log: stderr, then syslog (facility mail, then local5), then stderr again
before=$(detections "$WORK/mailscand.log")
set_key log syslog
set_key syslog_socket "$WORK/log.sock"
# the daemon runs as its user by now: a socket it cannot send to is refused
out=$(ctl reload 2>&1) && fail "reload with a syslog socket the daemon cannot use: $out"
case $out in *"mailscan.conf:"*": syslog_socket: syslog socket $WORK/log.sock: Permission denied"*) ok "refused: $out" ;;
*) fail "the refusal: $out" ;; esac
chmod 666 "$WORK/log.sock"
reload "applied log, syslog_socket"
smtp_eicar >/dev/null
wait_for grep -q "detection result=infected" "$WORK/syslog.txt" ||
	fail "no detection on the syslog socket: $(cat "$WORK/syslog.txt")"
expect_eq "nothing more on stderr" "$(detections "$WORK/mailscand.log")" "$before"
# mail (2) * 8 + notice (5) = 21
grep -q "^<21>.*mailscand\[[0-9]*\]: detection result=infected" "$WORK/syslog.txt" ||
	fail "facility mail: $(grep detection "$WORK/syslog.txt")"
ok "log = syslog: the detection on the socket, facility mail"
set_key log_facility local5
reload "applied log_facility"
smtp_eicar >/dev/null
# local5 (21) * 8 + notice (5) = 173
wait_for grep -q "^<173>.*detection result=infected" "$WORK/syslog.txt" ||
	fail "facility local5: $(grep detection "$WORK/syslog.txt")"
ok "log_facility = local5"
set_key log stderr
reload "applied log"
on_syslog=$(detections "$WORK/syslog.txt")
smtp_eicar >/dev/null
wait_for sh -c "[ \$(grep -c 'detection result=infected' $WORK/mailscand.log) -gt $before ]" ||
	fail "log = stderr: nothing on stderr again"
expect_eq "log = stderr: nothing more on the socket" "$(detections "$WORK/syslog.txt")" "$on_syslog"

# the metrics endpoint moves
metrics_on 9311 || fail "metrics on 9311"
set_key metrics_listen "$G4C:9312"
reload "applied metrics_listen"
metrics_on 9312 || fail "metrics not on 9312 after the reload"
metrics_on 9311 && fail "metrics still on 9311"
in_c curl -sf -m 10 "http://$G4C:9312/metrics" | grep -q '^mailscan_messages_total{protocol="smtp",result="clean"} [1-9]' ||
	fail "the moved endpoint's counters"
ok "metrics_listen moved from 9311 to 9312"

# a limit: max_message_size (oversize = block)
expect_eq "100 KB under the default limit" "$(smtp_send $S4 25 big smtplib)" "250 sent"
DELIBERATE_CLEAN=$((DELIBERATE_CLEAN + 1))
set_key max_message_size 64K
set_key oversize block
reload "applied oversize, max_message_size"
case "$(smtp_send $S4 25 big smtplib)" in 554*"larger than 65536 bytes"*) ok "over max_message_size: refused" ;;
*) fail "100 KB over a 64K limit: $(smtp_send $S4 25 big smtplib)" ;; esac
expect_eq "smtp_messages_oversize" "$(stat smtp_messages_oversize)" 1
expect_eq "the clean small one passes" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
DELIBERATE_CLEAN=$((DELIBERATE_CLEAN + 1))

# the quarantine moves: refused while the daemon's user cannot write there
mkdir -m 700 "$WORK/q2"
set_key quarantine "$WORK/q2"
out=$(ctl reload 2>&1) && fail "reload onto a quarantine the daemon cannot write: $out"
case $out in *": quarantine: $WORK/q2: Permission denied (it must exist, writable by mailscan)"*) ok "refused: $out" ;;
*) fail "the refusal: $out" ;; esac
chown mailscan:mailscan "$WORK/q2"
reload "applied quarantine"
in_q1=$(ls "$WORK/quarantine" | wc -l)
smtp_eicar >/dev/null
await "the next detection in the new quarantine" sh -c "ls '$WORK/q2' | grep '\.eml$'"
expect_eq "nothing more in the old one" "$(ls "$WORK/quarantine" | wc -l)" "$in_q1"

# a restart key is named, and not applied
set_key queues 0-1
reload "applied nothing; needs restart: queues"
expect_eq "still one queue" "$(ctl status | sed -n 's/^queues=//p')" 1
set_key queues 0
reload "nothing changed"
grep -q "reloaded: applied nothing; needs restart: queues" "$WORK/mailscand.log" || fail "not logged"
ok "the reply is logged"

batches=$(cat "$WORK/load.batches" 2>/dev/null || echo 0)
kill -0 "$LOAD" 2>/dev/null || fail "the load ended before the reloads did ($batches batches)"
touch "$WORK/load.stop"
wait "$LOAD"
batches=$(cat "$WORK/load.batches")
ok "the load ran $batches batches of 40 through $RELOADS reloads"
postfix_settle
for i in $(seq "$batches"); do
	expect_eq "batch $i" "$(cat "$WORK/load$i.out")" "clean_accepted=40" >/dev/null
	"$PY" "$MIX" verify "$WORK/load$i" "$BOX" >/dev/null || fail "batch $i: a clean message lost or altered"
done
ok "every load message accepted and stored intact"
expect_eq "smtp clean: the load and the deliberate ones" "$(stat smtp_messages_clean)" \
	$((batches * 40 + DELIBERATE_CLEAN))
expect_eq "smtp infected" "$(stat smtp_messages_infected)" 8
expect_eq "pop3 infected" "$(stat pop3_messages_infected)" 4
expect_eq "pop3_replaced" "$(stat pop3_replaced)" 1
expect_eq "no scan lost: one per message" "$(stat scans)" \
	$(($(stat smtp_messages_clean) + $(stat smtp_messages_infected) + $(stat pop3_messages_clean) + $(stat pop3_messages_infected)))
for c in scans_errors scans_timeouts flows_evicted; do
	expect_eq "$c" "$(stat $c)" 0
done
