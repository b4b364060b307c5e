#!/bin/bash
# The demo, on the embedded default: builds mailscan, makes client / gateway / server
# network namespaces with a real postfix and dovecot on the server, installs the rules
# on the gateway, runs mailscand there with mailscan's TEST signatures, sends a clean
# and an infected mail through it (SMTP) and retrieves a clean and an infected one
# (POP3: the infected one arrives as mailscan's notice), and shows what each side got
# and the counters. Everything it creates is
# removed at the end. Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "scripts/demo.sh: run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s -j"$(nproc)" all >/dev/null
NS_PREFIX=msdemo
. "$top/tests/lib.sh"

step() { printf '\n== %s\n' "$*"; }

step "topology: client $C4 -> gateway (mailscand) -> server $S4 (postfix, dovecot)"
topology_gateway
start_postfix
start_dovecot

step "mailscanctl rules install --gateway; ports list"
write_config "queues = 0"
in_g "$BUILD/mailscanctl" -c "$CONF" rules install --gateway
in_g "$BUILD/mailscanctl" -c "$CONF" ports list

step "mailscanctl ports add smtp 2525 (refused: IANA assigns it to another protocol)"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add smtp 2525 || echo "(exit $?)"

step "mailscand starts (TEST signatures: clamav-testfiles and EICAR)"
bg in_g "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
DAEMON_PID=$!
wait_for ctl status
wait_for scanners_up
ctl status

step "who runs what: the packet engine, the scan master, the sandboxed scanners"
for p in $(daemon_pids); do
	printf '%-6s %-9s %-10s CapEff=%s Seccomp=%s\n' "$p" "$(ps -o user= -p "$p")" \
		"$(ps -o comm= -p "$p")" "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$p/status")" \
		"$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$p/status")"
done
echo "(CapEff 3000: net_admin and net_raw only; Seccomp 2: a filter)"

step "a clean mail and one with EICAR attached, sent by the client"
make_mail clean
make_mail eicar
echo "clean mail: server answered: $(smtp_send $S4 25 clean smtplib)"
echo "EICAR mail: server answered: $(smtp_send $S4 25 eicar smtplib)"
postfix_settle

step "what postfix stored"
echo "$(delivered_count) message(s) in the mailbox"
for f in $(delivered); do grep -m1 '^Subject:' "$f"; done

step "POP3: the client retrieves message 1 (clean) and 2 (EICAR) from dovecot"
seed_mailbox "$WORK/clean.eml" "$WORK/eicar.eml"
mkdir -p "$WORK/got"
in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got" 1 2
same() { cmp -s <(tr -d '\r' <"$1") <(tr -d '\r' <"$2"); }
if same "$WORK/clean.eml" "$WORK/got/1"; then
	echo "message 1: byte-identical to the clean mail"
else
	echo "message 1: DIFFERS from the clean mail"
fi

step "what the client stored as message 2: mailscan's notice in its place (the default pop3_action = replace)"
grep -E '^(From|Subject|Date|Message-ID|X-Mailscan-Virus):' "$WORK/got/2" || true
tr -d '\r' <"$WORK/got/2" | sed '1,/^$/d' | grep -v '^ *$' || true
echo "message 2: $(wc -c <"$WORK/got/2") bytes, the infected original $(wc -c <"$WORK/eicar.eml");" \
	"EICAR in what the client stored: $(if grep -q EICAR-STANDARD "$WORK/got/2"; then echo YES; else echo no; fi)"
echo "messages still on the server: $(mailbox_count) (a client that deletes the notice deletes the original there)"

step "mailscand's log"
cat "$WORK/mailscand.log"

step "mailscanctl stats (mail and scan counters)"
ctl stats | grep -E '^(smtp_(sessions|messages_clean|messages_infected|rejects)|pop3_(sessions|messages_clean|messages_infected|replaced)|resets|scans|scans_infected|holds_total|flows_total|quarantined)='

step "mailscanctl rules show (kernel counters)"
in_g "$BUILD/mailscanctl" -c "$CONF" rules show

step "mailscanctl rules remove"
in_g "$BUILD/mailscanctl" -c "$CONF" rules remove
echo
echo "demo done; namespaces and files are removed on exit"
