#!/bin/bash
# Who runs what: after start the packet engine runs as the unprivileged user with exactly
# CAP_NET_ADMIN and CAP_NET_RAW (every thread, nothing in the bounding set), the scan
# master and the scanner processes as that user with no capability, both under seccomp
# with no_new_privs and not dumpable (their /proc files are root's), the scanners with
# their resource limits; every way out the probe tries from a scanner is refused, seen
# in a real 554 and in the log with each errno, and the master's own probe too. With those
# privileges the engine still passes clean mail, rejects infected mail (RST and 554
# injected), offloads STARTTLS, takes a port added live, writes the quarantine and
# reloads signatures.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix 25 10025
start_daemon "queues = 0" "workers = 2" "test_sandbox = MAILSCAN-PROBE-TRIGGER"
await_stat scanner_processes 2 "two scanner processes"
uid=$(id -u mailscan)

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
engine=$DAEMON_PID
expect_eq "engine user" "$(ps -o user= -p "$engine")" mailscan
expect_eq "engine uids" "$(field "$engine" Uid)" "$uid	$uid	$uid	$uid"
for t in /proc/"$engine"/task/*; do
	t=${t##*/}
	[ "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$engine/task/$t/status")" = 0000000000003000 ] ||
		fail "thread $t of the engine: CapEff $(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$engine/task/$t/status")"
done
ok "every engine thread: CapEff 0000000000003000 (net_admin, net_raw)"
expect_eq "engine CapPrm" "$(field "$engine" CapPrm)" 0000000000003000
expect_eq "engine CapInh" "$(field "$engine" CapInh)" 0000000000000000
expect_eq "engine CapAmb" "$(field "$engine" CapAmb)" 0000000000000000
expect_eq "engine CapBnd" "$(field "$engine" CapBnd)" 0000000000000000

master=$(ctl status | sed -n 's/^scan_master=//p')
expect_eq "master's name" "$(ps -o comm= -p "$master")" ms-master
scanners=$(pgrep -P "$master" -x ms-scanner)
expect_eq "scanner processes" "$(echo "$scanners" | wc -w)" 2
expect_eq "master user" "$(ps -o user= -p "$master")" mailscan
expect_eq "master CapEff" "$(field "$master" CapEff)" 0000000000000000
expect_eq "master CapPrm" "$(field "$master" CapPrm)" 0000000000000000
expect_eq "master seccomp (2 = filter)" "$(field "$master" Seccomp)" 2
expect_eq "master no_new_privs" "$(field "$master" NoNewPrivs)" 1
for p in $master $scanners; do
	for f in mem status maps fd environ; do
		expect_eq "/proc/$p/$f owner (not dumpable)" "$(command stat -c %U "/proc/$p/$f")" root
	done
