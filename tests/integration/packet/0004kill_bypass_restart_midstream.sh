#!/bin/bash
# Killing mailscand (SIGKILL) during transfers leaves every connection completing intact
# (the queue rule's bypass). A daemon restarted within midstream_grace passes the
# connections it finds already running (they are older than it), counts and logs each
# once, and offloads them from the queue. After the grace (here 0 s) such connections
# take the midstream policy, reset by default: both sides are reset at once, the client
# sees the reset (not a timeout) and the server's connection is released.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0"
xfer_server 25
start_daemon

# four paced transfers of ~3 s each; N flows are followed once they are under way
transfers() { # N
	pids=""
	for i in 1 2 3 4; do
		xfer_client $S4 25 2000000 $i 50000 0.07 >"$WORK/x.$i" 2>&1 &
		pids="$pids $!"
	done
	await_stat flows_active "$1" "the four transfers under way"
}
restart() { # restarts the daemon mid-transfer with the config lines given
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	ok "daemon killed mid-transfer"
	# half a second without a daemon: the queue rule's bypass carries the packets meanwhile
	sleep 0.5
	write_config "queues = 0" "$@"
	bg in_g "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
	DAEMON_PID=$!
	wait_for ctl status || fail "restart"
}

transfers 4
restart
for p in $pids; do wait "$p" || { cat "$WORK"/x.*; fail "a transfer broke"; }; done
ok "all four transfers completed intact across the kill and a restart in the grace"
expect_eq "flows_midstream (each running connection once)" "$(stat flows_midstream)" 4
expect_eq "midstream_passed" "$(stat midstream_passed)" 4
expect_eq "midstream_reset" "$(stat midstream_reset)" 0
expect_eq "flows_total (no new connection)" "$(stat flows_total)" 0
[ "$(stat flows_offloaded)" -ge 4 ] || fail "not offloaded"
# offloaded: the rest of each flow skipped the queue
seen=$(($(stat packets_to_server) + $(stat packets_to_client)))
[ "$seen" -lt 100 ] || fail "offloaded flows kept reaching the daemon: $seen packets"
ok "offloaded flows left the queue ($seen packets reached the restarted daemon)"
n=$(grep -c "policy=midstream action=pass" "$WORK/mailscand.log")
expect_eq "logged once per flow" "$n" 4
# new connections are followed again
xfer_client $S4 25 100000 9 >/dev/null || fail "new transfer"
expect_eq "flows_total after a new connection" "$(stat flows_total)" 1

# after the grace: running connections are reset on both sides, within seconds
await_stat flows_active 1 "the last transfer's flow a tombstone, the others passed"
transfers 5
restart "midstream_grace = 0"
t0=$(date +%s)
for p in $pids; do wait "$p" && { cat "$WORK"/x.*; fail "a transfer completed unscanned"; }; done
for i in 1 2 3 4; do
	grep -qE "ConnectionResetError|BrokenPipeError" "$WORK/x.$i" || { cat "$WORK/x.$i"; fail "transfer $i: not reset"; }
done
[ $(($(date +%s) - t0)) -lt 15 ] || fail "the clients waited $(($(date +%s) - t0)) s for their reset"
ok "all four clients were reset ($(($(date +%s) - t0)) s)"
# the test server reads one connection at a time: the one it was reading is reset by
# mailscand, the others, queued in its backlog, go when it exits
r=$(stat midstream_reset)
[ "$r" -ge 1 ] || fail "midstream_reset $r"
expect_eq "midstream_passed" "$(stat midstream_passed)" 0
expect_eq "every mid-stream flow reset" "$(stat flows_midstream)" "$r"
server_released "$NS_S" 25 || fail "the server's connections are left open"
ok "the server's connections are released"
n=$(grep -c "policy=midstream action=reset" "$WORK/mailscand.log")
expect_eq "logged once per flow" "$n" "$r"
