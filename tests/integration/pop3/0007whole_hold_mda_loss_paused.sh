#!/bin/bash
# pop3_hold = whole: no byte of an infected RETR body reaches the client. fetchmail
# delivering to an MDA keeps what it was given when the connection is reset: with
# pop3_hold = end its MDA stores the start of a message whose EICAR comes early; with
# whole it stores nothing of it, and the clean message before it byte-identical. Then,
# with whole: a clean 5 MiB body crosses a link that loses every 20th packet to the
# client (an nft rule in its namespace) intact, and the retransmission counter moves; a
# client that stops reading during a release gets the whole body once it reads again,
# and one that never does is reset after idle_timeout. Real dovecot, gateway mode.
# (pop3_action = reset named with both holds: what the client keeps of a reset.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean earlyeicar big; do make_mail $k; done
seed_mailbox "$WORK/clean.eml" "$WORK/earlyeicar.eml" "$WORK/big.eml"

same() { # KIND FILE: the message as sent (dovecot and fetchmail store LF)
	cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2")
}

# how many of the files in DIR/m.* hold EICAR, and whether one is the clean message
eicar_files() { grep -l 'EICAR-STANDARD' "$1"/m.* 2>/dev/null | wc -l; }
# fetchmail puts a Received header of its own first
has_clean() {
	local f
	for f in "$1"/m.*; do
		cmp -s <(tr -d '\r' <"$WORK/clean.eml") \
			<(sed '1{/^Received: /!q}; 1,/^[^ \t]/{/^Received: \|^[ \t]/d}' "$f") && return 0
	done
	return 1
}

start_daemon "queues = 0" "pop3_hold = end" "pop3_action = reset"
fetchmail_mda "$WORK/end" keep
has_clean "$WORK/end" || fail "end: the clean message was not delivered: $(tail -5 "$WORK/end/log")"
expect_eq "end: the MDA kept the start of the infected message, EICAR in it" \
	"$(eicar_files "$WORK/end")" 1
stop_daemon

start_daemon "queues = 0" "pop3_hold = whole" "pop3_action = reset" "idle_timeout = 5"
fetchmail_mda "$WORK/whole" keep
has_clean "$WORK/whole" || fail "whole: the clean message was not delivered: $(tail -5 "$WORK/whole/log")"
expect_eq "whole: no file the MDA wrote holds EICAR" "$(eicar_files "$WORK/whole")" 0
expect_eq "whole: nothing of the infected body reached the client" \
	"$(cat "$WORK/whole"/m.* | grep -c 'filler text after the virus')" 0
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 1
expect_eq "the messages are still on the server" "$(mailbox_count)" 3

# a lossy link to the client: every 20th packet from the POP3 server is lost
in_c nft -f - <<'NFT'
table inet lossy {
	chain input {
		type filter hook input priority -10;
		tcp sport 110 numgen inc mod 20 == 0 counter drop
	}
}
NFT
mkdir -p "$WORK/got"
expect_eq "poplib over the lossy link" "$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 3)" "3 ok"
same big "$WORK/got/3" || fail "the 5 MiB message differs after the lossy link"
ok "the 5 MiB message arrived intact over the lossy link"
lost=$(in_c nft list table inet lossy | sed -n 's/.*packets \([0-9]*\).*/\1/p')
[ "${lost:-0}" -gt 0 ] || fail "the link lost nothing"
stat_ge pop3_retransmits 1 >/dev/null || fail "no segment was sent again"
ok "the link lost $lost packets; mailscand sent $(stat pop3_retransmits) segments again"
in_c nft delete table inet lossy

# a reader that pauses during the release, then reads on; and one that never does
cat >"$WORK/paused.py" <<'PY'
import socket, sys, time
host, pause, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(60)
s.connect((host, 110))
f = s.makefile("rb")
def line():
    return f.readline()
line()
for c in (b"USER alice\r\n", b"PASS secret\r\n"):
    s.sendall(c)
    line()
s.sendall(b"RETR 3\r\n")
status = line()
data = f.read(65536)
time.sleep(pause)
try:
    while not data.endswith(b"\r\n.\r\n"):
        chunk = f.read1(65536)
        if not chunk:
            print("closed")
            sys.exit(0)
        data += chunk
except OSError as e:
    print("reset" if isinstance(e, ConnectionResetError) else type(e).__name__)
    sys.exit(0)
open(out, "wb").write(data[:-3].replace(b"\r\n..", b"\r\n."))
print("ok")
PY
expect_eq "a reader paused for 3 s" "$(in_c "$PY" "$WORK/paused.py" $S4 3 "$WORK/paused.out")" ok
same big "$WORK/paused.out" || fail "the paused reader's message differs"
ok "the paused reader got the whole message once it read again"
expect_eq "a reader that never reads on" "$(in_c "$PY" "$WORK/paused.py" $S4 15 "$WORK/never.out")" \
	reset
stat_ge flows_timed_out 1 >/dev/null || fail "not counted as timed out"
ok "it was reset after idle_timeout"
