# Shared helpers for the integration tests and the demo (sourced, POSIX sh + bash).
# Topology: client (10.89.1.2, fd89:1::2) -- gateway (10.89.1.1 | 10.89.2.1) -- server
# (10.89.2.2, fd89:2::2). Every namespace name carries this run's prefix and is deleted
# on exit.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
PY=/usr/bin/python3
NS_PREFIX=${NS_PREFIX:-ms$$-} # the dash: no other run's prefix starts with this one
NS_C=${NS_PREFIX}c
NS_G=${NS_PREFIX}g
NS_S=${NS_PREFIX}s
NS_X=${NS_PREFIX}x # a scanner host beside the gateway (remote scanners)
X4=10.89.3.2 G4X=10.89.3.1
C4=10.89.1.2 G4C=10.89.1.1 G4S=10.89.2.1 S4=10.89.2.2
C6=fd89:1::2 G6C=fd89:1::1 G6S=fd89:2::1 S6=fd89:2::2
WORK=${WORK:-$(mktemp -d /tmp/mailscan-test.XXXXXX)}
chmod 755 "$WORK" # mail servers run as their own users
PIDS=""

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok - $*"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	ok "$1"
}

cleanup() {
	local p ns rc=$?
	set +e
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	# a sanitizer build of the daemon reports memory errors and leaks in its log
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/mailscand.log" 2>/dev/null; then
		echo "FAIL: sanitizer report from mailscand:" >&2
		grep -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$WORK/mailscand.log" >&2
		rc=1
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NS_PREFIX}"); do
		# processes outlive their namespace's name: end them first
		p=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$p" ] && kill $p 2>/dev/null && sleep 0.2 && kill -9 $p 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf /etc/netns/"${NS_PREFIX}"*
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# bg [in_c|in_g|in_s] CMD...: start in the background, ended at exit; $! is CMD itself
bg() {
	case $1 in
	in_c) shift && set -- ip netns exec "$NS_C" "$@" ;;
	in_g) shift && set -- ip netns exec "$NS_G" "$@" ;;
	in_s) shift && set -- ip netns exec "$NS_S" "$@" ;;
	in_x) shift && set -- ip netns exec "$NS_X" "$@" ;;
	esac
	"$@" &
	PIDS="$PIDS $!"
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_g() { ip netns exec "$NS_G" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }
in_x() { ip netns exec "$NS_X" "$@"; }

# veth pair with GRO on, so the queue sees aggregated (GSO) packets
link() { # link NS_A IF_A NS_B IF_B
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
	ip netns exec "$1" ethtool -K "$2" gro on >/dev/null 2>&1 || true
	ip netns exec "$3" ethtool -K "$4" gro on >/dev/null 2>&1 || true
}

# netns_add NS: a test host whose programs depend on nothing of this machine's network
# configuration: ip netns exec mounts /etc/netns/NS/* over /etc, so this machine's own
# name and the test hosts resolve from the host file, and a name lookup that is not
# there fails at once (no name server listens on the namespace's loopback) instead of
# waiting for the system's resolver, which no test host can reach
netns_add() {
	local d=/etc/netns/$1
	mkdir -p "$d"
	cat >"$d/hosts" <<HOSTS
127.0.0.1	localhost
127.0.1.1	$(hostname)
::1	localhost ip6-localhost ip6-loopback
$C4	client.example.org
$C6	client.example.org
$S4	mx.example.org pop.example.org
$S6	mx.example.org pop.example.org
$X4	scanner.example.org
HOSTS
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
	ip netns add "$1"
}

