#!/bin/bash
# The systemd unit, run the way it says without systemd: its ExecStartPre line (full
# privileges) installs the rules; its ExecStart line runs as its User= with exactly its
# AmbientCapabilities=, with NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them.
# mailscand says READY=1 once it answers, feeds the watchdog, scans as before (clean
# mail delivered byte-identical, EICAR refused with 554 and quarantined, STARTTLS
# offloaded); ExecReload checks the file, then reloads (RELOADING=1, READY=1), and with a
# broken file fails without reaching the daemon; SIGTERM says STOPPING=1 and
# leaves the rules, whose bypass lets mail through until `mailscanctl rules remove`.
. "$(dirname "$0")/../../lib.sh"
UNIT=$TOP/scripts/dist/mailscand.service
key() { sed -n "s/^$1=//p" "$UNIT"; }
pre=$(key ExecStartPre)
start=$(key ExecStart)
reload=$(key ExecReload)
user=$(key User)
caps=$(key AmbientCapabilities)
expect_eq "ExecStartPre" "$pre" "+/usr/sbin/mailscanctl rules install"
expect_eq "ExecStart" "$start" "/usr/sbin/mailscand"
expect_eq "Type" "$(key Type)" notify
expect_eq "capabilities" "$caps" "CAP_NET_ADMIN CAP_NET_RAW"
getent passwd "$user" >/dev/null ||
	useradd --system --no-create-home --home-dir /var/lib/mailscan --shell /usr/sbin/nologin "$user"
capset=$(echo "$caps" | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g; s/^/+/')

topology_gateway
start_postfix
# RuntimeDirectory= and StateDirectory=: the user's own
mkdir -p "$WORK/run" "$WORK/state"
chown "$user:$user" "$WORK/run" "$WORK/state"
chmod 750 "$WORK/run" "$WORK/state"
write_config "queues = 0" "control_socket = $WORK/run/control.sock" "tmpdir = $WORK/run/tmp" \
	"quarantine = $WORK/state/quarantine"
bg "$PY" -c "
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('$WORK/notify.sock')
import time
with open('$WORK/notify.txt', 'ab', buffering=0) as f:
    while True:
        m = s.recv(4096).replace(b'\n', b' ')
        f.write(m + b'\n')
        if m.startswith(b'WATCHDOG=1'):
            open('$WORK/watchdog.txt', 'a').write('%.3f\\n' % time.monotonic())
"
wait_for test -S "$WORK/notify.sock" || fail "notify listener"
chmod 666 "$WORK/notify.sock" # as systemd's: any service user may write

# ExecStartPre: "+" runs it with full privileges
has_rules() { in_g nft list tables | grep -q "^table inet mailscan$"; }
# the unit's command with the programs from the build and this test's configuration
set -- ${pre#+}
prog=$1
shift
in_g "$BUILD/${prog#/usr/sbin/}" -c "$CONF" "$@" >/dev/null || fail "ExecStartPre"
has_rules || fail "no rules after ExecStartPre"
ok "ExecStartPre installed the rules"
bg in_g env NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=1000000 \
	setpriv --reuid="$user" --regid="$user" --clear-groups --no-new-privs \
	--inh-caps=-all,$capset --ambient-caps=-all,$capset --bounding-set=-all,$capset \
	"$BUILD/${start#/usr/sbin/}" -c "$CONF" 2>>"$WORK/mailscand.log"
PID=$! # ip netns exec, env and setpriv each exec the next: the same process
wait_for ctl status || fail "mailscand did not answer: $(cat "$WORK/mailscand.log")"
expect_eq "the started process is mailscand" "$(cat /proc/$PID/comm)" mailscand
wait_for grep -q "^READY=1" "$WORK/notify.txt" || fail "no READY=1"
ok "READY=1 once it answers"
expect_eq "uid" "$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/$PID/status)" \
	"$(id -u "$user")$(id -u "$user")$(id -u "$user")$(id -u "$user")"
expect_eq "CapEff (NET_ADMIN + NET_RAW)" "$(awk '/^CapEff:/ {print $2}' /proc/$PID/status)" 0000000000003000
# systemd kills a service that does not feed its watchdog within WATCHDOG_USEC (1 s)
await "the watchdog fed 5 times" sh -c "[ \$(grep -c . '$WORK/watchdog.txt' 2>/dev/null) -ge 5 ]"
gap=$(awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.3f", g }' "$WORK/watchdog.txt")
awk -v g="$gap" 'BEGIN { exit !(g < 1.0) }' || fail "the watchdog went $gap s unfed (WATCHDOG_USEC 1 s)"
ok "watchdog fed within WATCHDOG_USEC (longest gap $gap s)"

for k in clean eicar; do make_mail $k; done
expect_eq "clean mail" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
case "$(smtp_send $S4 25 eicar smtplib)" in
"554 5.7.1 Virus found: MailscanTest."*) ok "EICAR refused with 554 (injected without root)" ;;
*) fail "eicar" ;;
esac
expect_eq "STARTTLS mail" "$(smtp_send $S4 25 clean starttls)" "250 sent"
expect_eq "offloaded after STARTTLS" "$(stat smtp_starttls)" 1
q=$(ls "$WORK/state/quarantine"/*.eml) || fail "nothing quarantined"
expect_eq "quarantine owner" "$(command stat -c %U "$q")" "$user"

# ExecReload: each line as systemd runs them, in order, the first failure ending it
expect_eq "ExecReload" "$reload" "+/usr/sbin/mailscanctl check
+/usr/sbin/mailscanctl reload"
exec_reload() {
	local line
	while read -r line; do
		"$BUILD/mailscanctl" -c "$CONF" ${line#+/usr/sbin/mailscanctl } || return 1
	done <<<"$reload"
}
exec_reload >"$WORK/reload.out" 2>&1 || fail "ExecReload: $(cat "$WORK/reload.out")"
grep -q "^reloaded: nothing changed" "$WORK/reload.out" || fail "reload reply: $(cat "$WORK/reload.out")"
await_stat reloads_ok 1 "ExecReload did not reload"
# the watchdog's messages may come between the two
await "READY=1 after RELOADING=1" sh -c "sed -n '/^RELOADING=1/,\$p' '$WORK/notify.txt' | grep '^READY=1'"
ok "ExecReload: RELOADING=1, reload, READY=1"
cp "$CONF" "$WORK/good.conf"
echo "smtp_action = bounce" >>"$CONF"
exec_reload >"$WORK/reload.out" 2>&1 && fail "ExecReload took a broken file"
grep -q "mailscan.conf:[0-9]*: smtp_action: invalid action 'bounce'" "$WORK/reload.out" ||
	fail "ExecReload's check: $(cat "$WORK/reload.out")"
cp "$WORK/good.conf" "$CONF"
expect_eq "the check stopped it: no reload reached the daemon" "$(stat reloads_ok)" 1
ok "ExecReload with a broken file: refused by the check, with the line"

kill -TERM "$PID"
wait_for sh -c "! kill -0 $PID 2>/dev/null" || fail "mailscand did not stop"
grep -q "^STOPPING=1" "$WORK/notify.txt" || fail "no STOPPING=1"
ok "SIGTERM: STOPPING=1"
has_rules || fail "stopping removed the rules"
expect_eq "with the daemon stopped, mail flows (bypass)" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
in_g "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null || fail "rules remove"
has_rules && fail "rules still there"
ok "mailscanctl rules remove turns it off"
postfix_settle
expect_eq "stored" "$(delivered_count)" 3
