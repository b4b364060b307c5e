#!/bin/bash
# Flows leave the table when they are done: a connection that closed lingers only the
# closing time (10 s), even behind an older one that is open and idle; the idle one
# stays. Counters say which ended how.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0"
xfer_server 25
xfer_server 110
start_daemon
# an open, idle connection first (its server serves one at a time): the oldest flow
bg in_c "$PY" -c "import socket,time; s=socket.create_connection(('$S4',110)); time.sleep(60)"
await_stat flows_active 1 "idle connection not followed"
xfer_client $S4 25 100000 1 >/dev/null || fail "transfer"
await_stat flows_active 2 "transfer not followed"
await_stat flows_active 1 "the closed flow gone after the closing time"
expect_eq "flows_closed" "$(stat flows_closed)" 1
expect_eq "flows_timed_out" "$(stat flows_timed_out)" 0