topology_gateway() {
	netns_add "$NS_C"
	netns_add "$NS_G"
	netns_add "$NS_S"
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		ip -n "$ns" link set lo up
	done
	link "$NS_C" eth0 "$NS_G" c0
	link "$NS_S" eth0 "$NS_G" s0
	ip -n "$NS_C" addr add $C4/24 dev eth0
	ip -n "$NS_C" addr add $C6/64 dev eth0 nodad
	ip -n "$NS_G" addr add $G4C/24 dev c0
	ip -n "$NS_G" addr add $G6C/64 dev c0 nodad
	ip -n "$NS_G" addr add $G4S/24 dev s0
	ip -n "$NS_G" addr add $G6S/64 dev s0 nodad
	ip -n "$NS_S" addr add $S4/24 dev eth0
	ip -n "$NS_S" addr add $S6/64 dev eth0 nodad
	ip -n "$NS_C" route add default via $G4C
	ip -n "$NS_C" -6 route add default via $G6C
	ip -n "$NS_S" route add default via $G4S
	ip -n "$NS_S" -6 route add default via $G6S
	in_g sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# A private configuration under $WORK; extra `key = value` lines as arguments.
# topology_scanner: the scanner host $X4 on its own link from the gateway
topology_scanner() {
	netns_add "$NS_X"
	ip -n "$NS_X" link set lo up
	link "$NS_X" eth0 "$NS_G" x0
	ip -n "$NS_G" addr add $G4X/24 dev x0
	ip -n "$NS_X" addr add $X4/24 dev eth0
	ip -n "$NS_X" route add default via $G4X
}

# start_clamd NAME PORT [LINE...]: a private clamd on the scanner host with the test
# signatures, on the unix socket $WORK/NAME/clamd.sock and on $X4:PORT, with LINEs added
# to its configuration; its pid in CLAMD_NAME
start_clamd() {
	local name=$1 port=$2 d=$WORK/$1 l
	shift 2
	mkdir -p "$d"
	chmod 755 "$d"
	{
		echo "LocalSocket $d/clamd.sock"
		echo "LocalSocketMode 666"
		echo "TCPSocket $port"
		echo "TCPAddr $X4"
		echo "DatabaseDirectory $(testsigs)"
		echo "Foreground yes"
		echo "TemporaryDirectory $d"
		echo "LogFile $d/clamd.log"
		echo "User root"
		for l in "$@"; do echo "$l"; done
	} >"$d/clamd.conf"
	rm -f "$d/clamd.sock"
	bg in_x sh -c "exec clamd -c '$d/clamd.conf' >/dev/null 2>&1"
	eval "CLAMD_$name=\$!"
	wait_for test -S "$d/clamd.sock" || fail "clamd $name: no socket: $(tail -3 "$d/clamd.log")"
	await "clamd $name on $X4:$port" listening "$NS_X" "$port"
}

# start_icap CLAMD: c-icap on $X4:1344 with its virus_scan service (avscan) scanning
# through the private clamd CLAMD; its pid in ICAP_PID
start_icap() {
	local d=$WORK/icap
	mkdir -p "$d"
	cat >"$d/c-icap.conf" <<CF
PidFile $d/c-icap.pid
CommandsSocket $d/c-icap.ctl
Timeout 60
StartServers 1
MaxServers 2
MinSpareThreads 2
MaxSpareThreads 10
ThreadsPerChild 10
Port $X4:1344
TmpDir $d
MaxMemObject 1048576
DebugLevel 1
ModulesDir /usr/lib/x86_64-linux-gnu/c_icap
ServicesDir /usr/lib/x86_64-linux-gnu/c_icap
TemplateDir /usr/share/c_icap/templates/
LoadMagicFile /etc/c-icap/c-icap.magic
ServerLog $d/server.log
AccessLog $d/access.log
Module common clamd_mod.so
clamd_mod.ClamdSocket $WORK/$1/clamd.sock
Service antivirus_module virus_scan.so
ServiceAlias avscan virus_scan?allow204=on&sizelimit=off&mode=simple
virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE
virus_scan.DefaultEngine clamd
virus_scan.MaxObjectSize 50M
CF
	bg in_x c-icap -N -f "$d/c-icap.conf"
	ICAP_PID=$!
	wait_for listening "$NS_X" 1344 || fail "c-icap not on $X4:1344: $(tail -5 "$d/server.log")"
}

# the test signatures where the daemon's unprivileged user can read them
testsigs() {
	[ -d "$WORK/testsigs" ] || cp -r "$TOP/build/testsigs" "$WORK/testsigs"
	echo "$WORK/testsigs"
}

# db_without_eicar: a signature directory of the test's own, $DB, with the test
# signatures but EICAR's (for tests that add it as an update)
db_without_eicar() {
	DB=$WORK/db
	mkdir -p "$DB"
	cp "$TOP/build/testsigs/mailscan-test.hdb" "$TOP/build/testsigs/MAILSCAN-TEST-SIGNATURES" "$DB/"
}

write_config() {
	CONF=$WORK/mailscan.conf
	{
		echo "ports_file = $WORK/ports"
		echo "control_socket = $WORK/control.sock"
		echo "quarantine = $WORK/quarantine"
		echo "tmpdir = $WORK/tmp"
		echo "database = $(testsigs)"
		echo "test_signatures = yes"
		# CONF_EXTRA: lines for every daemon of a run (a test's own lines come after)
		[ -n "${CONF_EXTRA:-}" ] && printf '%s\n' "$CONF_EXTRA"
		for l in "$@"; do echo "$l"; done
	} >"$CONF"
}

ctl() { "$BUILD/mailscanctl" -c "$CONF" "$@"; }

# conf_get KEY: the value $CONF gives KEY (its last line, as the daemon reads it);
# empty when the file leaves KEY at its default
conf_get() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([^#]*[^#[:space:]]\).*/\1/p" "$CONF" |
		tail -n 1
}

# pop3_default_action: what an infected POP3 body gets under $CONF: its pop3_action, or
# when it sets none, replace with pop3_hold = whole (the default) and reset with end
pop3_default_action() {
	local a
	a=$(conf_get pop3_action)
	[ -n "$a" ] || case $(conf_get pop3_hold) in end) a=reset ;; *) a=replace ;; esac
	echo "$a"
}

