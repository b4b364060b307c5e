#!/bin/bash
# Scanning on another machine: throughput and the gateway's CPU seconds per scanned MB
# with `local` scanners, a clamd over TCP and c-icap's virus_scan (over that clamd) on
# a scanner host beside the gateway, each with 0, 1 and 10 ms added to every round trip
# to the scanner, and a baseline with no interception, in one run. 200 unique MIME
# messages of 100 KiB over 8 SMTP connections, scanners with max=8, so that scans
# overlap: concurrency hides the latency. The 10 ms cases run again over 1 connection,
# where nothing overlaps. Latency comes from tc netem on the scanner host's link where
# the kernel has it, else from a TCP proxy that delays every chunk
# (tests/tools/delayproxy.py). Every message is checked byte for byte in the maildir.
# Usage: scripts/bench-remote.sh [RUNS]
set -eu
RUNS=${1:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "scripts/bench-remote.sh: run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s -j"$(nproc)" all >/dev/null
NS_PREFIX=msbr
. "$top/tests/lib.sh"
LOAD=$TOP/tests/tools/mailload.py
INBOX=$WORK/pf/mail/inbox/new
topology_gateway
topology_scanner
start_postfix
postfix_unlimited
start_clamd c1 3310 "MaxThreads 16"
start_icap c1

# latency: netem, or a proxy per scanner and delay (clamd 2NNNN, ICAP 3NNNN)
NETEM=no
in_x tc qdisc add dev eth0 root netem delay 0ms 2>/dev/null && NETEM=yes
for d in 1 10; do
	if [ $NETEM = no ]; then
		bg in_x "$PY" "$TOP/tests/tools/delayproxy.py" $X4 $((20000 + d)) $X4 3310 $d
		bg in_x "$PY" "$TOP/tests/tools/delayproxy.py" $X4 $((30000 + d)) $X4 1344 $d
		await "delay proxy" listening "$NS_X" "$((30000 + d))"
	fi
done
# scanner DELAY: the scanners line for a kind at a delay, and the link set for it
scanner() {
	local kind=$1 d=$2 cport=3310 iport=1344
	if [ "$d" != 0 ] && [ $NETEM = no ]; then cport=$((20000 + d)) iport=$((30000 + d)); fi
	[ $NETEM = yes ] && in_x tc qdisc change dev eth0 root netem delay ${d}ms
	case $kind in
	local) echo "local max=2" ;;
	clamd) echo "clamd:tcp:$X4:$cport max=8" ;;
	icap) echo "icap://$X4:$iport/avscan max=8" ;;
	esac
}

RES=$WORK/results
: >"$RES"
# run ROUND MODE DELAY CONNS
run() {
	local round=$1 mode=$2 d=$3 conns=$4 dir=$WORK/msg pids="" c0 c1 out check
	rm -rf "$dir"
	"$PY" "$LOAD" make "$dir" 200 102400 "$mode.$d.$conns.$round"
	find "$INBOX" -type f -delete 2>/dev/null || true
	if [ "$mode" != none ]; then
		start_daemon "queues = 0" "scanners = $(scanner "$mode" "$d")"
		pids=$(daemon_pids)
	fi
	c0=$(cpu_ticks $pids)
	out=$(in_c "$PY" "$LOAD" smtp $S4 25 "$conns" "$dir")
	c1=$(cpu_ticks $pids)
	wait_for sh -c "[ \$(find '$INBOX' -type f | wc -l) -ge 200 ]" ||
		fail "$mode/$d: $(find "$INBOX" -type f | wc -l) of 200 delivered"
	check=$("$PY" "$LOAD" verify "$dir" "$INBOX") || fail "$mode/$d: $check"
	case $out in *" failed=0 "*) ;; *) fail "$mode/$d: $out" ;; esac
	[ "$mode" != none ] && stop_daemon
	echo "$out" | sed 's/[a-z0-9]*=//g' | awk -v m="$mode" -v d="$d" -v c="$conns" \
		-v cpu="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" \
		'{print m, d, c, $4, $1 / $4, cpu / hz / ($3 / 1048576)}' >>"$RES"
	echo "  $mode +${d}ms conns=$conns round $round: $out" >&2
}

for r in $(seq "$RUNS"); do
	run "$r" none 0 8
	for m in local clamd icap; do
		for d in 0 1 10; do
			[ $m = local ] && [ $d != 0 ] && continue
			run "$r" $m $d 8
		done
	done
	run "$r" clamd 10 1
	run "$r" icap 10 1
done
echo
echo "latency added by: $([ $NETEM = yes ] && echo "tc netem" || echo "a delaying TCP proxy (no sch_netem in this kernel)")"
awk '
{ k = $1 " " $2 " " $3; n[k]++; rate[k, n[k]] = $5; cpu[k, n[k]] = $6; if (!(k in seen)) { seen[k] = 1; order[++o] = k } }
function med(a, k, m,   i, j, t, v) {
	for (i = 1; i <= m; i++) v[i] = a[k, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
	return v[int((m + 1) / 2)]
}
END {
	printf "%-7s %-8s %-6s %10s %10s %14s\n", "scanner", "latency", "conns", "msgs/s", "vs none", "gw CPU s/MB"
	base = med(rate, "none 0 8", n["none 0 8"])
	for (i = 1; i <= o; i++) {
		k = order[i]; split(k, f, " ")
		r = med(rate, k, n[k]); c = med(cpu, k, n[k])
		printf "%-7s %-8s %-6s %10.1f %10.2f %14s\n", f[1], "+" f[2] " ms", f[3], r, r / base,
			f[1] == "none" ? "-" : sprintf("%.4f", c)
	}
}' "$RES"
echo "(medians of $RUNS runs; $(nproc) cores; the gateway CPU is mailscand's processes only)"
