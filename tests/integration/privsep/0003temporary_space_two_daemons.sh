#!/bin/bash
# A scan is clean only if it really ran (libclamav answers CL_CLEAN when it cannot use its
# temporary space), with real postfix under load:
# - a scanner's own temporary space made unusable inside it (removed, read-only, full
#   before its check; removed after the check, where only libclamav's message tells):
#   never clean; on_error (its default, tempfail: 451) applies and is counted
#   (scans_tmp_errors); the
#   scanner is replaced and the clean and infected mail around it scanned as usual;
# - the configured tmpdir on the host filled and made read-only under load: nothing
#   changes (each scanner's space is a tmpfs of its own, the directory a mount point);
# - the tmpdir removed on the host: new scanners cannot set up, every message follows
#   on_error, clean ones too, never a silent pass; back, scanning resumes;
# - a second daemon on the same tmpdir and quarantine started and stopped while the
#   first scans: the first's verdicts and counters unchanged, nothing of it removed.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
postfix_unlimited
start_daemon "queues = 0" "workers = 2" "test_tmp = MAILSCAN-TMP" "scanner_max_scans = 20"
MIX="$TOP/tests/tools/mixsend.py"
BOX=$WORK/pf/mail/inbox/new
await_stat scanner_processes 2 "two scanner processes"

# inside: every kind of failure among clean and infected mail, 10 connections at once
out=$(in_c "$PY" "$MIX" send $S4 25 10 "$WORK/inside" \
	clean:60,eicar:10,tmp-removed:5,tmp-readonly:5,tmp-full:5,tmp-late:5)
echo "$out"
expect_eq "outcomes" "$out" \
	"clean_accepted=60 eicar_refused=10 tmp-full_refused=5 tmp-late_refused=5 tmp-readonly_refused=5 tmp-removed_refused=5"
for k in removed readonly full late; do
	n=$(grep -c "^tmp-$k\.[0-9]*\.eml refused 451 .*scan error" "$WORK/inside/results")
	expect_eq "tmp-$k: 451 scan error (on_error = tempfail)" "$n" 5
done
expect_eq "scans_tmp_errors (checked before the scan)" "$(stat scans_tmp_errors)" 15
grep -q "LibClamAV Error: .*temporary" "$WORK/mailscand.log" || fail "libclamav did not say it"
expect_eq "scans_errors (and the one libclamav reported)" "$(stat scans_errors)" 20
[ "$(stat scanner_recycled)" -ge 20 ] || fail "scanner_recycled=$(stat scanner_recycled), want >= 20"
expect_eq "scans_clean" "$(stat scans_clean)" 60

# outside: the host directory filled and read-only while 100 messages flow
in_c "$PY" "$MIX" send $S4 25 10 "$WORK/outside" clean:90,eicar:10 >"$WORK/outside.out" &
load=$!
await_stat_ge() { await "counter $1 >= $2" stat_ge "$1" "$2"; }
await_stat_ge scans_clean 70
dd if=/dev/zero of="$WORK/tmp/filler" bs=1M count=64 status=none
chmod 0500 "$WORK/tmp"
wait "$load"
expect_eq "outcomes, host tmpdir full and read-only" "$(cat "$WORK/outside.out")" \
	"clean_accepted=90 eicar_refused=10"
expect_eq "scans_tmp_errors unchanged" "$(stat scans_tmp_errors)" 15
chmod 0700 "$WORK/tmp"
rm -f "$WORK/tmp/filler"

# the host directory removed: the running scanners keep their own space and scan on;
# those that replace them cannot mount theirs and answer on_error: a clean message is
# stored only if it was really scanned, never an infected one
errs=$(stat scans_tmp_errors)
clean=$(stat scans_clean)
rmdir "$WORK/tmp"
out=$(in_c "$PY" "$MIX" send $S4 25 4 "$WORK/removed" clean:30,eicar:10)
echo "$out"
case "$out" in
*eicar_accepted*) fail "infected mail accepted with the tmpdir removed: $out" ;;
esac
acc=$(grep -c "^clean\.[0-9]*\.eml accepted$" "$WORK/removed/results")
ref=$(grep -c "^clean.* refused 451 .*scan error" "$WORK/removed/results")
expect_eq "clean mail: scanned and accepted, or on_error" "$((acc + ref))" 30
expect_eq "each accepted one was scanned clean" "$(($(stat scans_clean) - clean))" "$acc"
[ "$(stat scans_tmp_errors)" -gt "$errs" ] || fail "scans_tmp_errors did not grow"
grep -q "scanner [0-9]*: $WORK/tmp: No such file" "$WORK/mailscand.log" ||
	fail "the setup failure was not logged"
ok "tmpdir removed: $acc clean scanned by running scanners, $ref on_error, no infected"
mkdir -m 0700 "$WORK/tmp"
chown mailscan:mailscan "$WORK/tmp"
out=$(in_c "$PY" "$MIX" send $S4 25 4 "$WORK/back" clean:20,eicar:5)
expect_eq "outcomes, tmpdir back" "$out" "clean_accepted=20 eicar_refused=5"

# a second daemon on the same directories (its own queue and control socket, no rules)
# started and stopped while the first scans
CONF2=$WORK/second.conf
sed -e "s|^control_socket = .*|control_socket = $WORK/second.sock|" "$CONF" >"$CONF2"
echo "queues = 7" >>"$CONF2"
before=$(stat scans_errors)
in_c "$PY" "$MIX" send $S4 25 10 "$WORK/two" clean:90,eicar:10 >"$WORK/two.out" &
load=$!
for i in 1 2 3; do
	bg in_g "$BUILD/mailscand" -c "$CONF2" 2>>"$WORK/second.log"
	second=$!
	await "second daemon $i" "$BUILD/mailscanctl" -c "$CONF2" status
	kill "$second"
	wait "$second" 2>/dev/null
done
wait "$load"
expect_eq "outcomes, a second daemon started and stopped" "$(cat "$WORK/two.out")" \
	"clean_accepted=90 eicar_refused=10"
expect_eq "no scan failed meanwhile" "$(stat scans_errors)" "$before"
[ -d "$WORK/tmp" ] || fail "the second daemon removed the tmpdir"
expect_eq "nothing left in the host tmpdir" "$(ls -A "$WORK/tmp" | wc -l)" 0

postfix_settle
for d in inside outside back two; do
	"$PY" "$MIX" verify "$WORK/$d" "$BOX" || fail "$d: a clean message lost or altered, or another stored"
done
nothing_infected_stored
ok "temporary space: never a silent clean; two daemons do not disturb each other"
