#!/bin/bash
# A scanner that crashes or hangs costs one message, never the protection, with real
# postfix and real processes:
# - crash and spin triggers are blocked (554; on_crash = block), counted, and the next
#   messages on new and other connections are scanned as usual;
# - 100 messages at once over 10 connections with crash triggers among them: every clean
#   one stored intact, nothing else stored;
# - kill -SEGV of random scanners under load, the scan master killed: no infected message
#   stored, no clean one lost or altered, the processes replaced;
# - reloads under load: nothing lost, no scan failed, the old masters gone;
# - on_crash = pass lets the crashing message through, counted.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0" "workers = 2" "scan_timeout = 2" \
	"test_crash = MAILSCAN-CRASH-TRIGGER" "test_spin = MAILSCAN-SPIN-TRIGGER"
MIX="$TOP/tests/tools/mixsend.py"
BOX=$WORK/pf/mail/inbox/new
master_pid() { ctl status | sed -n 's/^scan_master=//p'; }
scanner_pids() { ctl status | sed -n 's/^scanners=//p' | tr ',' ' '; }
await_stat scanner_processes 2 "two scanner processes"

# one connection, in turn: clean, crash, clean, spin, clean, eicar, clean
out=$(in_c "$PY" "$MIX" send $S4 25 1 "$WORK/seq" clean:4,crash:1,spin:1,eicar:1)
echo "$out"
expect_eq "sequence outcomes" "$out" "clean_accepted=4 crash_refused=1 eicar_refused=1 spin_refused=1"
grep -q "^crash.0.eml refused 554 .*scan crashed" "$WORK/seq/results" || fail "crash reply: $(cat "$WORK/seq/results")"
grep -q "^spin.0.eml refused 554 .*scan killed" "$WORK/seq/results" || fail "spin reply"
expect_eq "scans_crashed" "$(stat scans_crashed)" 1
expect_eq "scans_retried (a crash is tried in a second process)" "$(stat scans_retried)" 1
expect_eq "scans_killed" "$(stat scans_killed)" 1
expect_eq "smtp_messages_errors" "$(stat smtp_messages_errors)" 2
grep -q "detection result=crashed .*action=reject" "$WORK/mailscand.log" || fail "crash not logged with its flow"
grep -q "scanner [0-9]* killed by signal 11" "$WORK/mailscand.log" || fail "the master did not log the signal"
await_stat scanner_processes 2 "processes not replaced"
expect_eq "forks: 2, 2 for the crash, 1 for the spin" "$(stat scanner_forks)" 5
expect_eq "one master loaded the engine" "$(stat scan_masters_started)" 1

# 100 at once with crash triggers among them
out=$(in_c "$PY" "$MIX" send $S4 25 10 "$WORK/load" clean:80,crash:10,eicar:10)
echo "$out"
expect_eq "load outcomes" "$out" "clean_accepted=80 crash_refused=10 eicar_refused=10"
expect_eq "scans_crashed" "$(stat scans_crashed)" 11

# kill -SEGV of random scanners while 100 messages flow; the master killed too
in_c "$PY" "$MIX" send $S4 25 10 "$WORK/kill" clean:90,eicar:10 >"$WORK/kill.out" &
load=$!
# a kill condemns nothing: the message it interrupts is retried once in a fresh process.
# So each kill comes once 10 more clean messages are scanned (the kills spread over the
# load) and takes a scanner that already ran at the previous kill, never the fresh one
# that may be retrying the previous victim's message (two deaths on one message are
# content that kills scanners, and get on_crash).
base=$(stat smtp_messages_clean)
await "5 clean messages scanned" stat_ge smtp_messages_clean $((base + 5))
kill -9 "$(master_pid)" || fail "no master to kill"
await "15 clean messages scanned" stat_ge smtp_messages_clean $((base + 15))
prev=$(scanner_pids)
for i in 1 2 3 4 5; do
	await "$((15 + 10 * i)) clean messages scanned" stat_ge smtp_messages_clean $((base + 15 + 10 * i))
	now=$(scanner_pids)
	victim=$(comm -12 <(echo "$prev" | tr ' ' '\n' | sort) <(echo "$now" | tr ' ' '\n' | sort) | grep . | shuf -n 1)
	[ -n "$victim" ] && kill -SEGV "$victim"
	prev=$now
done
wait "$load"
cat "$WORK/kill.out"
expect_eq "outcomes with scanners killed" "$(cat "$WORK/kill.out")" "clean_accepted=90 eicar_refused=10"
# a scanner killed as the load ends is found dead (and the master with it) when its
# thread next looks, idle or with a message: waited for, not assumed
await "the master restarted" stat_ge scan_masters_started 2
await_stat scanner_processes 2 "processes not replaced after the kills"
ok "scanners and master replaced: forks=$(stat scanner_forks) masters=$(stat scan_masters_started) retried=$(stat scans_retried)"

# reloads under load
in_c "$PY" "$MIX" send $S4 25 10 "$WORK/reload" clean:90,eicar:10 >"$WORK/reload.out" &
load=$!
masters=$(stat scan_masters_started)
old="$(master_pid) $(scanner_pids)"
base=$(delivered_count)
for i in 1 2 3; do
	await_delivered $((base + 15 * i))
	ctl reload >/dev/null || fail "reload $i"
done
wait "$load"
cat "$WORK/reload.out"
expect_eq "outcomes with reloads" "$(cat "$WORK/reload.out")" "clean_accepted=90 eicar_refused=10"
expect_eq "reloads_ok" "$(stat reloads_ok)" 3
expect_eq "a master per reload" "$(stat scan_masters_started)" $((masters + 3))
expect_eq "scans_errors" "$(stat scans_errors)" 0
for p in $old; do
	wait_for gone "$p" || fail "process $p of the first engine did not exit"
done
expect_eq "scanners of the last master" "$(pgrep -P "$(master_pid)" -x ms-scanner | wc -l)" 2
ok "after the reloads: the old master and scanners gone, two scanners of the new one"

postfix_settle
for d in seq load kill reload; do
	"$PY" "$MIX" verify "$WORK/$d" "$BOX" || fail "$d: a clean message lost or altered, or another stored"
done
ok "every clean message stored intact; no infected or crashing one stored"

# on_crash = pass
stop_daemon
start_daemon "queues = 0" "workers = 2" "on_crash = pass" "test_crash = MAILSCAN-CRASH-TRIGGER"
out=$(in_c "$PY" "$MIX" send $S4 25 1 "$WORK/pass" crash:1,clean:1)
expect_eq "on_crash = pass" "$out" "clean_accepted=1 crash_accepted=1"
expect_eq "scans_crashed" "$(stat scans_crashed)" 1
grep -q "detection result=crashed .*action=pass" "$WORK/mailscand.log" || fail "pass not logged"
