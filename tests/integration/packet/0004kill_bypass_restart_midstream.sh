#!/bin/bash
# Killing mailscand (SIGKILL) during transfers leaves every connection completing intact
# (the queue rule's bypass); a restarted daemon passes the connections it finds already
# running as mid-stream, counts each once, and offloads them from the queue.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0"
xfer_server 25
start_daemon

# four paced transfers of ~3 s each
pids=""
for i in 1 2 3 4; do
	xfer_client $S4 25 2000000 $i 50000 0.07 >"$WORK/x.$i" 2>&1 &
	pids="$pids $!"
done
await_stat flows_active 4 "the four transfers under way"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
ok "daemon killed mid-transfer"
# half a second without a daemon: the queue rule's bypass carries the packets meanwhile
sleep 0.5
bg in_g "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
wait_for ctl status || fail "restart"
for p in $pids; do wait "$p" || { cat "$WORK"/x.*; fail "a transfer broke"; }; done
ok "all four transfers completed intact across the kill and restart"
expect_eq "flows_midstream (each running connection once)" "$(stat flows_midstream)" 4
expect_eq "flows_total (no new connection)" "$(stat flows_total)" 0
[ "$(stat flows_offloaded)" -ge 4 ] || fail "not offloaded"
# offloaded: the rest of each flow skipped the queue
seen=$(($(stat packets_to_server) + $(stat packets_to_client)))
[ "$seen" -lt 100 ] || fail "offloaded flows kept reaching the daemon: $seen packets"
ok "offloaded flows left the queue ($seen packets reached the restarted daemon)"
# new connections are followed again
xfer_client $S4 25 100000 9 >/dev/null || fail "new transfer"
expect_eq "flows_total after a new connection" "$(stat flows_total)" 1
