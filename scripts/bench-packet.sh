#!/bin/bash
# Packet-path benchmark, one run, three setups through a gateway namespace (GRO on):
#   none        no rules: the baseline
#   accept-all  the rules and a minimal accept-all NFQUEUE listener: the mechanism's limit
#   mailscand   the rules and mailscand following every flow
# Bulk throughput (iperf3 to port 25, median of RUNS) and one-byte round-trip latency
# (median of 2000), with ratios. Usage: scripts/bench-packet.sh [RUNS] [SECONDS]
set -eu
RUNS=${1:-3}
SECS=${2:-4}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
NS_PREFIX=msbench
. "$top/tests/lib.sh"
topology_gateway
write_config "queues = 0"
bg in_s iperf3 -s -p 25 -D >/dev/null
bg in_s "$PY" "$TOP/tests/tools/tcprr.py" server 110
await "listening on 25" listening "$NS_S" 25
await "listening on 110" listening "$NS_S" 110

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
gbps() {
	local i
	for i in $(seq "$RUNS"); do
		in_c iperf3 -c $S4 -p 25 -t "$SECS" -J 2>/dev/null |
			"$PY" -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'
	done | median
}
rtt() { in_c "$PY" "$TOP/tests/tools/tcprr.py" client $S4 110 2000; }

declare -A T L
T[none]=$(gbps)
L[none]=$(rtt)
in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null
bg in_g "$BUILD/tools/nfq_accept" 0 3600 >/dev/null 2>&1
acc=$!
sleep 0.5
T[accept]=$(gbps)
L[accept]=$(rtt)
kill "$acc"
wait "$acc" 2>/dev/null || true
bg in_g "$BUILD/mailscand" -c "$CONF" 2>/dev/null
wait_for ctl status
T[mailscand]=$(gbps)
L[mailscand]=$(rtt)

printf '\n%-12s %12s %10s %14s %10s\n' setup "Gbit/s" "vs none" "RTT us" "vs none"
for s in none accept mailscand; do
	awk -v n="$s" -v t="${T[$s]}" -v t0="${T[none]}" -v l="${L[$s]}" -v l0="${L[none]}" \
		'BEGIN { printf "%-12s %12.2f %9.0f%% %14.1f %9.2fx\n", n == "accept" ? "accept-all" : n, t, 100 * t / t0, l, l / l0 }'
done
awk -v a="${T[accept]}" -v m="${T[mailscand]}" \
	'BEGIN { printf "\nmailscand / accept-all throughput: %.0f%% (goal: 90%% or more)\n", 100 * m / a }'
echo "(medians of $RUNS runs of $SECS s; $(nproc) cores; one flow)"
