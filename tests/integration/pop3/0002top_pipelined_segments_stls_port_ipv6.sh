#!/bin/bash
# POP3 beyond plain RETR: TOP of an infected message (whole: reset; headers only: fine),
# pipelined RETRs, bodies cut into tiny segments (the terminator arrives in pieces),
# STLS passed through, a port added with `mailscanctl ports add pop3`, IPv6, and
# fetchmail as the client.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot 110 10111
for k in clean stuffed eicar; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/stuffed.eml" "$WORK/eicar.eml"
start_daemon "queues = 0" "pop3_action = reset"
mkdir -p "$WORK/got" "$WORK/tiny"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

expect_eq "TOP 3 with the whole body" "$(in_c "$PY" "$POP3GET" top $S4 110 3 1000)" \
	"reset (ConnectionResetError)"
case "$(in_c "$PY" "$POP3GET" top $S4 110 3 0)" in "ok "*) ok "TOP 3 0 (headers only) passes" ;;
*) fail "TOP 3 0" ;; esac
expect_eq "pop3_top" "$(stat pop3_top)" 2

out=$(in_c "$PY" "$POP3GET" pipelined $S4 110 "$WORK/got" 1 2)
expect_eq "pipelined RETR 1 2" "$out" "1 ok
2 ok"
same clean "$WORK/got/1" && same stuffed "$WORK/got/2" || fail "pipelined bodies differ"
# with the infected one in the same burst, the packet that completes it may carry the
# end of the clean one too: then neither completes. The infected one never does.
rm -f "$WORK/got/3"
out=$(in_c "$PY" "$POP3GET" pipelined $S4 110 "$WORK/got" 1 3)
case "$out" in *"reset (ConnectionResetError)") ok "pipelined RETR 1 3 ends in a reset" ;;
*) fail "pipelined RETR 1 3: $out" ;; esac
[ ! -e "$WORK/got/3" ] || fail "the infected message completed"
[ "$(stat pop3_pipelined)" -ge 2 ] || fail "pipelining not counted"

# tiny segments: the client advertises a 48-byte MSS
ip -n "$NS_C" route replace $S4 via $G4C advmss 48
out=$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/tiny" 2 3)
expect_eq "48-byte segments" "$out" "2 ok
reset (ConnectionResetError)"
same stuffed "$WORK/tiny/2" || fail "stuffed differs in tiny segments"
ip -n "$NS_C" route del $S4 via $G4C
ok "bodies in 48-byte segments: clean intact, infected never completes"

expect_eq "STLS session" "$(in_c "$PY" "$POP3GET" stls $S4 110 "$WORK/got" 3)" "3 ok"
expect_eq "pop3_stls" "$(stat pop3_stls)" 1

expect_eq "unprotected port 10111" "$(in_c "$PY" "$POP3GET" retr $S4 10111 "$WORK/got" 3)" "3 ok"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add pop3 10111 >/dev/null || fail "ports add"
expect_eq "added port scanned" "$(in_c "$PY" "$POP3GET" retr $S4 10111 "$WORK/got" 3)" \
	"reset (ConnectionResetError)"

expect_eq "IPv6" "$(in_c "$PY" "$POP3GET" retr $S6 110 "$WORK/got" 1 3)" "1 ok
reset (ConnectionResetError)"

# fetchmail: keeps the messages, hands each to an MDA that files it
mkdir -p "$WORK/fm"
cat >"$WORK/fm/rc" <<RC
poll $S4 proto pop3 port 110 user alice password secret keep
  mda "/bin/sh -c 'cat > $WORK/fm/msg.\$\$'"
RC
chmod 600 "$WORK/fm/rc"
in_c env HOME="$WORK/fm" fetchmail -f "$WORK/fm/rc" --nosyslog --sslproto '' -s >"$WORK/fm/log" 2>&1
n=$(ls "$WORK/fm" | grep -c '^msg\.')
cat "$WORK/fm/log" | tail -3
expect_eq "fetchmail filed the two clean messages before the infected one" "$n" 2
grep -l EICAR-STANDARD "$WORK"/fm/msg.* && fail "fetchmail filed the infected message"
ok "fetchmail never got the infected message"
expect_eq "all messages still on the server" "$(mailbox_count)" 3
