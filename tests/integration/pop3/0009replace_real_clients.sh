#!/bin/bash
# pop3_hold = whole with pop3_action = replace, through the POP3 clients users run:
# curl, mpop (into a maildir) and getmail6 (into a maildir) against dovecot, in gateway
# mode over IPv4 and IPv6 and in host mode, with messages from 250 bytes to 20 MiB and
# the virus early (the body's first lines) or late (an attachment after 20 MiB). Every
# clean message arrives byte-identical; every infected one is stored as the notice
# (From mailscan, "[virus removed]" and the original Subject, X-Mailscan-Virus), of the
# original's length where the client keeps the wire's CRLF; no file any client wrote
# holds EICAR, by grep and by clamscan with the test signatures. A mailbox of [clean,
# infected, clean] is emptied by getmail6 and by mpop deleting after download, and by
# fetchmail forwarding over SMTP to a postfix beside it: the server keeps no infected
# message, and postfix stores the notice. TOP n 5 of an infected message gives a notice
# of the excerpt's length, or a reset where the excerpt is shorter than any notice.
# Counted: pop3_replaced, pop3_messages_infected, pop3_released; each replacement is
# logged with the user (curl logs in with AUTH PLAIN) and the message number.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
# the mailbox: 1 clean, 2 early virus (2 MB), 3 clean 5 MiB, 4 late virus (400 KB),
# 5 dot-stuffed, 6 early virus in 1 KiB, 7 clean 20 MiB, 8 late virus after 20 MiB
ALL="clean earlyeicar big bigplaineicar stuffed tinyeicar huge hugeeicar"
INFECTED_ALL=4
SMALL="clean bigplaineicar stuffed" # the mailbox a deleting client empties
for k in $ALL; do make_mail $k; done
mkdir -p "$WORK/lf"
for k in $ALL; do tr -d '\r' <"$WORK/$k.eml" >"$WORK/lf/$k"; done
V=MailscanTest.EICAR.UNOFFICIAL
GEN=0