# postfix_unlimited: no connection rate or process limit gets in the way of a load
postfix_unlimited() {
	in_s postconf -c "$WORK/pf/etc" -e smtpd_client_connection_rate_limit=0 \
		default_process_limit=100 >/dev/null
	in_s postfix -c "$WORK/pf/etc" reload >/dev/null 2>&1
}

# cpu_ticks PIDS: their user + system clock ticks, with those of the children they
# reaped (a scan master's replaced scanners); a process gone meanwhile counts through
# its parent's
cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat" 2>/dev/null) || continue
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# scanners_up: every local scanner process is forked (true without a local scanner)
scanners_up() {
	local st max
	st=$(ctl status) || return 1
	max=$(echo "$st" | sed -n 's/^scanner=local .* max=\([0-9]*\) .*/\1/p')
	[ -z "$max" ] || [ "$(echo "$st" | sed -n 's/^scanners=//p' | tr ',' '\n' | grep -c .)" = "$max" ]
}

# daemon_pids: the packet engine, its scan master and its scanner processes
daemon_pids() {
	local st
	await "every scanner process forked" scanners_up
	st=$(ctl status)
	echo "$DAEMON_PID $(echo "$st" | sed -n 's/^scan_master=//p' | grep -v '^0$') $(echo "$st" | sed -n 's/^scanners=//p' | tr ',' ' ')"
}

