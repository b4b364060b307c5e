#!/bin/bash
# In gateway and in host mode, a message whose bytes do not fit total_buffer (another
# connection's buffers fill it) is refused for now, never passed and never left to
# stall: the client gets 451 4.7.1 at once, the server's transaction is aborted (nothing
# stored, its connection released), counted and logged. A flow that is reset gives its
# memory back at once (the filler's reset reaches mailscand before the server
# acknowledges its bytes), and clean mail arrives intact.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
make_mail clean
quiet_kernel "$NS_C"
# reasm_mem TEST N: the reassembly buffers (as of the queue thread's last sweep, each
# second) compare to N with TEST
reasm_mem() {
	local n
	n=$(stat reasm_buffered_bytes)
	echo "reasm_buffered_bytes=$n"
	[ "${n:-0}" "$1" "$2" ]
}

total() { # MODE
	local m=$1 log0 out line victim
	log0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1))
	start_daemon_mode "$m" "total_buffer = 64K"

	# the victim: a dialogue up to 354, then its message once the memory is taken
	mkfifo "$WORK/$m.go"
	in_c "$PY" - "$S4" "$WORK/$m.go" >"$WORK/$m.victim" 2>&1 <<'PYEOF' &
import socket, sys
s = socket.create_connection((sys.argv[1], 25), timeout=60)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline()
        if not l or l[3:4] != b"-":
            return l.decode().strip()
reply()
for c in (b"EHLO client.example\r\n", b"MAIL FROM:<a@example.org>\r\n",
          b"RCPT TO:<alice@example.org>\r\n", b"DATA\r\n"):
    s.sendall(c)
    r = reply()
print(r, flush=True)
open(sys.argv[2]).readline()
try:
    s.sendall(b"Subject: deferred\r\n\r\n" + b"line of the message body\r\n" * 200 + b".\r\n")
except OSError as e:
    print("send:", e, flush=True)
print(reply() or "closed", flush=True)
PYEOF
	victim=$!
	await "$m: the victim at 354" grep -q '^354' "$WORK/$m.victim"

	coproc FILL { in_c "$PY" "$TOP/tests/tools/buffill.py" "$S4" 25 32700; }
	read -r -t "$DEADLINE" line <&"${FILL[0]}"
	expect_eq "$m: the filler holds the memory" "$line" "ready"
	# less than the smallest buffer a direction takes (512 bytes) is left: the victim's
	# message (sent at once, its first segment far larger) cannot be kept, whatever the
	# victim's last reply still held when the filler came (an acknowledgement delayed)
	await "$m: total_buffer full" reasm_mem -gt $((65536 - 512))

	echo go >"$WORK/$m.go"
	wait $victim
	out=$(tail -n 1 "$WORK/$m.victim")
	[[ $out =~ ^451\ 4\.7\.1\  ]] || fail "$m: the message past total_buffer: '$(cat "$WORK/$m.victim")'"
	ok "$m: the message past total_buffer: $out"
	expect_eq "$m: total_buffer_tempfail" "$(stat total_buffer_tempfail)" 1
	expect_eq "$m: smtp_tempfail" "$(stat smtp_tempfail)" 1
	expect_eq "$m: not oversize" "$(stat smtp_messages_oversize)" 0
	tail -n +"$log0" "$WORK/mailscand.log" | grep -q "policy=total_buffer action=tempfail" ||
		fail "$m: not logged"
	ok "$m: logged"

	echo >&"${FILL[1]}"
	read -r -t "$DEADLINE" line <&"${FILL[0]}"
	expect_eq "$m: the filler let go" "$line" "released"
	wait "$FILL_PID" 2>/dev/null
	server_released "$NS_S" 25 || fail "$m: the server's connections are left open"
	ok "$m: the server's connections are released"
	# both flows are tombstones: they hold nothing (their TIME-WAIT is not over)
	await "$m: the memory given back by the reset flows" reasm_mem -eq 0
	expect_eq "$m: two tombstones" "$(stat flows_active)" 2
	expect_eq "$m: clean mail afterwards" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
	postfix_settle
	stop_daemon_mode
}

total gateway
total host
expect_eq "stored: the clean messages only" "$(delivered_count)" 2
nothing_infected_stored
for f in $(delivered); do
	grep -q "Subject: deferred" "$f" && fail "the deferred message was stored: $f"
done
was_delivered clean || fail "the clean message is not intact"
ok "the clean messages arrived intact"
