#!/bin/bash
# The cost of scanning in sandboxed processes (a scan master and WORKERS scanners that
# share its engine copy-on-write) against the engine in the daemon's own process, the
# model they replaced:
# - throughput: unique 100 KiB MIME messages, 1 and 2 workers, median of RUNS each, with
#   the CPU seconds of every process that scans, and the ratio processes / in-process;
# - memory: PSS (shared pages counted once) of all processes that hold the engine, after
#   a few scans, with the test signatures and with a synthetic database of 1,000,000 MD5
#   and 100,000 body signatures, and the highest total while a reload runs (old and new
#   engine side by side until the old scanners finish).
# - recycling and sealing: the same messages with scanner_max_scans = 0 (never), 1000,
#   100 (the default), 10 and 1, and the cost of one replacement (fork, namespaces,
#   tmpfs, filters) from the last against the first; with BASE=REV, the scanner as REV
#   built it (before a fresh sealed memfd per message and the sandbox), interleaved.
# Usage: [BASE=REV] [RMSGS=N] scripts/bench-procs.sh [RUNS]   (RMSGS: messages per
# recycling run, default 600)
set -eu
RUNS=${1:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
bench=$top/build/tools/scanbench
"$top/scripts/gen-bench-sigs.sh" "$top/build/benchsigs" >/dev/null
# the scanners run as the unprivileged user: the databases go where it can read them
work=$(mktemp -d /tmp/mailscan-benchprocs.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp -r "$top/build/testsigs" "$work/test"
cp -r "$top/build/benchsigs" "$work/big"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
field() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p"; }

echo "throughput: 200 unique MIME messages of 100 KiB, median of $RUNS runs"
printf '%-8s %-11s %10s %12s\n' workers model "msgs/s" "cpu s/MB"
for w in 1 2; do
	for m in in-process processes; do
		flag=; [ $m = in-process ] && flag=-i
		for r in $(seq "$RUNS"); do
			"$bench" $flag "$work/test" 102400 200 "$w" test 2>/dev/null
		done >"$work/t.$w.$m"
		rate=$(field "msgs/s" <"$work/t.$w.$m" | median)
		cpu=$(awk '{for(i=1;i<=NF;i++) if($i~/^cpu=/) {split($i,a,"="); print a[2]/20.48}}' "$work/t.$w.$m" | median)
		printf '%-8s %-11s %10.1f %12.4f\n' "$w" $m "$rate" "$cpu"
		eval "rate_${w}_${m/-/_}=$rate cpu_${w}_${m/-/_}=$cpu"
	done
	awk -v a="$(eval echo \$rate_${w}_processes)" -v b="$(eval echo \$rate_${w}_in_process)" \
		-v c="$(eval echo \$cpu_${w}_processes)" -v d="$(eval echo \$cpu_${w}_in_process)" -v w="$w" \
		'BEGIN {printf "%-8s ratio       %10.3f %12.3f   (processes / in-process)\n", w, a/b, c/d}'
done

echo
# Each round runs every model back to back; a model's ratio is the median over the rounds
# of its rate against that round's "never", so that the machine's drift between rounds
# (other work on its cores) cancels out of the ratio.
RMSGS=${RMSGS:-600}
echo "recycling and sealing: $RMSGS unique MIME messages of 100 KiB, 2 workers, median of $RUNS rounds"
models="0 1000 100 10 1"
if [ -n "${BASE:-}" ]; then
	mkdir -p "$work/base"
	git -C "$top" archive "$BASE" | tar -x -C "$work/base"
	make -C "$work/base" -s build/tools/scanbench >/dev/null
	models="base $models"
fi
for r in $(seq "$RUNS"); do
	for m in $models; do
		if [ "$m" = base ]; then
			"$work/base/build/tools/scanbench" "$work/test" 102400 "$RMSGS" 2 test 2>/dev/null
		else
			SCANBENCH_MAX_SCANS=$m "$bench" "$work/test" 102400 "$RMSGS" 2 test 2>/dev/null
		fi | field "msgs/s" >"$work/x.$m"
	done
	for m in $models; do
		cat "$work/x.$m" >>"$work/r.$m"
		awk -v a="$(cat "$work/x.$m")" -v b="$(cat "$work/x.0")" 'BEGIN {print a / b}' >>"$work/q.$m"
	done
done
never=$(median <"$work/r.0")
printf '%-22s %10s %8s %s\n' scanner_max_scans "msgs/s" "ratio" "  (rounds' ratios to never)"
for m in $models; do
	case $m in
	base) name="$BASE (before)" ;;
	0) name="0 (never)" ;;
	100) name="100 (default)" ;;
	*) name=$m ;;
	esac
	printf '%-22s %10.1f %8.3f   (%s)\n' "$name" "$(median <"$work/r.$m")" "$(median <"$work/q.$m")" \
		"$(sort -n "$work/q.$m" | awk '{printf "%s%.2f", (NR > 1 ? " " : ""), $1}')"
done
awk -v q="$(median <"$work/q.1")" -v b="$never" \
	'BEGIN {c = 2 * (1/(q*b) - 1/b); printf "one replacement costs %.1f ms of a worker: every 100 messages %.2f %% of its time, every 1000 %.3f %%\n", 1000 * c, 100 * c / 100 / (2/b), 100 * c / 1000 / (2/b)}'

echo
echo "memory: PSS in MB of every process holding the engine, 2 workers"
printf '%-30s %-11s %9s %12s\n' database model "PSS" "reload peak"
for db in test big; do
	if [ $db = test ]; then
		name="test signatures (45)" t=test
	else
		name="synthetic (1M MD5, 100k body)" t=
	fi
	in=$("$bench" -i -m "$work/$db" 2 $t 2>/dev/null)
	pr=$("$bench" -m "$work/$db" 2 $t 2>/dev/null)
	printf '%-30s %-11s %9.1f %12s\n' "$name" in-process "$(echo "$in" | field pss_kb | awk '{print $1/1024}')" "-"
	printf '%-30s %-11s %9.1f %12.1f\n' "$name" processes "$(echo "$pr" | field pss_kb | awk '{print $1/1024}')" \
		"$(echo "$pr" | field reload_peak_kb | awk '{print $1/1024}')"
	echo "  processes: $(echo "$pr" | sed 's/^model=processes //')"
done
echo "($(nproc) cores)"
