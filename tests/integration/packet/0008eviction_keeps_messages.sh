#!/bin/bash
# A flood of connections at max_flows: the flows evicted are idle ones, never the one in
# the middle of a message. A client 1 KiB into an infected DATA, then 40 idle
# connections through a table of 16: its message is still followed and rejected (were
# it evicted, the rest would pass as mid-stream). Memory stays within the caps.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0" "max_flows = 16"
make_mail plaineicar

out=$(in_c "$PY" - "$S4" "$WORK/plaineicar.eml" <<'PY'
import socket, sys
host, path = sys.argv[1], sys.argv[2]
msg = open(path, "rb").read()
def conn():
    s = socket.create_connection((host, 25), timeout=20)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO c.example.org\r\n")
    while f.readline()[3:4] == b"-":
        pass
    return s, f
a, fa = conn()
a.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
for _ in range(3):
    fa.readline()
a.sendall(msg[:100])
idle = [conn() for _ in range(40)]
a.sendall(msg[100:] + b".\r\n")
print(fa.readline().decode().strip())
PY
)
case "$out" in
"554 5.7.1 Virus found: MailscanTest."*) ok "the message in progress was kept: $out" ;;
*) fail "client got '$out'" ;;
esac
[ "$(stat flows_evicted)" -ge 25 ] || fail "flows_evicted $(stat flows_evicted)"
expect_eq "flows_evicted_busy" "$(stat flows_evicted_busy)" 0
[ "$(stat flows_active)" -le 16 ] || fail "flows_active $(stat flows_active) over max_flows"
ok "idle flows evicted first, within max_flows"
postfix_settle
expect_eq "nothing stored" "$(delivered_count)" 0
