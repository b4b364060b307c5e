#!/bin/bash
# A hostile POP3 server (rawtcp.py pop3spell) spells the status line and the end of the
# body in every way some real client reads (a '+' line, skipped lines, a long status, a
# bare LF end, '.' NUL, NUL-padded header dots, the last piece of a long line, data after
# CRLF.CRLF, a FIN inside the body...), each for an EICAR message marked by a unique
# token and for its clean twin, to poplib, getmail6, curl, fetchmail and mpop. First
# with no interception: the table of what each client takes as a complete message is
# printed, and every spelling but the mutt-only one must be taken by some client with
# its EICAR (the test exercises real readings). Then through mailscand, gateway and host
# mode: no client ever has a complete infected message, and every clean twin a client
# took without mailscand arrives byte-identical.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
CLIENTS="poplib getmail6 curl fetchmail mpop"
SPELLINGS=$("$PY" "$RAWTCP" pop3spell list)
bg in_s "$PY" "$RAWTCP" pop3spell $S4 110
await "the hostile POP3 server on 110" listening "$NS_S" 110

# each client, as USER, into DIR: DIR/msg what it stored, DIR/status once it took the
# message as complete (its own success report)
get_poplib() {
	in_c "$PY" "$POP3GET" fetch $S4 110 "$2" "$1/msg" >"$1/log" 2>&1
	grep -qx ok "$1/log" && echo ok >"$1/status"
}
get_getmail6() {
	mkdir -p "$1/Maildir/new" "$1/Maildir/cur" "$1/Maildir/tmp"
	cat >"$1/rc" <<RC
[retriever]
type = SimplePOP3Retriever
server = $S4
port = 110
username = $2
password = secret
timeout = 30
[destination]
type = Maildir
path = $1/Maildir/
user = nobody
[options]
read_all = true
delete = false
delivered_to = false
received = false
verbose = 0
RC
	chown -R nobody "$1"
	in_c timeout 60 getmail --rcfile "$1/rc" --getmaildir "$1" >"$1/log" 2>&1
	maildir_took "$1"
}
get_curl() {
	in_c timeout 60 curl -s --max-time 30 -u "$2:secret" "pop3://$S4/1" -o "$1/msg" \
		>"$1/log" 2>&1 && echo ok >"$1/status"
}
get_fetchmail() {
	cat >"$1/rc" <<RC
set no bouncemail
poll $S4 proto pop3 port 110 user "$2" password secret keep fetchall
  mda "/bin/sh -c 'cat > $1/msg'"
RC
	chmod 600 "$1/rc"
	in_c timeout 60 env HOME="$1" FETCHMAILHOME="$1" fetchmail -f "$1/rc" --pidfile "$1/pid" \
		--nosyslog --sslproto '' -v >"$1/log" 2>&1
	grep -q "^reading message .* flushed$" "$1/log" && echo ok >"$1/status"
}
get_mpop() {
	mkdir -p "$1/Maildir/new" "$1/Maildir/cur" "$1/Maildir/tmp"
	cat >"$1/conf" <<RC
account default
host $S4
port 110
tls off
auth user
user $2
password secret
delivery maildir $1/Maildir
keep on
only_new off
uidls_file $1/uidls
received_header off
timeout 30
RC
	chmod 600 "$1/conf"
	# mpop reads a zero-byte read at the connection's end as an empty line, forever
	# (eof_dotdot): the file size limit ends it
	in_c timeout 60 sh -c "ulimit -f 4096; exec mpop -C '$1/conf' -d" >"$1/log" 2>&1
	maildir_took "$1"
}
maildir_took() { # DIR: a message was delivered to DIR/Maildir/new
	local f
	f=$(ls "$1/Maildir/new")
	[ -n "$f" ] && cp "$1/Maildir/new/$f" "$1/msg" && echo ok >"$1/status"
}

# run_all RUN: every spelling, both kinds, every client (the ten of a spelling at once)
run_all() {
	local sp k c pids d
	for sp in $SPELLINGS; do
		pids=""
		for k in eicar clean; do
			for c in $CLIENTS; do
				d=$WORK/$1/$c/$sp.$k
				mkdir -p "$d"
				get_$c "$d" "$sp.$k" 2>/dev/null &
				pids="$pids $!"
			done
		done
		wait $pids
	done
}

# check RUN: prints RUN's table; with a base run, checks RUN against it
check() {
	"$PY" - "$WORK" "$1" "${2:-}" "$CLIENTS" "$SPELLINGS" <<'PY'
import os, re, sys
work, run, base, clients, spellings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split()
EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"

def took(r, c, sp, k):
    d = os.path.join(work, r, c, "%s.%s" % (sp, k))
    if not os.path.exists(os.path.join(d, "status")):
        return None
    m = open(os.path.join(d, "msg"), "rb").read() if os.path.exists(os.path.join(d, "msg")) else b""
    if c != "fetchmail":
        return m
    # its own Received header carries the time; where it ends a message at a piece of a
    # long line it writes a byte of stale buffer after a NUL
    m = re.sub(rb"\AReceived: from [^\n]*\n(?:[ \t][^\n]*\n)*", b"", m)
    return re.sub(rb"\x00[^\n]?\n\Z", b"\x00\n", m)

print("%s: what each client took as a complete message (E: with its EICAR, c: the clean twin)" % run)
print("%-16s" % "spelling" + "".join("%-10s" % c for c in clients))
bad = []
for sp in spellings:
    row = ""
    for c in clients:
        e, cl = took(run, c, sp, "eicar"), took(run, c, sp, "clean")
        row += "%-10s" % (("E" if e is not None and EICAR in e else "c" if e is not None else "-") +
                          ("c" if cl is not None else "-"))
        if base:
            if e is not None and EICAR in e:
                bad.append("%s took %s complete with its EICAR" % (c, sp))
            b = took(base, c, sp, "clean")
            if b is not None and cl != b:
                bad.append("%s: the clean twin of %s %s" % (c, sp, "differs" if cl is not None else "was not taken"))
    print("%-16s" % sp + row)
if not base:
    for sp in spellings:
        if sp != "dot_x" and not any(EICAR in (took(run, c, sp, "eicar") or b"") for c in clients):
            bad.append("no client takes %s with its EICAR: the spelling reads nothing" % sp)
    if any(took(run, c, "dot_x", "eicar") is not None for c in clients):
        print("dot_x (mutt's end) is taken by a tested client too")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}

run_all base
check base || fail "the spellings without interception"
ok "every spelling is a reading of some real client (dot_x: mutt's, not run here)"

start_daemon "queues = 0" "pop3_action = reset"
run_all gateway
check gateway base || fail "through mailscand (gateway)"
ok "gateway: no client completed an infected message; every clean twin byte-identical"
echo "gateway: pop3_messages_infected=$(stat pop3_messages_infected) pop3_candidates=$(stat pop3_candidates) pop3_messages_clean=$(stat pop3_messages_clean) resets=$(stat resets)"
[ "$(stat pop3_messages_infected)" -gt 0 ] || fail "gateway: no detection counted"
stop_daemon

start_host_daemon "$NS_S" "pop3_action = reset"
run_all host
check host base || fail "through mailscand (host)"
ok "host: no client completed an infected message; every clean twin byte-identical"
echo "host: pop3_messages_infected=$(stat pop3_messages_infected) pop3_candidates=$(stat pop3_candidates) pop3_messages_clean=$(stat pop3_messages_clean) resets=$(stat resets)"
[ "$(stat pop3_messages_infected)" -gt 0 ] || fail "host: no detection counted"
