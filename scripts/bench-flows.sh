#!/bin/bash
# Memory per connection and connection rate through mailscand (gateway), one run:
#   idle     N SMTP connections past the banner and EHLO, then idle (N = 1000, 10000,
#            and 50000 unless FLOWS says otherwise): mailscand's resident memory
#            growth per flow
#   mid-DATA 200 connections each 100 KiB into a DATA: memory per flow (the message is
#            kept for its scan, within message_memory)
#   rate     short connections (banner, QUIT) per second, CONC at a time, through the
#            accept-all queue listener and through mailscand: the ratio
# Usage: scripts/bench-flows.sh [SECONDS]   (FLOWS="1000 10000" to choose the counts)
set -eu
SECS=${1:-5}
FLOWS=${FLOWS:-1000 10000 50000}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" # a file per connection: PER processes share them
PER=15000
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
NS_PREFIX=msflows
. "$top/tests/lib.sh"
topology_gateway
FLOOD="$TOP/tests/tools/connflood.py"
for ns in "$NS_C" "$NS_S"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" \
		net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192
done
for i in 1 2 3 4; do bg in_s "$PY" "$FLOOD" server 25; done
await "server" listening "$NS_S" 25
write_config "queues = 0" "max_flows = 100000"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# hold N [KIB]: opens the connections in the background, PER a process
hold() {
	local left=$1 i=0
	HOLD=""
	rm -f "$WORK"/ready.*
	while [ "$left" -gt 0 ]; do
		i=$((i + 1))
		bg in_c "$PY" "$FLOOD" hold $S4 25 $((left < PER ? left : PER)) "$WORK/ready.$i" ${2:-}
		HOLD="$HOLD $!"
		left=$((left - PER))
	done
	for i in $(seq "$i"); do
		wait_for test -s "$WORK/ready.$i" || fail "could not open $1 connections"
	done
	sleep 2 # the sweep gives back what idle flows no longer need
}
release() {
	local p
	for p in $HOLD; do kill "$p"; done
	for p in $HOLD; do wait "$p" 2>/dev/null || true; done
}
rate() { in_c "$PY" "$FLOOD" rate $S4 25 "$SECS" 32; }

# start: a fresh mailscand, so that its heap has not grown before; DPID
start() {
	bg in_g "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
	DPID=$!
	wait_for ctl status || fail "mailscand"
	sleep 1
}
stop() {
	kill "$DPID"
	wait "$DPID" 2>/dev/null || true
}
# measure LABEL N [KIB]
measure() {
	local base now active
	start
	base=$(rss_kb "$DPID")
	hold "$2" ${3:-}
	now=$(rss_kb "$DPID")
	active=$(stat flows_active)
	awk -v l="$1" -v n="$2" -v a="$active" -v d=$((now - base)) \
		'BEGIN { printf "%-22s %8d %11d KiB %8.2f KiB\n", l, a, d, d / n }'
	release
	sleep 3 # the connections close while the daemon follows them
	stop
}

in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null
printf '\n%-22s %8s %14s %12s\n' "state" flows "RSS growth" "per flow"
for n in $FLOWS; do
	measure "idle after EHLO" "$n"
done
measure "100 KiB into DATA" 200 100

bg in_g "$BUILD/tools/nfq_accept" 0 3600 >/dev/null 2>&1
acc=$!
sleep 0.5
rate_accept=$(rate)
kill "$acc"
wait "$acc" 2>/dev/null || true
start
rate_mailscand=$(rate)
echo
awk -v a="$rate_accept" -v m="$rate_mailscand" 'BEGIN {
	printf "connections/s: accept-all %d, mailscand %d: %.0f%%\n", a, m, 100 * m / a }'
echo "($(nproc) cores; connection rate over $SECS s, 32 at a time; RSS: VmRSS of a fresh daemon)"
