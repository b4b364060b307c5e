#!/bin/bash
# Flood benchmark: what many tiny out-of-order segments cost mailscand. On the test
# topology (client / gateway / server namespaces, postfix on the server), a hand-made
# client fills each of 4 SMTP connections with N one-byte out-of-order segments (every
# other byte: no two join), then sends 20,000 more; the queue thread's CPU time for those
# (its schedstat, in ns) over the packets it took is the cost per packet. N goes from 10
# to 10,000: out-of-order data is a skip list of disjoint ranges, so the cost stays flat
# (ooo_segments is raised to 40,000 so that none is refused). Then clean mail: 200
# messages over 4 other connections, alone and during a flood on 8 connections; msgs/s
# and their ratio. Prints a table; ratios only, nothing asserted.
set -e
. "$(dirname "$0")/../tests/lib.sh"
[ -x "$BUILD/mailscand" ] || fail "build first: make"
topology_gateway
start_postfix
postfix_unlimited
quiet_kernel "$NS_C"
start_daemon "queues = 0" "ooo_segments = 40000" "flow_buffer = 4M" "max_flows = 4096"
FLOOD="$TOP/tests/tools/oooflood.py"
queue_tid() { grep -l '^ms-queue0$' /proc/$DAEMON_PID/task/*/comm | sed 's|/comm$||;s|.*/||'; }
TID=$(queue_tid)
[ -n "$TID" ] || fail "no queue thread"
cpu_ns() { awk '{print $1}' "/proc/$DAEMON_PID/task/$TID/schedstat"; }
MEASURE=20000

printf '%-22s %12s %14s %12s\n' "ooo segments/flow" "packets" "queue ns/pkt" "ooo_dropped"
for n in 10 100 1000 10000; do
	coproc FL { in_c env PYTHONPATH="$TOP/tests/tools" "$PY" "$FLOOD" $S4 25 4 "$n" $MEASURE; }
	read -r -t 120 line <&"${FL[0]}" || fail "flood $n: no ready"
	[ "$line" = ready ] || fail "flood $n: $line"
	p0=$(stat packets_to_server) c0=$(cpu_ns) d0=$(stat ooo_dropped)
	echo go >&"${FL[1]}"
	read -r -t 120 line <&"${FL[0]}" || fail "flood $n: no done"
	await "the flood's packets taken" stat_ge packets_to_server $((p0 + MEASURE))
	p1=$(stat packets_to_server) c1=$(cpu_ns) d1=$(stat ooo_dropped)
	echo end >&"${FL[1]}"
	wait "$FL_PID" 2>/dev/null || true
	printf '%-22s %12s %14s %12s\n' "$n" $((p1 - p0)) $(((c1 - c0) / (p1 - p0))) $((d1 - d0))
done

# clean mail on other connections, without and during a flood
in_c "$PY" "$TOP/tests/tools/mailload.py" make "$WORK/mail" 200 20000 flood >/dev/null
rate() { # the msgs/s of one mailload run
	local out
	out=$(in_c "$PY" "$TOP/tests/tools/mailload.py" smtp $S4 25 4 "$WORK/mail")
	echo "$out" | grep -q " failed=0 " || echo "$out" | grep -q "failed=0" || fail "mail failed: $out"
	echo "$out" | awk '{for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.1f", v["msgs"] / v["wall"]}'
}
alone=$(rate)
coproc FL { in_c env PYTHONPATH="$TOP/tests/tools" "$PY" "$FLOOD" $S4 25 8 2000 400000; }
read -r -t 120 line <&"${FL[0]}" || fail "background flood: no ready"
echo go >&"${FL[1]}"
during=$(rate)
read -r -t 300 line <&"${FL[0]}" || true
echo end >&"${FL[1]}"
wait "$FL_PID" 2>/dev/null || true
printf '\nclean mail, 200 x 20 KB over 4 connections: alone %s msgs/s, during a flood on 8 connections %s msgs/s (ratio %s)\n' \
	"$alone" "$during" "$(awk -v a="$alone" -v d="$during" 'BEGIN {printf "%.2f", d / a}')"