done
limit() { awk -v n="$2" 'index($0, n) == 1 {print $(NF - 2)}' "/proc/$1/limits"; }
for p in $scanners; do
	expect_eq "scanner $p processes limit" "$(limit "$p" "Max processes")" 0
	expect_eq "scanner $p core limit" "$(limit "$p" "Max core file size")" 0
	expect_eq "scanner $p open files limit" "$(limit "$p" "Max open files")" 128
	[ "$(limit "$p" "Max address space")" != unlimited ] || fail "scanner $p: address space unlimited"
	[ "$(limit "$p" "Max file size")" != unlimited ] || fail "scanner $p: file size unlimited"
	# its own mount namespace, a tmpfs as its whole tree
	[ "$(readlink "/proc/$p/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || fail "scanner $p: host mount namespace"
	expect_eq "scanner $p root: its tmpfs" "$(sed -n 's|^[^ ]* [^ ]* [^ ]* [^ ]* / .* - \([^ ]*\) .*|\1|p' "/proc/$p/mountinfo")" tmpfs
	expect_eq "scanner $p mounts" "$(wc -l <"/proc/$p/mountinfo")" 1
done
ok "master and scanners not dumpable, bounded, the scanners in their own tmpfs"
for p in $scanners; do
	expect_eq "scanner $p user" "$(ps -o user= -p "$p")" mailscan
	expect_eq "scanner $p CapEff" "$(field "$p" CapEff)" 0000000000000000
	expect_eq "scanner $p CapPrm" "$(field "$p" CapPrm)" 0000000000000000
	expect_eq "scanner $p seccomp (2 = filter)" "$(field "$p" Seccomp)" 2
	expect_eq "scanner $p no_new_privs" "$(field "$p" NoNewPrivs)" 1
	# nothing but its socket to the engine and stdio
	n=$(ls "/proc/$p/fd" | wc -l)
	[ "$n" -le 4 ] || fail "scanner $p holds $n descriptors: $(ls -l /proc/$p/fd)"
done
st=$(ctl status)
echo "$st" | grep -qx "user=mailscan" || fail "status: user"
echo "$st" | grep -qx "scan_master=$master" || fail "status: master"
expect_eq "status: scanners" "$(echo "$st" | sed -n 's/^scanners=//p' | tr ',' '\n' | sort | xargs)" "$(echo $scanners | tr ' ' '\n' | sort | xargs)"
ok "master and scanners: user mailscan, no capability; scanners under seccomp"

# a scanner tries every way out on a message with the probe: all refused
out=$(in_c "$PY" "$TOP/tests/tools/mixsend.py" send $S4 25 1 "$WORK/probe" probe:1)
grep -q "refused 554 .*Mailscan.Test.Sandbox.refused-18-of-18" "$WORK/probe/results" ||
	fail "sandbox probe: $(cat "$WORK/probe/results")"
probe=$(grep -o "sandbox probe: scanner .*" "$WORK/mailscand.log" | tail -1)
for want in socket=EPERM connect=EPERM execve=EPERM fork=EPERM ptrace=EPERM \
	prlimit64-engine=EPERM kill-engine=EPERM fcntl-F_SETOWN=EPERM fcntl-F_SETSIG=EPERM \
	open-master-mem=ENOENT open-engine-mem=ENOENT open-quarantine=ENOENT \
	open-control-socket=ENOENT open-etc-passwd=ENOENT mprotect-PROT_EXEC=EPERM \
	memfd-write=EPERM memfd-mmap-shared=EPERM memfd-truncate=EPERM; do
	echo "$probe" | grep -qw -- "$want" || fail "scanner probe: no $want in: $probe"
done
ok "in a scanner: $probe"
# the master's own probe, run once it was confined (it forks and opens files by design)
mprobe=$(grep -o "sandbox probe: scan master .*" "$WORK/mailscand.log" | tail -1)
for want in socket=EPERM connect=EPERM execve=EPERM ptrace=EPERM prlimit64-engine=EPERM \
	kill-engine=EPERM fcntl-F_SETOWN=EPERM fcntl-F_SETSIG=EPERM mprotect-PROT_EXEC=EPERM; do
	echo "$mprobe" | grep -qw -- "$want" || fail "master probe: no $want in: $mprobe"
done
echo "$mprobe" | grep -q ALLOWED && fail "master probe: $mprobe"
ok "in the master: $mprobe"

# the engine's work with its two capabilities left
for k in clean eicar; do make_mail $k; done
expect_eq "clean mail" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
case "$(smtp_send $S4 25 eicar smtplib)" in
554*Virus*) ok "infected mail rejected: RST to the server, 554 injected" ;;
*) fail "eicar" ;;
esac
postfix_settle
was_delivered clean || fail "clean mail not delivered intact"
was_delivered eicar && fail "eicar stored"
expect_eq "injected packets" "$([ "$(stat injected_packets)" -ge 2 ] && echo yes)" yes
expect_eq "quarantined (written as mailscan)" "$(stat quarantined)" 2
q=$(ls "$WORK/quarantine"/*.eml | head -1)
expect_eq "quarantine file owner" "$(command stat -c %U "$q")" mailscan
expect_eq "STARTTLS session delivers" "$(smtp_send $S4 25 clean starttls)" "250 sent"
[ "$(stat flows_offloaded)" -ge 1 ] || fail "the TLS flow was not offloaded (conntrack mark)"
ok "STARTTLS flow offloaded"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add smtp 10025 >/dev/null || fail "ports add"
case "$(smtp_send $S4 10025 eicar smtplib)" in
554*) ok "a port added live is scanned" ;;
*) fail "10025" ;;
esac
out=$(ctl reload) || fail "reload as the unprivileged engine: $out"
expect_eq "reloads" "$(stat reloads_ok)" 1
wait_for gone "$master" || fail "the old master did not exit"
ok "reload: a new master, the old one gone"
