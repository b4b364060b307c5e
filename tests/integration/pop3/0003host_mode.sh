#!/bin/bash
# Host mode: the daemon on the POP3 server itself. Clean messages are retrieved intact
# by remote and local (loopback) clients; the infected one never completes and stays.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean big eicar; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/big.eml" "$WORK/eicar.eml"
write_config "queues = 0" "mode = host" "pop3_action = reset"
in_s "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "rules install"
bg in_s "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
wait_for ctl status || fail "mailscand"
mkdir -p "$WORK/got" "$WORK/lo"
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }

expect_eq "remote client" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 1 2 3)" "1 ok
2 ok
reset (ConnectionResetError)"
same clean "$WORK/got/1" && same big "$WORK/got/2" || fail "remote bodies differ"
expect_eq "local client over loopback" \
	"$(in_s "$PY" "$POP3GET" retr 127.0.0.1 110 "$WORK/lo" 2 3)" "2 ok
reset (ConnectionResetError)"
same big "$WORK/lo/2" || fail "loopback body differs"
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 2
expect_eq "pop3_messages_clean" "$(stat pop3_messages_clean)" 3
expect_eq "packets_truncated" "$(stat packets_truncated)" 0
expect_eq "messages still on the server" "$(mailbox_count)" 3
