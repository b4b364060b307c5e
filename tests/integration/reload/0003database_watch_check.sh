#!/bin/bash
# database_watch and database_check change with a reload: started watching with
# inotify, the daemon is told to stop watching and to check every second instead; the
# next update of the database is then loaded by the check (its log line), not by
# inotify, and EICAR is detected after it.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
db_without_eicar
start_daemon "queues = 0" "database = $DB"
make_mail eicar
expect_eq "signatures at start" "$(stat signatures)" 44
expect_eq "EICAR unknown at start" "$(smtp_send $S4 25 eicar smtplib)" "250 sent"
{
	echo "database_watch = no"
	echo "database_check = 1"
} >>"$CONF"
out=$(ctl reload 2>&1) || fail "reload: $out"
expect_eq "reload" "$(echo "$out" | grep '^reloaded:')" "reloaded: applied database_watch, database_check"
await "the main loop took them" grep -q "database_watch: off" "$WORK/mailscand.log"
grep -q "database_check: every 1 s" "$WORK/mailscand.log" || fail "database_check not taken"
# a reload loads the signatures too: the count to wait from
reloads=$(stat reloads_ok)
cp "$TOP/build/testsigs/mailscan-test.ndb" "$DB/"
await_stat reloads_ok $((reloads + 1)) "the new file loaded"
expect_eq "signatures after" "$(stat signatures)" 45
grep -q "database_check: signature files changed: reloading" "$WORK/mailscand.log" ||
	fail "not loaded by the check: $(grep reloading "$WORK/mailscand.log")"
grep -q "^mailscand: signature files changed: reloading" "$WORK/mailscand.log" &&
	fail "inotify still watching: $(grep reloading "$WORK/mailscand.log")"
ok "loaded by database_check, not by inotify"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "EICAR detected after the update" ;; *) fail "EICAR passed" ;; esac
