#!/bin/bash
# A flood of connections at max_flows never evicts an open connection: a client 1 KiB
# into an infected DATA, then 40 more connections through a table of 16 (15 of them
# open first, so that every place is an open connection): the SYNs that find no room
# are dropped and counted (the clients send them again), the message in
# progress is still followed and rejected (were it forgotten, the rest would be
# mid-stream), and no open flow is evicted. Memory stays within the caps.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0" "max_flows = 16"
make_mail plaineicar

out=$(in_c "$PY" - "$S4" "$WORK/plaineicar.eml" <<'PY'
import socket, sys, time
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
# the table filled with open connections first (a half-open one could make room), then
# more than it holds
flood = [socket.create_connection((host, 25), timeout=20) for _ in range(15)]
for _ in range(25):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex((host, 25))
    flood.append(s)
time.sleep(3)  # the SYNs past the table are dropped and sent again
a.sendall(msg[100:] + b".\r\n")
print(fa.readline().decode().strip())
PY
)
case "$out" in
"554 5.7.1 Virus found: MailscanTest."*) ok "the message in progress was kept: $out" ;;
*) fail "client got '$out'" ;;
esac
[ "$(stat flows_refused)" -ge 25 ] || fail "flows_refused $(stat flows_refused)"
expect_eq "flows_evicted (no open flow)" "$(stat flows_evicted)" 0
[ "$(stat flows_active)" -le 16 ] || fail "flows_active $(stat flows_active) over max_flows"
grep -q "policy=max_flows action=drop" "$WORK/mailscand.log" || fail "not logged"
ok "new SYNs refused at max_flows, counted and logged; nothing evicted"
postfix_settle
expect_eq "nothing stored" "$(delivered_count)" 0
