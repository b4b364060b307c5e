#!/bin/bash
# Remote scanners failing, with real clamd instances on the scanner host:
# - two clamd under load, one killed mid-load: no infected message stored, no clean one
#   lost or altered, the survivor takes the load, the dead one is marked down and comes
#   back up when restarted;
# - every backend down: on_error applies, counted (block: refused; pass: delivered);
# - a backend that accepts connections and never answers: the scan times out and fails
#   over to the next one;
# - a message over clamd's StreamMaxLength: the oversize policy, not a silent pass.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
topology_scanner
start_postfix
start_clamd c1 3310 "StreamMaxLength 1M"
start_clamd c2 3311 "StreamMaxLength 1M"
MIX="$TOP/tests/tools/mixsend.py"
BOX=$WORK/pf/mail/inbox/new
TWO="scanners = clamd:tcp:$X4:3310, clamd:tcp:$X4:3311"
state() { ctl status | sed -n "s/^scanner=clamd:tcp:$X4:$1 .* state=\([a-z]*\) .*/\1/p"; }
scans() { ctl stats | sed -n "s/^backend=clamd:tcp:$X4:$1 .* scans=\([0-9]*\) .*/\1/p"; }

# two clamd, one killed under load
start_daemon "queues = 0" "$TWO"
in_c "$PY" "$MIX" send $S4 25 10 "$WORK/load" clean:200,eicar:20 >"$WORK/load.out" &
load=$!
await_delivered 20
kill -9 "$CLAMD_c1"
c1=$(scans 3310)
wait "$load"
cat "$WORK/load.out"
expect_eq "outcomes with a clamd killed mid-load" "$(cat "$WORK/load.out")" "clean_accepted=200 eicar_refused=20"
await "the killed clamd marked down" sh -c "\"$BUILD/mailscanctl\" -c \"$CONF\" status | grep '^scanner=clamd:tcp:$X4:3310 ' | grep ' state=down '"
expect_eq "the survivor is up" "$(state 3311)" up
c2=$(scans 3311)
[ "$c2" -gt 0 ] || fail "the survivor scanned nothing"
ok "the survivor scanned $c2; the killed one $c1 before it died, $(scans 3310) in all"
expect_eq "scans_errors" "$(stat scans_errors)" 0
start_clamd c1 3310 "StreamMaxLength 1M"
await "the restarted clamd up again" sh -c "\"$BUILD/mailscanctl\" -c \"$CONF\" status | grep '^scanner=clamd:tcp:$X4:3310 ' | grep ' state=up '"
ok "the restarted clamd is up again (health check)"
grep -q "scanner clamd:tcp:$X4:3310 is down" "$WORK/mailscand.log" || fail "down not logged"
grep -q "scanner clamd:tcp:$X4:3310 is up" "$WORK/mailscand.log" || fail "up not logged"
stop_daemon

# every backend down: on_error
kill -9 "$CLAMD_c1" "$CLAMD_c2"
make_mail clean
start_daemon "queues = 0" "$TWO" "on_error = block" "hold_timeout = 5"
out=$(smtp_send $S4 25 clean smtplib)
case "$out" in
"554 5.7.1 Message not accepted: scan error (no scanner could answer)"*) ok "all down, on_error = block: $out" ;;
*) fail "all down, block: $out" ;;
esac
expect_eq "scans_errors" "$(stat scans_errors)" 1
expect_eq "both marked down" "$(state 3310) $(state 3311)" "down down"
stop_daemon
start_daemon "queues = 0" "$TWO" "on_error = pass"
expect_eq "all down, on_error = pass" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
expect_eq "scans_errors" "$(stat scans_errors)" 1
stop_daemon

# a scanner that accepts and never answers
start_clamd c2 3311 "StreamMaxLength 1M"
bg in_x "$PY" -c "
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$X4', 3399))
s.listen(64)
held = []
while True:
    held.append(s.accept()[0])
"
await "black hole" listening "$NS_X" 3399
start_daemon "queues = 0" "scanners = clamd:tcp:$X4:3399, clamd:tcp:$X4:3311" "scan_timeout = 2"
make_mail eicar
expect_eq "clean, through the silent one first" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
line=$(ctl stats | grep "^backend=clamd:tcp:$X4:3399 ")
echo "$line"
case "$line" in *" state=down "*" scans=0 "*" timeouts=1 "*) ok "the silent scanner timed out and is down" ;; *) fail "silent: $line" ;; esac
expect_eq "failed over" "$(stat scans_failed_over)" 1
case "$(smtp_send $S4 25 eicar smtplib)" in 554*Virus*) ok "infected, on the one that answers" ;; *) fail "eicar" ;; esac
stop_daemon

# over StreamMaxLength (1M): oversize, pass then block
"$PY" - "$WORK/two.eml" <<'PY'
import base64, os, sys
body = base64.encodebytes(os.urandom(1500000)).replace(b"\n", b"\r\n")
open(sys.argv[1], "wb").write(b"From: a@example.org\r\nTo: b@example.org\r\nSubject: two megabytes\r\n"
                              b"Message-ID: <two.mb@example.org>\r\n\r\n" + body)
PY
start_daemon "queues = 0" "scanners = clamd:tcp:$X4:3311"
expect_eq "over StreamMaxLength, oversize = pass" "$(smtp_send $S4 25 two smtplib)" "250 sent"
expect_eq "scans_oversize" "$(stat scans_oversize)" 1
expect_eq "smtp_messages_oversize" "$(stat smtp_messages_oversize)" 1
grep -q "detection result=oversize .*action=pass" "$WORK/mailscand.log" || fail "oversize not logged"
stop_daemon
start_daemon "queues = 0" "scanners = clamd:tcp:$X4:3311" "oversize = block"
out=$(smtp_send $S4 25 two smtplib)
case "$out" in "554 5.7.1 Message not accepted: scan oversize"*) ok "oversize = block: $out" ;; *) fail "oversize block: $out" ;; esac
expect_eq "the scanner stays up" "$(state 3311)" up

postfix_settle
"$PY" "$MIX" verify "$WORK/load" "$BOX" || fail "a clean message lost or altered, or an infected one stored"
ok "every clean message of the load stored intact, no infected one"
