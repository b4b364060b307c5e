#!/bin/bash
# End-to-end mail benchmark: real mail through a gateway to real servers, side by side.
# Topology: client -- gateway -- server namespaces; postfix (SMTP) and dovecot (POP3) on
# the server. Every workload runs through
#   none       the gateway only forwards (no interception)
#   mailscand  mailscand on the gateway (NFQUEUE), mailscan's test signatures, POP3 with
#              pop3_hold = end (only the segment that completes a body waits)
#   mailscand+whole  the same with pop3_hold = whole, the default (POP3 only): bodies kept until their
#              scans return, then sent on by mailscand (its retransmissions counted)
#   clamsmtp   clamsmtpd as a transparent proxy on the gateway (nft redirect of port 25)
#              in front of a private clamd with the same signatures (SMTP only: no POP3
#              interceptor is packaged in Debian)
# Workloads: SMTP 100 KiB x 200 over 1 and over 4 connections, 10 MiB x 10 over 1; POP3
# 1 MiB x 50 and 20 MiB x 5 RETR over 1. Every message is unique (fresh per run: no scanner cache helps)
# and checked byte for byte in the maildir (SMTP) or against the original (POP3).
# Interceptors start fresh for each run: CPU is the interceptor processes' user + system
# time over the run (mailscand: the packet engine, scan master and scanners; clamsmtp: clamd
# + clamsmtpd), RSS MB their
# peak (VmHWM); the ratios add each side's peak PSS (smaps_rollup, sampled every 0.2 s over
# the processes and their children: shared pages counted once) and the packet engine
# alone: its own CPU per MB and its own peak RSS. Latency: from MAIL FROM (RETR) to the message's final reply. mailscand's
# own counters give "wait ms", the mean wait for a free scanner, and "held+ ms", what
# a held packet waited beyond that wait and the scan itself. "libclamav alone" is
# scanbench (2 threads, like mailscand) on the same messages, the median of three fresh
# engines; mailscand's CPU is split into its scan threads and the rest (queue thread:
# reassembly, parsing, verdicts, and the kernel's work to deliver the packets it passes).
# Rounds are interleaved (each round runs every workload in every mode); the tables give
# medians. "cand/msg" is mailscand's candidate messages (other readings of an end or a
# command, each scanned too) per message sent: ordinary mail has none.
# With BASE=REV, mailscand as REV built it runs too ("mailscand@REV", interleaved with
# the others): the packet engine's CPU per MB and peak RSS before and after, in one run.
# At each side's PSS peak, its parts: per process kind (packet engine, scan master,
# scanners; clamsmtpd, clamd), each process where a kind has several, and how much of
# it is anonymous (heaps) and shared memory (memfds, tmpfs). PSS counts a file's pages
# only where a process maps them: beside it, each side's peak memory with the files it
# keeps in memory (PSS less its mapped shared memory, plus every memfd its processes
# hold, the scanners' tmpfs, and the page cache of clamsmtpd's spool and clamd's
# temporary files), so that each side's copy of the message counts once, mapped or not.
# Usage: [WORKLOADS=...] [BASE=REV] scripts/bench-mail.sh [ROUNDS]   (default 3)
set -eu
ROUNDS=${1:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s all >/dev/null
NS_PREFIX=${NS_PREFIX:-msmail$$-}
. "$top/tests/lib.sh"
LOAD="$TOP/tests/tools/mailload.py"
RES=$WORK/results
MS_BUILD=$BUILD
if [ -n "${BASE:-}" ]; then
	mkdir -p "$WORK/base"
	git -C "$top" archive "$BASE" | tar -x -C "$WORK/base"
	make -C "$WORK/base" -s build/mailscand build/mailscanctl >/dev/null
	chmod -R a+rX "$WORK/base"
fi
INBOX=$WORK/pf/mail/inbox/new
: >"$RES"

topology_gateway
start_postfix
start_dovecot
postfix_unlimited

# the private clamd and clamsmtpd of the clamsmtp mode
mkdir -p "$WORK/clamd" "$WORK/clamsmtp"
cat >"$WORK/clamd/clamd.conf" <<CF
LocalSocket $WORK/clamd/clamd.sock
DatabaseDirectory $TOP/build/testsigs
Foreground yes
TemporaryDirectory $WORK/clamd
LogFile $WORK/clamd/clamd.log
User root
CF
cat >"$WORK/clamsmtp/clamsmtpd.conf" <<CF
OutAddress: 25
Listen: 0.0.0.0:10025
ClamAddress: $WORK/clamd/clamd.sock
TempDirectory: $WORK/clamsmtp
PidFile: $WORK/clamsmtp/clamsmtpd.pid
TransparentProxy: on
MaxConnections: 64
Header:
CF

scan_ticks() { # PIDS: what the scanner processes among them spent, and those their
	# master replaced (scanner_max_scans) and reaped
	local p t=0 c
	for p in "$@"; do
		c=$(cat "/proc/$p/comm" 2>/dev/null) || continue
		[ "$c" = ms-scanner ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
		[ "$c" = ms-master ] && t=$((t + $(awk '{print $16 + $17}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
own_ticks() { # PID: its own user + system clock ticks (no children)
	awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
tree() { # PIDS: them and their descendants (a process may be listed more than once)
	local p
	for p in "$@"; do echo "$p"; tree $(ps -o pid= --ppid "$p"); done
}
pss_kb() { # PIDS: the sum of their proportional set sizes (shared pages split)
	local p t=0
	for p in "$@"; do t=$((t + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0))); done
	echo "$t"
}
# files_kb PIDS: what the processes keep in memory as files, which PSS counts only where
# a process maps them: their memfds (each once), the scanners' private tmpfs (libclamav's
# temporary files), and the page cache of the files under FILE_DIRS (clamsmtpd's spool,
# clamd's temporary files)
FILE_DIRS=""
files_kb() {
	local p f
	{
		for p in "$@"; do
			# held or only mapped (stat: lib.sh's is a counter)
			for f in /proc/"$p"/fd/* $(awk '/ \/memfd:/ {print "/proc/'"$p"'/map_files/" $1}' "/proc/$p/maps" 2>/dev/null); do
				case $(readlink "$f" 2>/dev/null) in
				/memfd:*) command stat -L -c 'm%i %b' "$f" 2>/dev/null | awk '{print $1, $2 / 2}' ;;
				esac
			done
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = ms-scanner ] &&
				echo "r$p $(du -skx "/proc/$p/root/" 2>/dev/null | cut -f1)"
		done
		[ -n "$FILE_DIRS" ] && find $FILE_DIRS -type f -exec fincore -bn -o RES,FILE {} + 2>/dev/null |
			awk '{print "f" $2, $1 / 1024}'
	} | awk '!seen[$1]++ {t += $2} END {printf "%d\n", t}'
}
# pss_parts PIDS: "total kind=kb ... shmem=kb files=kb" over them: the PSS by process
# name (ms-master, ms-scanner, the rest by their own), how much of it is shared memory
# (Pss_Shmem: memfds and tmpfs files mapped), and the files they keep in memory
# (files_kb). Every process's PSS is read by one grep, so that the sample is one moment
# (a process read before a message's memfd goes and another after the next one came
# would count two)
pss_parts() {
	local p files rollups=()
	files=$(files_kb "$@")
	for p in "$@"; do rollups+=("/proc/$p/smaps_rollup"); done
	{
		grep -H '' "${rollups[@]/smaps_rollup/comm}" 2>/dev/null | sed 's|^/proc/\([0-9]*\)/comm:|comm \1 |'
		grep -HE '^Pss(_Shmem|_Anon)?:' "${rollups[@]}" 2>/dev/null |
			sed 's|^/proc/\([0-9]*\)/smaps_rollup:\([A-Za-z_]*\): *\([0-9]*\).*|\2 \1 \3|'
	} | awk -v files="$files" '$1 == "comm" {name[$2] = $3; next}
		$1 == "Pss" {p[$2] = $3} $1 == "Pss_Shmem" {sh += $3} $1 == "Pss_Anon" {an += $3}
		END {for (i in p) {n = (i in name) ? name[i] : "gone"; t += p[i]; k[n] += p[i]
			one[n] = one[n] (one[n] == "" ? "" : "+") p[i]}
		printf "%d", t; for (n in k) printf " %s=%d", n, k[n]; printf " anon=%d shmem=%d files=%d", an, sh, files
		for (n in one) if (one[n] ~ /\+/) printf " (%s %s)", n, one[n]; print ""}'
}
# pss_peak OUT PIDS: the largest PSS of the PIDS' process trees, sampled every 0.2 s into
# OUT (and its parts into OUT.parts) until OUT.stop exists (at most an hour); into
# OUT.mem the largest memory with the files: PSS less its shared memory, plus files_kb
# (a mapped memfd counted once, unmapped ones and spooled files too)
pss_peak() {
	local out=$1 peak=0 mpeak=0 v m i parts
	shift
	for i in $(seq 18000); do
		[ -e "$out.stop" ] && break
		parts=$(pss_parts $(tree "$@" | sort -u))
		v=${parts%% *}
		m=$(echo "$parts" | awk '{for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2) x[kv[1]] = kv[2]
			print $1 - x["shmem"] + x["files"]}')
		[ "$v" -gt "$peak" ] && peak=$v && echo "$peak" >"$out" && echo "$parts" >"$out.parts"
		[ "$m" -gt "$mpeak" ] && mpeak=$m && echo "$mpeak" >"$out.mem"
		sleep 0.2
	done
}
hwm_kb() { # PIDS: the sum of their peak resident sizes
	local p t=0
	for p in "$@"; do t=$((t + $(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo "$t"
}

IPIDS=""
up() {
	FILE_DIRS=""
	case $1 in
	none) IPIDS="" ;;
	mailscand | mailscand@*) # POP3: only the end of a body held
		start_daemon "queues = 0" "pop3_hold = end"
		IPIDS=$(daemon_pids)
		;;
	mailscand+whole) # POP3 bodies held whole until their scans return
		start_daemon "queues = 0" "pop3_hold = whole"
		IPIDS=$(daemon_pids)
		;;
	clamsmtp)
		FILE_DIRS="$WORK/clamsmtp $WORK/clamd"
		rm -f "$WORK/clamd/clamd.sock"
		bg in_g sh -c "exec clamd -c $WORK/clamd/clamd.conf >/dev/null"
		IPIDS=$!
		wait_for test -S "$WORK/clamd/clamd.sock" || fail "clamd: $(tail -3 "$WORK/clamd/clamd.log")"
		bg in_g sh -c "exec clamsmtpd -d 0 -f $WORK/clamsmtp/clamsmtpd.conf 2>>$WORK/clamsmtp/log"
		IPIDS="$IPIDS $!"
		await "clamsmtpd" listening "$NS_G" 10025
		in_g nft -f - <<'NFT' || fail "nft redirect"
table ip clamsmtp {
	chain prerouting {
		type nat hook prerouting priority dstnat;
		tcp dport 25 redirect to :10025
	}
}
NFT
		;;
	esac
}
down() {
	local p
	case $1 in
	mailscand | mailscand@* | mailscand+whole) stop_daemon ;;
	clamsmtp)
		in_g nft delete table ip clamsmtp
		for p in $IPIDS; do kill "$p"; done
		for p in $IPIDS; do wait "$p" 2>/dev/null || true; done
		;;
	esac
}

# hold time, holds, scan time, scans, scan-thread wait (microseconds and counts)
mailscand_times() {
	ctl stats | awk -F= '{ v[$1] = $2 } END { print v["hold_time_us_total"], v["holds_total"],
		v["scan_time_us_total"], v["scans"], v["scan_wait_us_total"] }'
}

# the candidates mailscand scanned so far, for PROTO
candidates() {
	ctl stats | awk -F= -v k="$1_candidates" '$1 == k { print $2 }'
}

# run ROUND NAME PROTO COUNT SIZE CONNS MODE: one measured run, a line in $RES
run() {
	local round=$1 name=$2 proto=$3 count=$4 size=$5 conns=$6 mode=$7
	local dir=$WORK/msg.$name.$mode.$round out c0 c1 k0 t0 hs="- -" scpu=- rss cpu check
	local n0 cand=- e0 e1 erss=- ecpu=- pss=- mem=- spid ms=0 BUILD=$MS_BUILD
	# mailscand@REV: the same, from REV's build
	case $mode in mailscand | mailscand+whole) ms=1 ;; mailscand@*) ms=1 BUILD=$WORK/base/build ;; esac
	rm -rf "$WORK"/msg.*
	"$PY" "$LOAD" make "$dir" "$count" "$size" "$name.$mode.$round"
	if [ "$proto" = pop3 ]; then
		rm -f "$WORK/dc/home/alice/Maildir/cur/"* "$WORK/dc/home/alice/Maildir/new/"*
		seed_mailbox "$dir"/*.eml
	fi
	find "$INBOX" -type f -delete 2>/dev/null || true
	up "$mode"
	c0=$(cpu_ticks $IPIDS)
	rm -f "$WORK/pss" "$WORK/pss.mem" "$WORK/pss.stop"
	if [ -n "$IPIDS" ]; then
		pss_peak "$WORK/pss" $IPIDS &
		spid=$!
	fi
	[ $ms = 1 ] && e0=$(own_ticks "$DAEMON_PID")
	[ $ms = 1 ] && k0=$(mailscand_times) && t0=$(scan_ticks $IPIDS) &&
		n0=$(candidates "$proto")
	if [ "$proto" = smtp ]; then
		out=$(in_c "$PY" "$LOAD" smtp $S4 25 "$conns" "$dir")
		wait_for sh -c "[ \$(find '$INBOX' -type f | wc -l) -ge $count ]" ||
			fail "$name/$mode: $(find "$INBOX" -type f | wc -l) of $count delivered"
		sleep 0.5 # nothing more arrives
		check=$("$PY" "$LOAD" verify "$dir" "$INBOX") ||
			fail "$name/$mode: not delivered byte-identical: $check"
	else
		out=$(in_c "$PY" "$LOAD" pop3 $S4 110 "$dir")
	fi
	case $out in *" failed=0 "*) ;; *) fail "$name/$mode: $out" ;; esac
	# the processes now: scanners replaced during the run are new ones
	[ $ms = 1 ] && IPIDS=$(daemon_pids)
	c1=$(cpu_ticks $IPIDS)
	rss=$(hwm_kb $IPIDS)
	if [ -n "$IPIDS" ]; then
		touch "$WORK/pss.stop"
		wait "$spid" || true
		pss=$(cat "$WORK/pss" 2>/dev/null || echo 0)
		mem=$(cat "$WORK/pss.mem" 2>/dev/null || echo 0)
		echo "$name $mode $round $(cat "$WORK/pss.parts" 2>/dev/null)" >>"$RES.parts"
	fi
	if [ $ms = 1 ]; then
		# the packet engine alone: its own CPU and peak resident size
		e1=$(own_ticks "$DAEMON_PID")
		ecpu=$(echo "$e0 $e1" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($2 - $1) / hz}')
		erss=$(hwm_kb "$DAEMON_PID")
	fi
	if [ $ms = 1 ]; then
		# per message: the mean wait for a scan thread, and what a held packet waited
		# beyond that wait and the scan itself
		hs=$(echo "$k0 $(mailscand_times)" | awk '{ n = $7 - $2; m = $9 - $4;
			w = m ? ($10 - $5) / m : 0; s = m ? ($8 - $3) / m : 0; h = n ? ($6 - $1) / n : 0
			printf "%.2f %.2f", w / 1000, (h - w - s) / 1000 }')
		scpu=$(echo "$t0 $(scan_ticks $IPIDS)" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($2 - $1) / hz}')
		cand=$(echo "$n0 $(candidates "$proto")" | awk -v n="$count" '{printf "%.3f", ($2 - $1) / n}')
	fi
	# segments mailscand sent again to a POP3 client (pop3_hold = whole)
	[ $ms = 1 ] && out="$out rexmit=$(stat pop3_retransmits)"
	down "$mode"
	cpu=$(echo "$c0 $c1" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($2 - $1) / hz}')
	# name mode round wall msgs bytes p50 p95 cpu rss_kb wait_ms beyond_ms scan_cpu cand/msg
	# engine_cpu engine_rss_kb pss_kb mem_kb
	echo "$out" | sed 's/[a-z0-9]*=//g' |
		awk -v n="$name" -v m="$mode" -v r="$round" -v cpu="$cpu" -v rss="$rss" -v hs="$hs" \
			-v sc="$scpu" -v c="$cand" -v ec="$ecpu" -v er="$erss" -v ps="$pss" -v mem="$mem" \
			'{print n, m, r, $4, $1, $3, $5, $6, cpu, rss, hs, sc, c, ec, er, ps, mem}' >>"$RES"
	# libclamav alone on the same messages (2 threads, as mailscand): three fresh
	# engines, so that no cache helps; the median
	if [ "$mode" = mailscand ]; then
		for i in 1 2 3; do
			"$BUILD/tools/scanbench" -f "$TOP/build/testsigs" 2 "$dir"/*.eml 2>/dev/null
		done | sed -n 's/.*cpu=\([0-9.]*\).*/\1/p' | sort -n | sed -n 2p |
			awk -v n="$name" -v r="$round" -v b="$(cat "$dir"/*.eml | wc -c)" \
				'{print n, "libclamav", r, 0, 0, b, 0, 0, $1, 0, "-", "-", "-", "-", "-", "-", "-", "-"}' >>"$RES"
	fi
	[ $ms = 1 ] && out="$out cand/msg=$cand"
	echo "  $name $mode round $round: $out" >&2
}

# WORKLOADS (NAME:PROTO:COUNT:SIZE:CONNS ...) in the environment runs only those
WORKLOADS=${WORKLOADS:-"smtp-100k-1:smtp:200:102400:1 smtp-100k-4:smtp:200:102400:4
smtp-10m-1:smtp:10:10485760:1 pop3-1m-1:pop3:50:1048576:1 pop3-20m-1:pop3:5:20971520:1"}
for r in $(seq "$ROUNDS"); do
	for w in $WORKLOADS; do
		IFS=: read -r name proto count size conns <<<"$w"
		modes="none mailscand ${BASE:+mailscand@$BASE} clamsmtp"
		[ "$proto" = pop3 ] && modes="none mailscand mailscand+whole ${BASE:+mailscand@$BASE}"
		for m in $modes; do run "$r" "$name" "$proto" "$count" "$size" "$conns" "$m"; done
	done
done

# medians per workload and mode
awk '
function median(k,   n, i, j, t, a) {
	n = split(vals[k], a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((n + 1) / 2)]
}
{
	k = $1 SUBSEP $2
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	for (f = 4; f <= 18; f++) vals[k, f] = vals[k, f] " " $f
}
END {
	printf "%-12s %-16s %7s %7s %6s %7s %7s %9s %7s %8s %8s %8s\n", "workload", "path", "wall s",
		"msgs/s", "MB/s", "p50 ms", "p95 ms", "CPU s/MB", "RSS MB", "wait ms", "held+ ms",
		"cand/msg"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		for (f = 4; f <= 18; f++) { vals[k] = vals[k, f]; m[f] = median(k) }
		if (kk[2] == "libclamav") { lib[kk[1]] = m[9] / (m[6] / 1e6); continue }
		mb = m[6] / 1e6
		wall[k] = m[4]; cpumb[k] = m[9] / mb; scanmb[k] = m[13] / mb; pss[k] = m[17]; mem[k] = m[18]
		if (kk[2] == "mailscand") {
			engine[kk[1]] = sprintf("engine alone: CPU %.4f s/MB, peak RSS %.1f MB", m[15] / mb, m[16] / 1024)
			ecpu[kk[1]] = m[15] / mb; erss[kk[1]] = m[16]
		}
		if (kk[2] ~ /^mailscand@/) {
			base[kk[1]] = sprintf("engine alone, %s: CPU %.4f s/MB, peak RSS %.1f MB", kk[2], m[15] / mb, m[16] / 1024)
			bcpu[kk[1]] = m[15] / mb; brss[kk[1]] = m[16]
		}
		printf "%-12s %-16s %7.2f %7.1f %6.1f %7.1f %7.1f %9s %7s %8s %8s %8s\n", kk[1], kk[2], m[4],
			m[5] / m[4], mb / m[4], m[7] * 1000, m[8] * 1000,
			kk[2] == "none" ? "-" : sprintf("%.4f", m[9] / mb),
			kk[2] == "none" ? "-" : sprintf("%.1f", m[10] / 1024), m[11], m[12], m[14]
		names[kk[1]] = 1
	}
	print ""
	print "ratios (wall time; CPU per scanned MB):"
	for (i = 1; i <= nk; i++) {
		k = order[i]; split(k, kk, SUBSEP)
		if (kk[2] == "mailscand+whole") {
			printf "  %-12s mailscand+whole/none %.2f  mailscand+whole/mailscand %.2f\n", kk[1],
				wall[k] / wall[kk[1] SUBSEP "none"], wall[k] / wall[kk[1] SUBSEP "mailscand"]
			continue
		}
		if (kk[2] != "mailscand") continue
		n = kk[1]; none = wall[n SUBSEP "none"]; cs = n SUBSEP "clamsmtp"
		line = sprintf("  %-12s mailscand/none %.2f", n, wall[k] / none)
		if (cs in wall)
			line = line sprintf("  clamsmtp/none %.2f  mailscand/clamsmtp %.2f  CPU mailscand/clamsmtp %.2f",
				wall[cs] / none, wall[k] / wall[cs], cpumb[k] / cpumb[cs])
		if (cs in pss && pss[cs] > 0)
			line = line sprintf("\n  %-12s PSS peak MB mailscand %.1f clamsmtp+clamd %.1f, mailscand/clamsmtp %.2f",
				"", pss[k] / 1024, pss[cs] / 1024, pss[k] / pss[cs]) \
				sprintf("\n  %-12s with the files kept in memory MB mailscand %.1f clamsmtp+clamd %.1f, mailscand/clamsmtp %.2f",
				"", mem[k] / 1024, mem[cs] / 1024, mem[cs] ? mem[k] / mem[cs] : 0)
		line = line sprintf("\n  %-12s %s", "", engine[n])
		if (n in base)
			line = line sprintf("\n  %-12s %s\n  %-12s engine now/before: CPU per MB %.2f, peak RSS %.2f", "", base[n], "",
				bcpu[n] ? ecpu[n] / bcpu[n] : 0, brss[n] ? erss[n] / brss[n] : 0)
		if (n in lib)
			line = line sprintf("\n  %-12s CPU per MB mailscand/libclamav-alone %.2f (scan threads %.2f, the rest %.2f)",
				"", cpumb[k] / lib[n], scanmb[k] / lib[n], (cpumb[k] - scanmb[k]) / lib[n])
		print line
	}
}' "$RES"
echo
echo "PSS at each run's peak, MB (by process name; anon: heaps and stacks, shmem: memfds and tmpfs files mapped, within the total; in brackets each process of a name, kB):"
awk '{ printf "  %-12s %-22s round %s: total %.1f", $1, $2, $3, $4 / 1024
	for (i = 5; i <= NF; i++) {
		if ($i ~ /^\(/) { printf "  %s", $i; continue }
		if ($i ~ /\)$/) { printf " %s", $i; continue }
		split($i, kv, "="); printf "  %s %.1f", kv[1], kv[2] / 1024
	}
	print "" }' "$RES.parts" 2>/dev/null
echo "(medians of $ROUNDS interleaved rounds; $(nproc) cores; $(uname -r))"
