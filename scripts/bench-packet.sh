#!/bin/bash
# Packet-path benchmark, three setups through a gateway namespace (GRO on):
#   none        no rules: the baseline
#   accept-all  the rules and a minimal accept-all NFQUEUE listener: the mechanism's limit
#   mailscand   the rules and mailscand following every flow
# ROUNDS rounds, each measuring the three setups one after the other (so that the other
# work on a shared machine weighs on each alike): bulk throughput (one iperf3 flow to
# port 25 for SECONDS) and one-byte round-trip latency (median of 2000). Prints the
# medians over the rounds and the median of each round's ratio; nothing is asserted.
# Extra mailscand configuration lines may be given in BENCH_CONFIG (one per line).
# Usage: scripts/bench-packet.sh [ROUNDS] [SECONDS]
set -eu
ROUNDS=${1:-5}
SECS=${2:-4}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
NS_PREFIX=msbench$$-
. "$top/tests/lib.sh"
topology_gateway
extra=()
[ -n "${BENCH_CONFIG:-}" ] && mapfile -t extra <<<"$BENCH_CONFIG"
write_config "queues = 0" "${extra[@]}"
bg in_s iperf3 -s -p 25 -D >/dev/null
bg in_s "$PY" "$TOP/tests/tools/tcprr.py" server 110
await "listening on 25" listening "$NS_S" 25
await "listening on 110" listening "$NS_S" 110

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
gbps() {
	timeout $((SECS + DEADLINE)) ip netns exec "$NS_C" iperf3 -c $S4 -p 25 -t "$SECS" -J 2>/dev/null |
		"$PY" -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
}
rtt() { in_c "$PY" "$TOP/tests/tools/tcprr.py" client $S4 110 2000; }
stop() { # PID
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

declare -A T L
drops=0 packets=0
for r in $(seq "$ROUNDS"); do
	T[none]+="$(gbps) " L[none]+="$(rtt) "
	in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null
	bg in_g "$BUILD/tools/nfq_accept" 0 3600 >/dev/null 2>&1
	p=$!
	await "accept-all listener bound" sh -c "ip netns exec $NS_G cat /proc/net/netfilter/nfnetlink_queue | grep -q ."
	T[accept]+="$(gbps) " L[accept]+="$(rtt) "
	stop "$p"
	bg in_g "$BUILD/mailscand" -c "$CONF" 2>/dev/null
	p=$!
	wait_for ctl status || fail "mailscand did not answer"
	T[mailscand]+="$(gbps) " L[mailscand]+="$(rtt) "
	drops=$((drops + $(stat verdict_drop)))
	packets=$((packets + $(stat packets_to_server) + $(stat packets_to_client)))
	stop "$p"
	in_g "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null
	echo "round $r: Gbit/s none $(echo ${T[none]} | awk '{print $NF}')," \
		"accept-all $(echo ${T[accept]} | awk '{print $NF}')," \
		"mailscand $(echo ${T[mailscand]} | awk '{print $NF}')" >&2
done

med() { echo $1 | tr ' ' '\n' | median; }
# each round's mailscand / accept-all
ratios=$(paste <(echo ${T[mailscand]} | tr ' ' '\n') <(echo ${T[accept]} | tr ' ' '\n') |
	awk '{printf "%.3f\n", $1 / $2}')
printf '\n%-12s %12s %10s %14s %10s\n' setup "Gbit/s" "vs none" "RTT us" "vs none"
for s in none accept mailscand; do
	awk -v n="$s" -v t="$(med "${T[$s]}")" -v t0="$(med "${T[none]}")" \
		-v l="$(med "${L[$s]}")" -v l0="$(med "${L[none]}")" \
		'BEGIN { printf "%-12s %12.2f %9.0f%% %14.1f %9.2fx\n", n == "accept" ? "accept-all" : n, t, 100 * t / t0, l, l / l0 }'
done
echo
echo "mailscand / accept-all throughput, each round: $(echo $ratios)"
awk -v r="$(echo "$ratios" | median)" \
	'BEGIN { printf "mailscand / accept-all throughput: %.0f%% (median of the rounds; goal: 90%% or more)\n", 100 * r }'
echo "mailscand dropped $drops of $packets packets (verdict_drop: buffer caps, normalisation)"
echo "(medians of $ROUNDS rounds of $SECS s; $(nproc) cores; one flow)"
