#!/bin/bash
# Flows are never forgotten while their connection is open, in gateway and in host mode.
# An open connection idle past idle_timeout (here 5 s) is reset on both sides: the
# client reads the reset, the server's connection is released, and the flow stays as a
# tombstone. A connection that closed stays as a tombstone for the receiver's TIME-WAIT
# (60 s), then leaves the table (waited for in gateway mode only: the sweep is the same
# in both). Counters say which ended how.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
xfer_server 25
# the server of the idle connection ends with its reset: one for each
not_listening() { ! listening "$NS_S" 110; }

idle() { # MODE
	local m=$1 log0
	log0=$(($(cat "$WORK/mailscand.log" 2>/dev/null | wc -l) + 1))
	start_daemon_mode "$m" "idle_timeout = 5"
	xfer_server 110
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
" >"$WORK/$m.idle.out"
	await_stat flows_active 1 "$m: idle connection not followed"
	xfer_client $S4 25 100000 1 >/dev/null || fail "$m: transfer"
	await "$m: the idle client's end" sh -c "cat '$WORK/$m.idle.out'; grep -q . '$WORK/$m.idle.out'"
	expect_eq "$m: the idle client was reset" "$(cat "$WORK/$m.idle.out")" reset
	server_released "$NS_S" 110 || fail "$m: the idle connection's server side is left open"
	ok "$m: the idle connection's server side is released"
	expect_eq "$m: flows_idle_reset" "$(stat flows_idle_reset)" 1
	expect_eq "$m: flows_timed_out" "$(stat flows_timed_out)" 1
	tail -n +"$log0" "$WORK/mailscand.log" | grep -q "policy=idle_timeout action=reset" ||
		fail "$m: not logged"
	ok "$m: logged"
	# both flows are tombstones now, for the receiver's TIME-WAIT
	expect_eq "$m: flows_active: two tombstones" "$(stat flows_active)" 2
	expect_eq "$m: flows_closed before TIME-WAIT is over" "$(stat flows_closed)" 0
	await "$m: the idle connection's server ended" not_listening
}

idle host
stop_daemon_mode
idle gateway
# TIME-WAIT is 60 s: the wait is longer than the usual deadline
DEADLINE=$((DEADLINE + 60)) await_stat flows_active 0 "the tombstones gone after TIME-WAIT"
expect_eq "flows_closed after TIME-WAIT" "$(stat flows_closed)" 2
