#!/bin/bash
# Flood benchmark: what many tiny out-of-order segments cost mailscand. On the test
# topology (client / gateway / server namespaces, postfix on the server), a hand-made
# client fills each of 4 SMTP connections with N one-byte out-of-order segments (every
# other byte: no two join), then sends 20,000 more; the queue thread's CPU time for those
# (its schedstat, in ns) over the packets it took meanwhile (both directions: the
# server's duplicate ACKs too) is the cost per packet. N goes from 10 to 10,000:
# out-of-order data is a skip list of disjoint ranges, so the cost stays flat
# (ooo_segments is raised to 40,000 so that none is refused). Then clean mail: 200
# messages over 4 other connections, alone and during a flood on 8 connections, in
# msgs/s. REPS repetitions of each, interleaved; prints the medians, the ratios to the
# 10 case (of the medians, and the median of each repetition's) and to the mail alone;
# nothing is asserted.
# Usage: scripts/bench-flood.sh [REPS]
set -e
REPS=${1:-3}
. "$(dirname "$0")/../tests/lib.sh"
[ -x "$BUILD/mailscand" ] || fail "build first: make"
topology_gateway
start_postfix
postfix_unlimited
quiet_kernel "$NS_C"
start_daemon "queues = 0" "ooo_segments = 40000" "flow_buffer = 4M" "max_flows = 4096"
FLOOD="$TOP/tests/tools/oooflood.py"
TID=$(grep -l '^ms-queue0$' /proc/$DAEMON_PID/task/*/comm | sed 's|/comm$||;s|.*/||')
[ -n "$TID" ] || fail "no queue thread"
cpu_ns() { awk '{print $1}' "/proc/$DAEMON_PID/task/$TID/schedstat"; }
packets() { echo $(($(stat packets_to_server) + $(stat packets_to_client))); }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
MEASURE=20000
SIZES="10 100 1000 10000"

# flood_start FLOWS PREFILL MEASURE: the flood's connections open and filled (every
# prefill segment taken by the daemon), waiting for "go"
flood_start() {
	local ooo
	ooo=$(stat reasm_out_of_order)
	coproc FL { in_c env PYTHONPATH="$TOP/tests/tools" "$PY" "$FLOOD" $S4 25 "$@"; }
	read -r -t "$DEADLINE" line <&"${FL[0]}" || fail "flood $*: not ready within $DEADLINE s"
	[ "$line" = ready ] || fail "flood $*: $line"
	await "the flood's $(($1 * $2)) prefill segments taken" stat_ge reasm_out_of_order $((ooo + $1 * $2))
}
flood_end() {
	echo end >&"${FL[1]}"
	wait "$FL_PID" 2>/dev/null || true
}

# one measurement with N segments per flow buffered: the queue thread's ns per packet
cost() {
	local p0 c0 o0 d0 p1 c1 d1
	flood_start 4 "$1" $MEASURE
	p0=$(packets) c0=$(cpu_ns) o0=$(stat reasm_out_of_order) d0=$(stat ooo_dropped)
	echo go >&"${FL[1]}"
	read -r -t 300 line <&"${FL[0]}" || fail "flood $1: not done within 300 s"
	await "the flood's $MEASURE segments taken" stat_ge reasm_out_of_order $((o0 + MEASURE))
	p1=$(packets) c1=$(cpu_ns) d1=$(stat ooo_dropped)
	flood_end
	[ "$d1" = "$d0" ] || fail "flood $1: $((d1 - d0)) segments refused (ooo_dropped)"
	echo $(((c1 - c0) / (p1 - p0)))
}

# clean mail on other connections: the msgs/s of one mailload run
rate() {
	local out
	out=$(in_c "$PY" "$TOP/tests/tools/mailload.py" smtp $S4 25 4 "$WORK/mail")
	echo "$out" | grep -q " failed=0 " || fail "mail failed: $out"
	echo "$out" | awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%.1f", v["msgs"] / v["wall"]}'
}
# the same during a flood on 8 connections, stopped once the mail is through
rate_flood() {
	local r sent
	flood_start 8 2000 400000
	echo go >&"${FL[1]}"
	r=$(rate)
	echo stop >&"${FL[1]}"
	read -r -t 300 line <&"${FL[0]}" || fail "background flood: not done within 300 s"
	sent=${line#done sent=}
	flood_end
	# a flood that ended before the mail did would flatter the mail
	[ "$sent" -lt 400000 ] || fail "the flood ended before the mail"
	echo "$r"
}

in_c "$PY" "$TOP/tests/tools/mailload.py" make "$WORK/mail" 200 20000 flood >/dev/null
last() { echo $1 | awk '{print $NF}'; }
declare -A C
alone="" during=""
for r in $(seq "$REPS"); do
	# every other repetition from the largest down, so that a load that changes meanwhile
	# weighs on both ends alike
	order=$SIZES
	[ $((r % 2)) = 0 ] && order=$(echo $SIZES | tr ' ' '\n' | sort -rn)
	for n in $order; do
		C[$n]+="$(cost "$n") "
	done
	alone+="$(rate) " during+="$(rate_flood) "
	line="repetition $r: ns/packet"
	for n in $SIZES; do line+=" $(last "${C[$n]}")"; done
	echo "$line; mail msgs/s alone $(last "$alone"), during a flood $(last "$during")" >&2
done

med() { echo $1 | tr ' ' '\n' | median; }
c10=$(med "${C[10]}")
# each repetition's cost against its own 10 case
ratios() { paste <(echo $1 | tr ' ' '\n') <(echo ${C[10]} | tr ' ' '\n') | awk '{printf "%.3f\n", $1 / $2}'; }
printf '\n%-20s %16s %14s %22s\n' "ooo segments/flow" "queue ns/packet" "vs 10" "vs 10, per repetition"
for n in $SIZES; do
	awk -v n="$n" -v c="$(med "${C[$n]}")" -v c0="$c10" -v r="$(ratios "${C[$n]}" | median)" \
		'BEGIN { printf "%-20s %16d %14.2f %22.2f\n", n, c, c / c0, r }'
done
a=$(med "$alone") d=$(med "$during")
printf '\nclean mail, 200 x 20 KB over 4 connections: alone %s msgs/s, during a flood on 8 connections %s msgs/s (ratio %s)\n' \
	"$a" "$d" "$(awk -v a="$a" -v d="$d" 'BEGIN {printf "%.2f", d / a}')"
echo "(medians of $REPS repetitions; $(nproc) cores; every message accepted)"
