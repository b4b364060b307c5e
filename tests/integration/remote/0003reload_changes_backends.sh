#!/bin/bash
# The scanners list changed by a reload while mail flows: from one clamd to another
# clamd and the local scanners, then back to local only. No scan in flight is dropped
# (every clean message stored intact, no infected one), status and the counters list
# the new backends only, the local scan master starts and the remote ones stop being
# used.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
topology_scanner
start_postfix
start_clamd c1 3310
start_clamd c2 3311
MIX="$TOP/tests/tools/mixsend.py"
BOX=$WORK/pf/mail/inbox/new
start_daemon "queues = 0" "scanners = clamd:tcp:$X4:3310"
set_scanners() { sed -i "s|^scanners = .*|scanners = $1|" "$CONF"; }
listed() { ctl status | sed -n 's/^scanner=\([^ ]*\) .*/\1/p' | xargs; }
expect_eq "first list" "$(listed)" "clamd:tcp:$X4:3310"
expect_eq "no local master" "$(ctl status | sed -n 's/^scan_master=//p')" 0

in_c "$PY" "$MIX" send $S4 25 10 "$WORK/load1" clean:150,eicar:15 >"$WORK/load1.out" &
load=$!
await_delivered 10
set_scanners "clamd:tcp:$X4:3311, local"
out=$(ctl reload) || fail "reload: $out"
wait "$load"
expect_eq "outcomes across the change" "$(cat "$WORK/load1.out")" "clean_accepted=150 eicar_refused=15"
expect_eq "second list" "$(listed)" "clamd:tcp:$X4:3311 local"
[ "$(ctl status | sed -n 's/^scan_master=//p')" -gt 0 ] || fail "no local master after the reload"
grep -q "scanner clamd:tcp:$X4:3310: removed" "$WORK/mailscand.log" || fail "removal not logged"
c1=$(grep -c "instream" "$WORK/c1/clamd.log")

in_c "$PY" "$MIX" send $S4 25 10 "$WORK/load2" clean:60,eicar:6 >"$WORK/load2.out"
expect_eq "outcomes on the new list" "$(cat "$WORK/load2.out")" "clean_accepted=60 eicar_refused=6"
expect_eq "the removed clamd got nothing more" "$(grep -c "instream" "$WORK/c1/clamd.log")" "$c1"
line=$(ctl stats | grep "^backend=clamd:tcp:$X4:3311 ")
case "$line" in *" scans=0 "*) fail "the new clamd scanned nothing: $line" ;; esac
line=$(ctl stats | grep "^backend=local ")
case "$line" in *" scans=0 "*) fail "the local scanners scanned nothing: $line" ;; esac
ok "both new backends took scans"

set_scanners "local"
ctl reload >/dev/null || fail "reload to local"
expect_eq "third list" "$(listed)" "local"
out=$(in_c "$PY" "$MIX" send $S4 25 4 "$WORK/load3" clean:20,eicar:2)
expect_eq "outcomes on local only" "$out" "clean_accepted=20 eicar_refused=2"

# a broken list: mailscanctl names it; a SIGHUP leaves the running scanners
set_scanners "clamd:bogus"
out=$(ctl reload 2>&1) && fail "mailscanctl reload took a broken file"
case "$out" in *"scanners: scanner 'clamd:bogus'"*) ok "mailscanctl: $out" ;; *) fail "ctl: $out" ;; esac
kill -HUP "$DAEMON_PID"
wait_for grep -q "scanners unchanged: .*clamd:bogus" "$WORK/mailscand.log" || fail "refusal not logged"
set_scanners "local"
expect_eq "broken list: the running ones stay" "$(listed)" "local"

postfix_settle
for d in load1 load2 load3; do
	"$PY" "$MIX" verify "$WORK/$d" "$BOX" || fail "$d: a clean message lost or altered, or an infected one stored"
done
ok "every clean message stored intact, no infected one"
