#!/bin/bash
# Signature updates without a restart, while mail flows: a new signature file arrives the
# way freshclam brings one (written in a temporary directory inside the database
# directory, then renamed into place); mailscand reloads by itself within seconds (inotify,
# debounced) and logs the old and new counts; a broken update is refused and the running
# engine stays; with database_watch = no, database_check = SECONDS notices changes too.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
db_without_eicar
start_daemon "queues = 0" "database = $DB"
for k in clean eicar zip; do make_mail $k; done
expect_eq "signatures before" "$(stat signatures)" 44
expect_eq "EICAR unknown before the update" "$(smtp_send $S4 25 eicar smtplib)" "250 sent"
case "$(smtp_send $S4 25 zip smtplib)" in 554*) ok "zip detected (MD5 signatures)" ;; *) fail "zip passed" ;; esac

# freshclam's way: a temporary file in the directory, renamed over the final name
update() { # NAME CONTENT
	mkdir -p "$DB/tmp.upd"
	printf '%s\n' "$2" >"$DB/tmp.upd/$1"
	mv "$DB/tmp.upd/$1" "$DB/$1"
	rmdir "$DB/tmp.upd"
}
# clean mail keeps flowing during the updates
(for i in $(seq 30); do smtp_send $S4 25 clean smtplib; sleep 0.2; done >"$WORK/load.out") &
LOAD=$!
await "the load under way" test -s "$WORK/load.out"
update mailscan-test.ndb "$(cat "$TOP/build/testsigs/mailscan-test.ndb")"
await_stat reloads_ok 1 "a reload after the update"
expect_eq "signatures after" "$(stat signatures)" 45
grep -q "signature files changed: reloading" "$WORK/mailscand.log" || fail "reason not logged"
grep -q "reloaded signatures=45 previous=44 database=$DB" "$WORK/mailscand.log" || fail "counts not logged"
ok "new signatures loaded without a restart, old and new counts logged"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "EICAR detected after the update" ;; *) fail "EICAR passed after the update" ;; esac

update broken.ndb "MailscanTest.Broken:0:*:zz-not-hex"
await_stat reloads_failed 1 "broken update not tried"
expect_eq "signatures after a broken update" "$(stat signatures)" 45
expect_eq "reloads_ok unchanged" "$(stat reloads_ok)" 1
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "the old engine stays" ;; *) fail "EICAR passed after a broken update" ;; esac
wait "$LOAD"
expect_eq "clean mails answered during the updates" "$(grep -c '^250 sent$' "$WORK/load.out")" 30
postfix_settle
expect_eq "stored: 30 clean + 1 EICAR before its signature" "$(delivered_count)" 31
ok "no mail lost during the reloads"
stop_daemon

# no inotify: a periodic check
rm -f "$DB/broken.ndb"
start_daemon "queues = 0" "database = $DB" "database_watch = no" "database_check = 1"
expect_eq "signatures at start" "$(stat signatures)" 45
rm -f "$DB/mailscan-test.ndb"
await_stat signatures 44 "database_check did not notice"
grep -q "database_check: signature files changed: reloading" "$WORK/mailscand.log" || fail "check reason"
ok "database_check noticed the change"
