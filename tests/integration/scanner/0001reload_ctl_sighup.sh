#!/bin/bash
# Signature reload through the running daemon: `mailscanctl reload` and SIGHUP swap in a
# new engine while mail flows; a reload from a broken database is refused with the
# reason and the running engine keeps scanning; status names the test signatures.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
db=$WORK/db
mkdir -p "$db"
cp "$TOP/build/testsigs/mailscan-test.hdb" "$TOP/build/testsigs/MAILSCAN-TEST-SIGNATURES" "$db/"
write_config "queues = 0"
sed -i "s|^database = .*|database = $db|" "$CONF"
start_daemon
for k in clean eicar zip; do make_mail $k; done
ctl status | grep -q '^test_signatures=yes' || fail "status does not name the test signatures"
expect_eq "signatures before" "$(stat signatures)" 44

# without the EICAR signature, EICAR passes; clam.zip does not
expect_eq "EICAR unknown to the first engine" "$(smtp_send $S4 25 eicar smtplib)" "250 sent"
case "$(smtp_send $S4 25 zip smtplib)" in 554*) ok "clam.zip rejected" ;; *) fail "zip" ;; esac

cp "$TOP/build/testsigs/mailscan-test.ndb" "$db/"
out=$(ctl reload) || fail "reload: $out"
echo "$out"
expect_eq "signatures after reload" "$(stat signatures)" 45
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "EICAR rejected after reload" ;; *) fail "eicar" ;; esac

# a broken database: refused, the engine stays
mv "$db" "$db.away"
mkdir "$db"
out=$(ctl reload 2>&1)
expect_eq "broken reload exit code" "$?" 1
echo "$out" | grep -q "running engine stays" || fail "no reason given: $out"
ok "broken reload refused: $out"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "still scanning" ;; *) fail "eicar after broken reload" ;; esac
expect_eq "clean still delivered" "$(smtp_send $S4 25 clean smtplib)" "250 sent"

# SIGHUP: the same from the signal
rm -rf "$db"
mv "$db.away" "$db"
kill -HUP "$DAEMON_PID"
await_stat reloads_ok 2 "SIGHUP did not reload"
ok "SIGHUP reloaded"
expect_eq "reloads_failed" "$(stat reloads_failed)" 1
postfix_settle
expect_eq "stored: the EICAR sent before the reload and the clean one" "$(delivered_count)" 2