# gone PID: the process has exited (a zombie waiting for init counts as gone)
gone() { [ ! -e "/proc/$1" ] || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# DEADLINE: how long, in seconds, a test waits for an event before it fails. Generous, so
# that a slow machine passes what a fast one does; a wait ends as soon as its event is
# seen, and a wait that fails says what it saw.
export DEADLINE=${DEADLINE:-60} # the test tools (tests/tools/*.py) read it too

# await WHAT COMMAND...: waits until COMMAND succeeds; past DEADLINE fails, naming WHAT
# and what COMMAND printed the last time
await() {
	local what=$1 end=$((SECONDS + DEADLINE)) out
	shift
	until out=$("$@" 2>&1); do
		[ "$SECONDS" -lt "$end" ] ||
			fail "$what: not seen within $DEADLINE s; last seen: $(echo "${out:-nothing}" | tail -n 3 | tr '\n' ' ')"
		sleep 0.1
	done
}

# wait_for COMMAND...: as await, but returns 1 past DEADLINE (for a caller that says
# what it waited for)
wait_for() {
	local end=$((SECONDS + DEADLINE))
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# stat_is NAME WANT: the counter NAME reads WANT (prints NAME=value, for await)
stat_is() {
	local v
	v=$(stat "$1")
	echo "$1=$v"
	[ "$v" = "$2" ]
}
# stat_ge NAME MIN: the counter NAME reads at least MIN
stat_ge() {
	local v
	v=$(stat "$1")
	echo "$1=$v"
	[ "${v:-0}" -ge "$2" ]
}
# await_stat NAME WANT [WHAT]: waits until the counter NAME reads WANT
await_stat() {
	await "${3:-counter $1 = $2}" stat_is "$1" "$2"
	ok "$1 = $2"
}
# listening NS PORT: something listens on PORT in NS (prints the listeners)
listening() {
	ip netns exec "$1" ss -Hltn "( sport = :$2 )" | grep .
}

# nft named counter packets, read in namespace NS
nft_counter() { # NS NAME
	ip netns exec "$1" nft list counter inet mailscan "$2" 2>/dev/null |
		awk '/packets/ {print $2}'
}

# nft in namespace NS; its stderr is dropped (nft cannot print xt targets in inet
# tables and complains about each one)
nft_in() { # NS ARGS...
	local ns=$1
	shift
	ip netns exec "$ns" nft "$@" 2>/dev/null
}

# Does this kernel accept the native nft queue statement? Probed in a scratch namespace.
kernel_has_nft_queue() {
	local ns=${NS_PREFIX}probe r
	ip netns add "$ns"
	ip netns exec "$ns" nft add table inet probe &&
		ip netns exec "$ns" nft add chain inet probe c &&
		ip netns exec "$ns" nft add rule inet probe c queue num 0 bypass 2>/dev/null
	r=$?
	ip netns del "$ns"
	return $r
}

# syslog_listener SOCKET OUT: a datagram listener on SOCKET (mode 666, as /dev/log) that
# appends each line it gets to OUT
syslog_listener() {
	bg "$PY" -c "
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('$1')
os.chmod('$1', 0o666)
with open('$2', 'ab', buffering=0) as f:
    while True:
        f.write(s.recv(4096) + b'\n')
"
	await "syslog listener on $1 (mode 666)" sh -c "stat -c %a '$1' && [ \"\$(stat -c %a '$1')\" = 666 ]"
}

# check_config: `mailscanctl check` passes on the configuration a test starts with
check_config() {
	local out
	out=$("$BUILD/mailscanctl" check -c "$CONF" 2>&1) || fail "mailscanctl check: $out"
}

# start_daemon [EXTRA CONFIG LINES...]: config, rules (gateway) and mailscand in the
# gateway namespace; waits until it answers. DAEMON_PID is the daemon.
start_daemon() {
	[ $# -gt 0 ] && write_config "$@"
	check_config
	in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "rules install"
	bg in_g "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
	DAEMON_PID=$!
	wait_for ctl status || { cat "$WORK/mailscand.log"; fail "mailscand did not answer"; }
}

# stat NAME: one counter from `mailscanctl stats`
stat() { ctl stats | sed -n "s/^$1=//p"; }

xfer_server() { bg in_s "$PY" "$TOP/tests/tools/xfer.py" server "$1"; await "xfer server on $1" listening "$NS_S" "$1"; }
xfer_client() { in_c "$PY" "$TOP/tests/tools/xfer.py" client "$@"; }

# postfix_instance DIR NS [PORT...]: a private postfix under DIR, started in NS (in_c or
# in_s) with the main.cf lines read from standard input, and an smtpd on each extra PORT.
# Hermetic: its own master.cf with nothing chrooted (a chroot has none of /etc), no DNS
# (no client name lookup, no MX lookup), no system alias or NIS map, no name of this
# machine: it reads nothing that a fresh system lacks.
postfix_instance() {
	local d=$1 ns=$2 port s
	shift 2
	mkdir -p "$d/etc" "$d/queue" "$d/data"
	{
		for s in "smtp inet n - n - - smtpd" "pickup unix n - n 60 1 pickup" \
			"cleanup unix n - n - 0 cleanup" "qmgr unix n - n 300 1 qmgr" \
			"tlsmgr unix - - n 1000? 1 tlsmgr" "rewrite unix - - n - - trivial-rewrite" \
			"bounce unix - - n - 0 bounce" "defer unix - - n - 0 bounce" \
			"trace unix - - n - 0 bounce" "verify unix - - n - 1 verify" \
			"flush unix n - n 1000? 0 flush" "proxymap unix - - n - - proxymap" \
			"proxywrite unix - - n - 1 proxymap" "smtp unix - - n - - smtp" \
			"relay unix - - n - - smtp" "showq unix n - n - - showq" \
			"error unix - - n - - error" "retry unix - - n - - error" \
			"discard unix - - n - - discard" "local unix - n n - - local" \
			"virtual unix - n n - - virtual" "anvil unix - - n - 1 anvil" \
			"scache unix - - n - 1 scache" "postlog unix-dgram n - n - 1 postlogd"; do
			echo "$s"
		done
		for port in "$@"; do echo "$port inet n - n - - smtpd"; done
	} >"$d/etc/master.cf"
	{
		cat <<CF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
maillog_file = $d/maillog
maillog_file_prefixes = /
smtputf8_enable = no
mydestination =
alias_maps =
alias_database =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
biff = no
CF
		cat
	} >"$d/etc/main.cf"
	chown postfix "$d/data"
	$ns postfix -c "$d/etc" set-permissions >/dev/null 2>&1 || true
	# postfix speaks only to syslog, or to a terminal: script gives it one for errors
	$ns script -qc "postfix -c $d/etc start" /dev/null >"$d/start.log" 2>&1 ||
		fail "postfix start ($d): $(cat "$d/start.log")"
}

# start_postfix: a private postfix instance in the server namespace, accepting mail for
# example.org into the Maildir $WORK/pf/mail/inbox/ (as nobody). Ports from $@ (25).
start_postfix() {
	local pf=$WORK/pf port extra=""
	mkdir -p "$pf/etc" "$pf/mail"
	chown nobody:nogroup "$pf/mail"
	for port in "${@:-25}"; do
		[ "$port" = 25 ] || extra="$extra $port"
	done
	# a self-signed certificate, for STARTTLS
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.example.org \
		-keyout "$pf/etc/key.pem" -out "$pf/etc/cert.pem" >/dev/null 2>&1 || fail "openssl"
	# shellcheck disable=SC2086
	postfix_instance "$pf" in_s $extra <<CF
myhostname = mx.example.org
inet_interfaces = ${PF_INTERFACES:-all}
inet_protocols = all
mynetworks = 0.0.0.0/0 [::]/0
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.org
virtual_mailbox_base = $pf/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
message_size_limit = 104857600
virtual_mailbox_limit = 0
smtpd_tls_cert_file = $pf/etc/cert.pem
smtpd_tls_key_file = $pf/etc/key.pem
smtpd_tls_security_level = may
CF
	for port in "${@:-25}"; do
		await "postfix listening on $port" listening "$NS_S" "$port"
	done
}

# exim4 and OpenSMTPD, unpacked beside postfix (scripts/mta-private.sh). Each runs in
# a mount namespace of its own where /etc/passwd and /etc/group name the users their
# binaries were built for, and (OpenSMTPD) its spool, chroot and helper directories are
# private: nothing of the system's is read or written.
# mta_root: where the unpacked servers are, copied under $WORK: they drop to their own
# users and re-exec themselves, which a tree under a 0700 home (/root) would refuse them
mta_root() {
	local src
	src=$("$TOP/scripts/mta-private.sh") || return 1
	[ -d "$WORK/mta" ] || cp -a "$src" "$WORK/mta" || return 1
	echo "$WORK/mta"
}
# in_mta DIR CMD...: CMD in the background in the server namespace with DIR's passwd
# and group (and the bind mounts in MTA_MOUNTS), its output in DIR/out.log
in_mta() {
	local d=$1 m
	shift
	m="mount --bind $d/passwd /etc/passwd && mount --bind $d/group /etc/group"
	[ -n "${MTA_MOUNTS:-}" ] && m="$m && $MTA_MOUNTS"
	bg in_s unshare -m --propagation private sh -c "$m && exec \"\$@\" >>$d/out.log 2>&1" sh "$@"
}

# start_exim ADDR: exim on ADDR:25 of the server, storing every message to
# $WORK/exim/maildir; no DNS, no ident, no TLS
start_exim() {
	local d=$WORK/exim root
	root=$(mta_root) || fail "exim4 not unpacked"
	mkdir -p "$d/spool" "$d/log" "$d/maildir"
	chmod 777 "$d/spool" "$d/log" "$d/maildir"
	cp /etc/passwd "$d/passwd"
	cp /etc/group "$d/group"
	echo "Debian-exim:x:64990:64990::/nonexistent:/usr/sbin/nologin" >>"$d/passwd"
	echo "Debian-exim:x:64990:" >>"$d/group"
	cat >"$d/exim.conf" <<CF
exim_path = $root/usr/sbin/exim4
primary_hostname = exim.example.org
exim_user = nobody
exim_group = nogroup
never_users =
local_interfaces = <; $1.25
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/exim.pid
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
acl_smtp_rcpt = acl_rcpt
message_size_limit = 100M
keep_environment =
begin acl
acl_rcpt:
  accept
begin routers
all:
  driver = accept
  transport = maildir
begin transports
maildir:
  driver = appendfile
  directory = $d/maildir
  maildir_format
  user = nobody
  group = nogroup
  delivery_date_add = false
  envelope_to_add = false
  return_path_add = false
begin retry
* * F,1m,1m
CF
	MTA_MOUNTS="" in_mta "$d" "$root/usr/sbin/exim4" -C "$d/exim.conf" -bdf -oX 25
	wait_for in_s sh -c "ss -ltn | grep -q '$1:25 '" ||
		fail "exim not listening on $1:25: $(cat "$d"/log/* "$d/out.log" 2>/dev/null | tail -3)"
}

# start_opensmtpd ADDR: OpenSMTPD on ADDR:25 of the server, storing every message for
# b@... to $WORK/os/maildir
start_opensmtpd() {
	local d=$WORK/os root
	root=$(mta_root) || fail "OpenSMTPD not unpacked"
	mkdir -p "$d/varlib/opensmtpd/empty" "$d/spool" "$d/maildir" "$d/run"
	chmod 777 "$d/maildir"
	cp /etc/passwd "$d/passwd"
	cp /etc/group "$d/group"
	{
		echo "opensmtpd:x:64991:64991::/nonexistent:/usr/sbin/nologin"
		echo "opensmtpq:x:64992:64992::/nonexistent:/usr/sbin/nologin"
		echo "b:x:65534:65534::$d/maildir:/bin/sh" # the recipient, as nobody
	} >>"$d/passwd"
	printf 'opensmtpd:x:64991:\nopensmtpq:x:64992:\n' >>"$d/group"
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
	cat >"$d/smtpd.conf" <<CF
listen on $1 port 25 hostname opensmtpd.example.org
action "store" maildir "$d/maildir" user nobody
match from any for any action "store"
CF
	# its control socket (/var/run/smtpd.sock) in a /run of its own: another instance on
	# the machine has one too
	MTA_MOUNTS="mount --bind $d/resolv.conf /etc/resolv.conf && mount --bind $d/varlib /var/lib &&
mount --bind $d/spool /var/spool && mount --bind $root/usr/libexec /usr/libexec &&
mount --bind $d/run /run" \
		in_mta "$d" "$root/usr/sbin/smtpd" -d -f "$d/smtpd.conf"
	wait_for in_s sh -c "ss -ltn | grep -q '$1:25 '" ||
		fail "OpenSMTPD not listening on $1:25: $(tail -3 "$d/out.log" 2>/dev/null)"
}

# messages postfix delivered
delivered() { find "$WORK/pf/mail/inbox/new" -type f 2>/dev/null | sort; }
delivered_count() { delivered | wc -l; }
# await_delivered N: waits until postfix has stored N messages
await_delivered() { await "$1 messages stored" sh -c "n=\$(find '$WORK/pf/mail/inbox/new' -type f 2>/dev/null | wc -l); echo stored=\$n; [ \$n -ge $1 ]"; }

SMTPSEND="$TOP/tests/tools/smtpsend.py"
# make_mail KIND: writes $WORK/KIND.eml
make_mail() { "$PY" "$SMTPSEND" make "$1" "$WORK/$1.eml"; }
# smtp_send ADDR PORT KIND MODE [KIND2]: the client's final answer
smtp_send() { in_c "$PY" "$SMTPSEND" send "$1" "$2" "$WORK/$3.eml" "$4" ${5:+"$WORK/$5.eml"}; }

# was_delivered KIND: a delivered file ends with the message as sent (postfix adds its
# trace headers on top and stores lines with LF)
was_delivered() {
	local f
	for f in $(delivered); do
		"$PY" - "$WORK/$1.eml" "$f" <<'PY' && return 0
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
got = open(sys.argv[2], "rb").read()
sys.exit(0 if got.endswith(sent) else 1)
PY
	done
	return 1
}

# postfix_settle: waits until postfix's queue holds no message in delivery (a message
# leaves the queue once it is stored)
postfix_settle() {
	await "postfix's queue empty" sh -c "! find '$WORK/pf/queue/active' '$WORK/pf/queue/incoming' \
		'$WORK/pf/queue/maildrop' -type f 2>/dev/null | grep ."
}

# start_dovecot [PORT...]: a private dovecot POP3 server in the server namespace; user
# alice (password secret) with the Maildir $WORK/dc/home/alice/Maildir, STLS available.
start_dovecot() {
	local dc=$WORK/dc port
	mkdir -p "$dc/run" "$dc/state" "$dc/home/alice/Maildir/new" "$dc/home/alice/Maildir/cur" \
		"$dc/home/alice/Maildir/tmp"
	chown -R nobody:nogroup "$dc/home"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pop.example.org \
		-keyout "$dc/key.pem" -out "$dc/cert.pem" >/dev/null 2>&1 || fail "openssl"
	{
		cat <<CF
protocols = pop3
listen = *, ::
hostname = pop.example.org
base_dir = $dc/run
state_dir = $dc/state
log_path = $dc/log
ssl = yes
ssl_cert = <$dc/cert.pem
ssl_key = <$dc/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {
  driver = static
  args = password=secret
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dc/home/%u
}
mail_location = maildir:~/Maildir
pop3_uidl_format = %g
default_internal_user = dovecot
default_login_user = dovenull
service pop3-login {
  inet_listener pop3 {
CF
		for port in "${@:-110}"; do
			[ "$port" = 110 ] && echo "    port = 110" && continue
		done
		echo "  }"
		for port in "${@:-110}"; do
			[ "$port" = 110 ] && continue
			printf '  inet_listener pop3_%s {\n    port = %s\n  }\n' "$port" "$port"
		done
		echo "}"
	} >"$dc/dovecot.conf"
	in_s dovecot -c "$dc/dovecot.conf" || fail "dovecot: $(cat "$dc/log" 2>/dev/null)"
	for port in "${@:-110}"; do
		wait_for listening "$NS_S" "$port" || fail "dovecot not on $port: $(cat "$dc/log")"
	done
}

# seed_mailbox FILE...: the messages, in order, into alice's Maildir (stored with LF)
seed_mailbox() {
	local f i=0
	for f in "$@"; do
		i=$((i + 1))
		tr -d '\r' <"$f" >"$WORK/dc/home/alice/Maildir/cur/100000000$i.M$i.test:2,"
	done
	chown -R nobody:nogroup "$WORK/dc/home"
}
# pop3_sessions_ended [MORE_THAN]: how many of alice's POP3 sessions dovecot has ended
# (with MORE_THAN: true once more than that have)
pop3_sessions_ended() {
	local n
	n=$(grep -c 'pop3(alice).*Disconnected' "$WORK/dc/log")
	echo "$n"
	[ -z "${1:-}" ] || [ "$n" -gt "$1" ]
}
# mailbox_holds N: alice's mailbox holds N messages (prints how many it holds)
mailbox_holds() {
	local n
	n=$(mailbox_count)
	echo "mailbox holds $n"
	[ "$n" = "$1" ]
}
mailbox_count() { ls "$WORK/dc/home/alice/Maildir/cur" "$WORK/dc/home/alice/Maildir/new" | grep -c '^1'; }

POP3GET="$TOP/tests/tools/pop3get.py"

# fetchmail_mda DIR [keep]: fetchmail retrieves alice's mail from $S4 into an MDA that
# writes each message it is given to DIR/m.PID (keep: left on the server); its log in
# DIR/log
fetchmail_mda() {
	mkdir -p "$1"
	printf '#!/bin/sh\ncat >"%s/m.$$"\n' "$1" >"$1/mda"
	chmod 755 "$1/mda"
	cat >"$1/rc" <<RC
set no bouncemail
poll $S4 proto pop3 port 110 user "alice" password secret ${2:-} fetchall
  mda "$1/mda"
RC
	chmod 600 "$1/rc"
	in_c timeout "$DEADLINE" env HOME="$1" FETCHMAILHOME="$1" fetchmail -f "$1/rc" \
		--pidfile "$1/pid" --nosyslog --sslproto '' -v >"$1/log" 2>&1
	return 0
}

RAWTCP="$TOP/tests/tools/rawtcp.py"
# quiet_kernel NS: the kernel of NS sends no RSTs of its own, so that rawtcp.py can play
# a TCP end there (its own packets carry mark 0x77)
quiet_kernel() {
	ip netns exec "$1" nft -f - <<'NFT' || fail "quiet_kernel $1"
table inet rawtcp {
	chain out {
		type filter hook output priority 0; policy accept;
		meta mark != 0x77 tcp flags rst drop
	}
}
NFT
}
# raw_smtp IN_NS HOST KIND TRICK: the final answer of a hand-made SMTP client; the
# message as the receiver should store it goes to $WORK/sent.eml
raw_smtp() { SENT=$WORK/sent.eml "$1" "$PY" "$RAWTCP" smtp "$2" 25 "$WORK/$3.eml" "$4"; }
# server_released NS PORT: no connection to PORT is left established (or waiting for its
# application to close) in NS: waits for it (a connection left hanging would stay for the
# server's own timeout, minutes, far past DEADLINE)
server_released() {
	wait_for sh -c "[ -z \"\$(ip netns exec $1 ss -Htn state established state close-wait '( sport = :$2 )')\" ]"
}
# raw_smtp_expect IN_NS HOST KIND TRICK WANT: the hand-made client's answer matches the
# regular expression WANT, the server's connection is released, and after a 250 the
# stored message is the one mailscand scanned
raw_smtp_expect() {
	local out
	out=$(raw_smtp "$1" "$2" "$3" "$4")
	[[ $out =~ ^($5) ]] || fail "$4 $3 to $2: got '$out', want '$5'"
	server_released "$NS_S" 25 || fail "$4 $3 to $2: the server's connection is left open"
	if [[ $out == 250* ]]; then
		postfix_settle
		was_delivered sent || fail "$4 $3 to $2: not stored as scanned"
	fi
	ok "$4 $3 to $2: $out"
}
# raw_pop3d_expect ADDR KIND TRICK WANT: a hand-made POP3 server (rawtcp.py pop3d) at
# ADDR:110 answers RETR with the message KIND, TRICK applied; poplib in the client
# retrieves it. The client's outcome matches the regular expression WANT ("ok": the body
# retrieved is the one mailscand scanned, without EICAR), and the server's connection
# ends (the client's QUIT or a reset) rather than hanging. Calls with another ADDR or
# TRICK may run at the same time.
raw_pop3d_expect() {
	local out srv pid d=$WORK/rawpop3/$1-$3
	rm -rf "$d"
	mkdir -p "$d/got"
	SENT=$d/sent.eml READY=$d/ready bg in_s "$PY" "$RAWTCP" pop3d "$1" 110 "$WORK/$2.eml" "$3" >"$d/server"
	pid=$!
	await "the hand-made POP3 server ready on $1" test -e "$d/ready"
	out=$(in_c "$PY" "$POP3GET" retr "$1" 110 "$d/got" 1)
	[[ $out =~ ^(1 )?($4) ]] || fail "$3 $2 from $1: got '$out', want '$4'"
	if [ "$4" = ok ]; then
		cmp -s "$d/sent.eml" <(sed '$ s/\r$//' "$d/got/1" | head -c -1) ||
			cmp -s "$d/sent.eml" "$d/got/1" ||
			fail "$3 $2: retrieved body differs from what was scanned"
		grep -q "EICAR-STANDARD" "$d/got/1" && fail "$3 $2: EICAR retrieved"
	fi
	wait "$pid"
	srv=$(cat "$d/server")
	[[ $srv =~ ^server:\ (quit|reset|closed|sent\ a\ reset)$ ]] || fail "$3 $2 from $1: the server's connection: '$srv'"
	ok "$3 $2 from $1: $out ($srv)"
}
# lose_first_synack PORT: in the server namespace, the first SYN-ACK from PORT to each
# client address and port is dropped and its retransmissions pass, so that every SYN a
# client sends before it passes mailscand first; lost_synacks: how many were dropped
lose_first_synack() {
	in_s nft -f - <<NFT || fail "the rule that loses the first SYN-ACK"
table inet lost {
	set seen {
		type ipv4_addr . inet_service
		flags dynamic, timeout
		timeout 5m
	}
	chain out {
		type filter hook output priority 0; policy accept;
		tcp sport $1 tcp flags & (syn | ack) == syn | ack ip daddr . tcp dport @seen accept
		tcp sport $1 tcp flags & (syn | ack) == syn | ack add @seen { ip daddr . tcp dport } counter drop
	}
}
NFT
}
lost_synacks() { in_s nft list chain inet lost out | grep -o 'counter packets [0-9]*' | awk '{print $NF}'; }
# next_hop NS: a drop rule for TTL 1 and hop limit 1 in NS, standing for the hop after
# the gateway: an insertion sent with TTL 2 expires there
next_hop() {
	ip netns exec "$1" nft -f - <<'NFT' || fail "next-hop rule in $1"
table inet nexthop {
	chain in {
		type filter hook prerouting priority -300; policy accept;
		ip ttl 1 counter drop
		ip6 hoplimit 1 counter drop
	}
}
NFT
}
# next_hop_expired NS ip|ip6: how many packets expired there
next_hop_expired() {
	local m="ip ttl"
	[ "$2" = ip6 ] && m="ip6 hoplimit"
	ip netns exec "$1" nft list chain inet nexthop in | grep -o "$m 1 counter packets [0-9]*" | awk '{print $NF}'
}
# conntrack_tcp NS ARGS...: conntrack's TCP entries in NS, IPv4 and IPv6
conntrack_tcp() {
	local ns=$1
	shift
	ip netns exec "$ns" conntrack -L -f ipv4 -p tcp "$@" 2>/dev/null
	ip netns exec "$ns" conntrack -L -f ipv6 -p tcp "$@" 2>/dev/null
}
# offload_marked NS PORT: conntrack in NS lists a connection from PORT with the offload mark
offload_marked() { conntrack_tcp "$1" --sport "$2" -m 0x40000000/0x40000000 | grep -q "sport=$2 "; }
# offload_inherited NS PORT: some connection from PORT in NS carries a mark (prints them)
offload_inherited() {
	conntrack_tcp "$1" --sport "$2" | grep "sport=$2 " | grep -v "mark=0 " | grep "mark="
}
# nothing_infected_stored: no delivered message holds EICAR
nothing_infected_stored() {
	local f
	for f in $(delivered); do
		grep -q "EICAR-STANDARD" "$f" && fail "EICAR stored in $f"
	done
	ok "nothing infected stored ($(delivered_count) messages delivered)"
}
# stop_daemon: ends mailscand and removes the gateway's rules
stop_daemon() {
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	in_g "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null
}
# stop_host_daemon NS: ends mailscand and removes its rules from host NS
stop_host_daemon() {
	kill "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	ip netns exec "$1" "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null
}
# start_host_daemon NS [EXTRA CONFIG LINES...]: mailscand in host mode on host NS
start_host_daemon() {
	local ns=$1
	shift
	write_config "queues = 0" "mode = host" "$@"
	check_config
	ip netns exec "$ns" "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null ||
		fail "rules install (host)"
	bg ip netns exec "$ns" "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
	DAEMON_PID=$!
	wait_for ctl status || { cat "$WORK/mailscand.log"; fail "mailscand (host) did not answer"; }
}
# start_daemon_mode MODE [EXTRA CONFIG LINES...]: mailscand on queue 0 in MODE, gateway
# (on the gateway) or host (on the server host), for a test that runs in both
start_daemon_mode() {
	local m=$1
	shift
	case $m in
	gateway) start_daemon "queues = 0" "$@" ;;
	host) start_host_daemon "$NS_S" "$@" ;;
	*) fail "start_daemon_mode: no mode '$m'" ;;
	esac
	DAEMON_MODE=$m
}
# stop_daemon_mode: ends the daemon of start_daemon_mode and removes its rules
stop_daemon_mode() {
	if [ "$DAEMON_MODE" = host ]; then stop_host_daemon "$NS_S"; else stop_daemon; fi
}