# seed KIND...: the mailbox holds these, under new names (dovecot's index knows the old)
seed() {
	local k i=0 d=$WORK/dc/home/alice/Maildir
	GEN=$((GEN + 1))
	rm -f "$d"/cur/* "$d"/new/*
	for k in "$@"; do
		i=$((i + 1))
		cp "$WORK/lf/$k" "$d/cur/${GEN}00000000$i.M$i.test:2,"
	done
	chown -R nobody:nogroup "$WORK/dc/home"
}
infected() { case $1 in *eicar) return 0 ;; esac; return 1; }
subject() { sed -n 's/^Subject: //p' "$WORK/lf/$1" | head -n 1; }

# is_notice KIND FILE: FILE is the notice of the infected message KIND (its text comes
# first, then the padding)
is_notice() {
	local mid t
	mid=$(sed -n 's/^Message-ID: //p' "$WORK/lf/$1")
	t=$(head -c 4096 "$2" | tr -d '\r')
	grep -q "^From: mailscan" <<<"$t" || return 1
	grep -qxF "Subject: [virus removed] $(subject "$1")" <<<"$t" || return 1
	grep -qx "X-Mailscan-Virus: $V" <<<"$t" || return 1
	[ -z "$mid" ] || grep -qxF "Message-ID: $mid" <<<"$t" || return 1
	grep -q "quarantine as" <<<"$t" || return 1
}

# no_eicar WHAT PATH...: no file under PATH holds EICAR: not as text, not to clamscan
no_eicar() {
	local what=$1 out
	shift
	grep -rl 'EICAR-STANDARD' "$@" && fail "$what: EICAR in a stored file"
	out=$(clamscan --no-summary --infected -r -d "$(testsigs)" "$@" 2>&1)
	case $? in
	0) ;;
	1) fail "$what: clamscan finds a virus in what was stored: $out" ;;
	*) fail "$what: clamscan failed: $out" ;;
	esac
	ok "$what: no stored file holds EICAR ($(find "$@" -type f | wc -l) files, grep and clamscan)"
}

# same_lf KIND FILE: FILE is the message KIND with LF lines (with ENDS set: it ends
# with it, below the headers a relay put on top; with FIRST set, a first line that
# matches FIRST is the client's own, as getmail6's Return-Path)
same_lf() {
	if [ -n "${ENDS:-}" ]; then
		cmp -s "$WORK/lf/$1" <(tr -d '\r' <"$2" | tail -c "$(wc -c <"$WORK/lf/$1")")
	else
		cmp -s "$WORK/lf/$1" <(tr -d '\r' <"$2" | sed "1{/${FIRST:-^\$^}/d}")
	fi
}

# check_store WHAT DIR KIND...: DIR holds one file per KIND and nothing else: each clean
# one byte-identical, each infected one its notice; nothing of EICAR
check_store() {
	local what=$1 dir=$2 k f hit
	shift 2
	expect_eq "$what: messages stored" "$(find "$dir" -type f | wc -l)" $#
	for k in "$@"; do
		hit=""
		for f in $(find "$dir" -type f); do
			if infected "$k"; then
				is_notice "$k" "$f" && hit=$f && break
			elif same_lf "$k" "$f"; then
				hit=$f && break
			fi
		done
		[ -n "$hit" ] || fail "$what: $k not stored as it should be"
	done
	ok "$what: the clean messages byte-identical, the infected ones notices ($*)"
	no_eicar "$what" "$dir"
}

# curl_get WHAT HOST DIR N...: curl retrieves message N into DIR/N, a session each;
# clean ones byte-identical, infected ones the notice of the original's exact length
curl_get() {
	local what=$1 host=$2 dir=$3 n k
	shift 3
	mkdir -p "$dir"
	for n in "$@"; do
		k=$(echo $ALL | cut -d' ' -f"$n")
		in_c curl -s -g --max-time "$DEADLINE" -u alice:secret "pop3://$host/$n" -o "$dir/$n" ||
			fail "$what: curl of message $n ($k) failed ($?)"
		if infected "$k"; then
			is_notice "$k" "$dir/$n" || fail "$what: message $n ($k) is not the notice"
			expect_eq "$what: message $n ($k) is the notice, of the original's length" \
				"$(wc -c <"$dir/$n")" "$(wc -c <"$WORK/$k.eml")"
		else
			same_lf "$k" "$dir/$n" || fail "$what: message $n ($k) differs"
			ok "$what: message $n ($k, $(wc -c <"$dir/$n") bytes) byte-identical"
		fi
	done
	no_eicar "$what" "$dir"
}

# mpop_get WHAT HOST DIR keep|delete: mpop delivers alice's mail into the maildir DIR/md
mpop_get() {
	local d=$3
	mkdir -p "$d/md/new" "$d/md/cur" "$d/md/tmp"
	cat >"$d/rc" <<RC
account alice
host $2
port 110
tls off
auth user
user alice
password secret
delivery maildir $d/md
received_header off
uidls_file $d/uidls
keep $([ "$4" = keep ] && echo on || echo off)
timeout $DEADLINE
RC
	chmod 600 "$d/rc"
	in_c env HOME="$d" mpop -C "$d/rc" -q alice >"$d/log" 2>&1 ||
		fail "$1: mpop failed: $(tail -3 "$d/log")"
}

# getmail_get WHAT HOST DIR keep|delete: getmail6 delivers alice's mail into DIR/md (as
# nobody: it delivers nothing as root)
getmail_get() {
	local d=$3
	mkdir -p "$d/md/new" "$d/md/cur" "$d/md/tmp"
	chown -R nobody:nogroup "$d/md"
	cat >"$d/rc" <<RC
[retriever]
type = SimplePOP3Retriever
server = $2
port = 110
username = alice
password = secret
timeout = $DEADLINE
[destination]
type = Maildir
path = $d/md/
user = nobody
[options]
verbose = 0
read_all = true
delete = $([ "$4" = keep ] && echo false || echo true)
received = false
delivered_to = false
RC
	in_c env HOME="$d" getmail --getmaildir="$d" --rcfile="$d/rc" >"$d/log" 2>&1 ||
		fail "$1: getmail failed: $(tail -3 "$d/log")"
}

# emptied WHAT CLIENT HOST: CLIENT deleting after download empties [clean, infected,
# clean]: the server keeps no infected message
emptied() {
	local d=$WORK/$(echo "$1" | tr -c 'a-z0-9\n' _)
	seed $SMALL
	"$2" "$1" "$3" "$d" delete
	FIRST='^Return-Path: <unknown>$' check_store "$1" "$d/md" $SMALL
	expect_eq "$1: the mailbox is empty, the infected original gone from the server" \
		"$(mailbox_count)" 0
}

# counters WHAT REPLACED INFECTED RELEASED_MIN
counters() {
	expect_eq "$1: pop3_replaced" "$(stat pop3_replaced)" "$2"
	expect_eq "$1: pop3_messages_infected" "$(stat pop3_messages_infected)" "$3"
	stat_ge pop3_released "$4" >/dev/null || fail "$1: pop3_released $(stat pop3_released) < $4"
	ok "$1: pop3_released = $(stat pop3_released)"
}

start_daemon "queues = 0" "pop3_hold = whole" "pop3_action = replace"
seed $ALL
curl_get "curl IPv4" $S4 "$WORK/curl4" 1 2 3 4 5 6 7 8
counters "curl IPv4" $INFECTED_ALL $INFECTED_ALL 8
# curl logs in with AUTH PLAIN: the log names the user all the same
expect_eq "curl IPv4: a log line per replacement, with the user and the message number" \
	"$(grep -o 'action=replace result=replaced proto=pop3 flow=[^ ]* user=[^ ]* msg=[0-9]*' \
		"$WORK/mailscand.log" | sed 's/.* user=/user=/' | tr '\n' ' ')" \
	"user=alice msg=2 user=alice msg=4 user=alice msg=6 user=alice msg=8 "
curl_get "curl IPv6" "[$S6]" "$WORK/curl6" 1 2 4 5 6 8
mpop_get "mpop IPv4" $S4 "$WORK/mpop4" keep
check_store "mpop IPv4" "$WORK/mpop4/md" $ALL
getmail_get "getmail6 IPv6" $S6 "$WORK/getmail6" keep
FIRST='^Return-Path: <unknown>$' check_store "getmail6 IPv6" "$WORK/getmail6/md" $ALL
counters "gateway, every infected message four times" $((4 * INFECTED_ALL)) $((4 * INFECTED_ALL)) 16

# TOP 2 5: the excerpt holds the virus, a notice of its length; TOP 6 5: shorter than
# any notice, a reset; TOP 4 5: the virus comes later, the excerpt as it is
excerpt() { # KIND LINES: the headers and the first LINES body lines, CRLF
	"$PY" -c 'import sys
h, _, b = open(sys.argv[1], "rb").read().partition(b"\r\n\r\n")
sys.stdout.buffer.write(h + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in b.split(b"\r\n")[:int(sys.argv[2])]))' \
		"$WORK/$1.eml" "$2"
}
mkdir -p "$WORK/top"
excerpt earlyeicar 5 >"$WORK/top.want2"
excerpt bigplaineicar 5 >"$WORK/top.want4"
grep -q EICAR-STANDARD "$WORK/top.want2" || fail "the excerpt of message 2 lacks the virus"
expect_eq "TOP 2 5 (the virus in the excerpt)" \
	"$(in_c "$PY" "$POP3GET" top $S4 110 2 5 "$WORK/top/2")" "ok $(wc -c <"$WORK/top.want2")"
tr -d '\r' <"$WORK/top/2" | grep -q "^From: mailscan" || fail "TOP 2 5: not from mailscan"
tr -d '\r' <"$WORK/top/2" | grep -q "^Subject: \[virus removed\]" || fail "TOP 2 5: Subject"
tr -d '\r' <"$WORK/top/2" | grep -qx "X-Mailscan-Virus: $V" || fail "TOP 2 5: X-Mailscan-Virus"
ok "TOP 2 5: a notice of the excerpt's length ($(wc -c <"$WORK/top/2") bytes)"
expect_eq "TOP 6 5 (an excerpt of $(excerpt tinyeicar 5 | wc -c) bytes, too short for a notice)" \
	"$(in_c "$PY" "$POP3GET" top $S4 110 6 5 "$WORK/top/6")" "reset (ConnectionResetError)"
[ ! -e "$WORK/top/6" ] || fail "TOP 6 5 stored something"
grep -q "action=replace result=reset proto=pop3 .* user=alice msg=6" "$WORK/mailscand.log" ||
	fail "the reset of TOP 6 5 is not logged"
expect_eq "TOP 4 5 (the virus later)" "$(in_c "$PY" "$POP3GET" top $S4 110 4 5 "$WORK/top/4")" \
	"ok $(wc -c <"$WORK/top.want4")"
cmp -s "$WORK/top.want4" "$WORK/top/4" || fail "TOP 4 5: the excerpt differs"
no_eicar "poplib TOP" "$WORK/top"
counters "TOP" $((4 * INFECTED_ALL + 1)) $((4 * INFECTED_ALL + 2)) 18

emptied "getmail6 deleting, IPv4" getmail_get $S4
emptied "mpop deleting, IPv6" mpop_get $S6

# fetchmail forwarding over SMTP to a postfix on the client's host, which rewrites no
# header and adds none but its Received (its clients are local to it otherwise)
mkdir -p "$WORK/cpf/mail"
chown nobody:nogroup "$WORK/cpf/mail"
postfix_instance "$WORK/cpf" in_c <<CF
myhostname = client.example.org
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_header_rewrite_clients =
virtual_mailbox_domains = example.org
virtual_mailbox_base = $WORK/cpf/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
message_size_limit = 104857600
virtual_mailbox_limit = 0
CF
await "postfix on the client's host" listening "$NS_C" 25
seed $SMALL
mkdir -p "$WORK/fms"
cat >"$WORK/fms/rc" <<RC
set no bouncemail
poll $S4 proto pop3 port 110 user "alice" password secret fetchall
  smtphost 127.0.0.1/25 smtpname b@example.org
RC
chmod 600 "$WORK/fms/rc"
in_c timeout "$DEADLINE" env HOME="$WORK/fms" FETCHMAILHOME="$WORK/fms" fetchmail -f "$WORK/fms/rc" \
	--pidfile "$WORK/fms/pid" --nosyslog --sslproto '' -v >"$WORK/fms/log" 2>&1
await "postfix stored three messages" sh -c \
	"n=\$(find '$WORK/cpf/mail/inbox/new' -type f | wc -l); echo stored=\$n; [ \$n -ge 3 ]"
# fetchmail's and postfix's Received headers come first
ENDS=1 check_store "fetchmail over SMTP into postfix" "$WORK/cpf/mail/inbox/new" $SMALL
expect_eq "fetchmail over SMTP: the mailbox is empty" "$(mailbox_count)" 0
counters "gateway" $((4 * INFECTED_ALL + 4)) $((4 * INFECTED_ALL + 5)) 21
stop_daemon

# host mode on the client's host
start_host_daemon "$NS_C" "pop3_hold = whole" "pop3_action = replace"
seed $ALL
curl_get "host: curl IPv6" "[$S6]" "$WORK/hcurl6" 1 2 4 5 6 8
mpop_get "host: mpop IPv4" $S4 "$WORK/hmpop4" keep
check_store "host: mpop IPv4" "$WORK/hmpop4/md" $ALL
emptied "host: getmail6 deleting, IPv4" getmail_get $S4
counters "host" $((2 * INFECTED_ALL + 1)) $((2 * INFECTED_ALL + 1)) 8

# every segment mailscand sent in the server's name carried a timestamp the client took:
# none was dropped there as older than one it had (PAWS), to be sent again
paws=$(in_c awk '/^TcpExt:/ { if (!n++) { split($0, h); next } split($0, v)
	for (i in h) if (h[i] == "PAWSEstab") print v[i] }' /proc/net/netstat)
expect_eq "segments the client dropped as older than it had (PAWS)" "$paws" 0
