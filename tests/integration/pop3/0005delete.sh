#!/bin/bash
# pop3_action = delete: an infected RETR body never completes for the client, which is
# reset; mailscand sends DELE and QUIT in its place (after any commands the client had
# pipelined), the server's answers reach nobody, the server expunges the message and its
# copy is in the quarantine with a .meta naming the user and the message; the next
# download gets the rest of the mailbox. TOP deletes nothing; a refused DELE falls back
# to the reset, counted. Gateway (IPv4, IPv6) and host mode; poplib and curl.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean plaineicar plainclean; do make_mail $k; done
seed() { rm -rf "$WORK"/dc/home/alice/Maildir/cur/* "$WORK"/dc/home/alice/Maildir/dovecot*; seed_mailbox "$WORK/clean.eml" "$WORK/plaineicar.eml" "$WORK/plainclean.eml"; }
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }
mkdir -p "$WORK/got"

# delete_round ADDR: RETR 1 2 3: the infected one is deleted, then the rest is there
delete_round() {
	seed
	expect_eq "$1: first download" "$(in_c "$PY" "$POP3GET" retr "$1" 110 "$WORK/got" 1 2 3)" "1 ok
reset (ConnectionResetError)"
	same clean "$WORK/got/1" || fail "$1: message 1 differs"
	wait_for mailbox_holds 2 ||
		fail "$1: the infected message is still on the server ($(mailbox_count) left)"
	ok "$1: the infected message was expunged"
	expect_eq "$1: second download" "$(in_c "$PY" "$POP3GET" retr "$1" 110 "$WORK/got" 1 2)" "1 ok
2 ok"
	same clean "$WORK/got/1" && same plainclean "$WORK/got/2" || fail "$1: the rest differs"
}

start_daemon "queues = 0" "pop3_action = delete"
delete_round $S4
delete_round $S6
await_stat pop3_deletes 2
grep -l "user=alice" "$WORK"/quarantine/*.meta | xargs grep -l "msg=2" >/dev/null ||
	fail "no quarantine record naming alice and message 2"
ok "quarantined with user and message"
grep -q "action=delete result=deleted proto=pop3 flow=.* msg=2 client=reset" "$WORK/mailscand.log" || fail "no delete log line"
grep -q "detection result=infected virus=MailscanTest.EICAR.* user=alice msg=2.* action=delete" "$WORK/mailscand.log" || fail "detection not logged as delete"
ok "logged as delete"

# the client had pipelined RETR 3 behind RETR 2: DELE and QUIT go after it
seed
out=$(in_c "$PY" "$POP3GET" pipelined $S4 110 "$WORK/got" 1 2 3)
case "$out" in *reset*) ok "pipelined: $out" ;; *) fail "pipelined: got '$out'" ;; esac
wait_for mailbox_holds 2 ||
	fail "pipelined: the infected message is still on the server"
ok "pipelined: expunged"

# TOP is a preview: reset, nothing deleted
seed
ended=$(pop3_sessions_ended)
expect_eq "top of the infected message" "$(in_c "$PY" "$POP3GET" top $S4 110 2 100)" "reset (ConnectionResetError)"
# once the server's session is over nothing more can be deleted in it
await "the server's session ended" pop3_sessions_ended "$ended"
expect_eq "top: nothing deleted" "$(mailbox_count)" 3

# the client deletes it itself right behind the RETR: our DELE is refused (-ERR)
seed
in_c "$PY" - $S4 <<'PY' || true
import socket, sys
s = socket.create_connection((sys.argv[1], 110), timeout=10)
s.recv(100)
s.sendall(b"USER alice\r\nPASS secret\r\n")
got = b""
while got.count(b"\r\n") < 2:
    got += s.recv(1000)
s.sendall(b"RETR 2\r\nDELE 2\r\n")
try:
    while s.recv(65536):
        pass
except OSError:
    pass
PY
await_stat pop3_delete_refused 1
expect_eq "pop3_deletes (unchanged)" "$(stat pop3_deletes)" 3

# fetchmail: the first run stops at the infected message, the next gets the rest
seed
mkdir -p "$WORK/fm"
cat >"$WORK/fm/rc" <<RC
poll $S4 proto pop3 port 110 user alice password secret keep
  mda "/bin/sh -c 'cat > $WORK/fm/msg.\$\$'"
RC
chmod 600 "$WORK/fm/rc"
fetch() { in_c env HOME="$WORK/fm" fetchmail -f "$WORK/fm/rc" --nosyslog --sslproto '' -s >>"$WORK/fm/log" 2>&1; }
fetch
expect_eq "fetchmail: filed before the infected message" "$(ls "$WORK/fm" | grep -c '^msg\.')" 1
fetch
# fetchmail keeps track of what it saw (UIDL): the next run takes the one it had not
expect_eq "fetchmail: the rest on the next run" "$(ls "$WORK/fm" | grep -c '^msg\.')" 2
grep -l "middle of a clean message" "$WORK"/fm/msg.* >/dev/null || fail "fetchmail: the third message missing"
grep -l EICAR-STANDARD "$WORK"/fm/msg.* && fail "fetchmail filed the infected message"
await_stat pop3_deletes 4 "fetchmail: pop3_deletes = 4"

# curl, in host mode on the server
stop_daemon
start_host_daemon "$NS_S" "pop3_action = delete"
seed
in_c curl -s --max-time 10 "pop3://$S4/2" -u alice:secret -o /dev/null && fail "curl got the infected message"
wait_for mailbox_holds 2 ||
	fail "host mode: the infected message is still on the server"
await_stat pop3_deletes 1 "host: pop3_deletes = 1"
