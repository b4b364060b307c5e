#!/bin/bash
# Flows are never forgotten while their connection is open. An open connection idle
# past idle_timeout (here 5 s) is reset on both sides: the client reads the reset, the
# server's connection is released, and the flow stays as a tombstone. A connection that
# closed stays as a tombstone for the receiver's TIME-WAIT (60 s), then leaves the table.
# Counters say which ended how.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0" "idle_timeout = 5"
xfer_server 25
xfer_server 110
start_daemon
# an open, idle connection first (its server serves one at a time): the oldest flow
bg in_c "$PY" -c "
import socket
s = socket.create_connection(('$S4', 110), timeout=40)
try:
    print('eof' if s.recv(100) == b'' else 'data', flush=True)
except ConnectionResetError:
    print('reset', flush=True)
except socket.timeout:
    print('timeout', flush=True)
" >"$WORK/idle.out"
await_stat flows_active 1 "idle connection not followed"
xfer_client $S4 25 100000 1 >/dev/null || fail "transfer"
await "the idle client's end" sh -c "cat '$WORK/idle.out'; grep -q . '$WORK/idle.out'"
expect_eq "the idle client was reset" "$(cat "$WORK/idle.out")" reset
server_released "$NS_S" 110 || fail "the idle connection's server side is left open"
ok "the idle connection's server side is released"
expect_eq "flows_idle_reset" "$(stat flows_idle_reset)" 1
expect_eq "flows_timed_out" "$(stat flows_timed_out)" 1
grep -q "policy=idle_timeout action=reset" "$WORK/mailscand.log" || fail "not logged"
ok "logged"
# both flows are tombstones now, for the receiver's TIME-WAIT
expect_eq "flows_active: two tombstones" "$(stat flows_active)" 2
expect_eq "flows_closed before TIME-WAIT is over" "$(stat flows_closed)" 0
# TIME-WAIT is 60 s: the wait is longer than the usual deadline
DEADLINE=$((DEADLINE + 60)) await_stat flows_active 0 "the tombstones gone after TIME-WAIT"
expect_eq "flows_closed after TIME-WAIT" "$(stat flows_closed)" 2
