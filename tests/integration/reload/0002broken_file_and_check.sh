#!/bin/bash
# A file with an error changes nothing: `mailscanctl reload` exits 1 naming FILE:LINE and
# the problem, SIGHUP logs the same, and the daemon goes on as it was (checked by what it
# does: the changed action of the same file is not applied, the signatures are not
# reloaded). A file whose new metrics address is taken is refused the same way.
# `mailscanctl check` and `mailscand -t` pass on the example configuration and on the
# tests' one, and fail with the line on each kind of error, without the daemon.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in clean eicar; do make_mail $k; done
start_daemon "queues = 0" "metrics_listen = $G4C:9311"
cp "$CONF" "$WORK/good.conf"
rejected() { case "$(smtp_send $S4 25 eicar smtplib)" in 554*) return 0 ;; *) return 1 ;; esac; }
rejected || fail "eicar not rejected at start"
reloads=$(stat reloads_ok)

# monitor, and a mistake two lines later: nothing of it applies
{
	echo "smtp_action = monitor"
	echo "# a comment"
	echo "hold_timeout = 0"
} >>"$CONF"
line=$(grep -n '^hold_timeout = 0' "$CONF" | cut -d: -f1)
out=$(ctl reload 2>&1)
expect_eq "reload of a broken file: exit code" "$?" 1
case $out in *"reload refused, nothing changed"*"$CONF:$line: hold_timeout: invalid number '0'"*) ok "refused: $out" ;;
*) fail "the refusal: $out" ;; esac
rejected || fail "the broken file's smtp_action = monitor was applied"
ok "the running configuration stays: EICAR still rejected"
expect_eq "no signature reload either" "$(stat reloads_ok)" "$reloads"
kill -HUP "$DAEMON_PID"
wait_for grep -q "SIGHUP: reloading" "$WORK/mailscand.log" || fail "SIGHUP not taken"
wait_for grep -q "reload refused, configuration and scanners unchanged: $CONF:$line: hold_timeout" \
	"$WORK/mailscand.log" || fail "SIGHUP refusal not logged: $(tail -3 "$WORK/mailscand.log")"
rejected || fail "SIGHUP applied the broken file"
ok "SIGHUP with the broken file: logged with the line, nothing applied"

# a metrics address that is taken: refused before anything changes
bg in_g "$PY" -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$G4C', 9400)); s.listen(); time.sleep(600)"
wait_for in_g sh -c "ss -ltn | grep -q ':9400 '" || fail "the squatter"
cp "$WORK/good.conf" "$CONF"
echo "smtp_action = monitor" >>"$CONF"
sed -i "s|^metrics_listen = .*|metrics_listen = $G4C:9400|" "$CONF"
out=$(ctl reload 2>&1) && fail "reload onto a taken address: $out"
line=$(grep -n '^metrics_listen = ' "$CONF" | cut -d: -f1)
case $out in *"$CONF:$line: metrics_listen $G4C:9400: Address already in use"*) ok "refused: $out" ;;
*) fail "the refusal: $out" ;; esac
rejected || fail "smtp_action = monitor applied although the reload was refused"
in_c curl -sf -m 10 -o /dev/null "http://$G4C:9311/metrics" || fail "the old endpoint went away"
ok "a taken metrics address: nothing changed, the old endpoint serves"

# the good file again: applied
cp "$WORK/good.conf" "$CONF"
echo "smtp_action = monitor" >>"$CONF"
expect_eq "the fixed file" "$(ctl reload | grep '^reloaded:')" "reloaded: applied smtp_action"
expect_eq "monitor now" "$(smtp_send $S4 25 eicar smtplib)" "250 sent"
cp "$WORK/good.conf" "$CONF"

# check: the example configuration (its database pointed at the test signatures, the
# only path this machine lacks) and this test's
sed "s|^#database = .*|database = $(testsigs)|; s|^#test_signatures = no|test_signatures = yes|" \
	"$TOP/scripts/dist/mailscan.conf" >"$WORK/example.conf"
grep -q "^database = " "$WORK/example.conf" || fail "the example has no #database line"
for f in "$WORK/example.conf" "$CONF"; do
	out=$("$BUILD/mailscanctl" check -c "$f" 2>&1) || fail "check $f: $out"
	case $out in "$f: ok (45 signatures, 2 protected ports; pop3_hold whole, pop3_action replace by default)") ok "check: $out" ;; *) fail "check $f: $out" ;; esac
	out=$("$BUILD/mailscand" -t -c "$f" 2>&1) || fail "mailscand -t $f: $out"
done
ok "mailscand -t passes on both"
# the example as shipped: at most the signature database is missing here
out=$("$BUILD/mailscanctl" check -c "$TOP/scripts/dist/mailscan.conf" 2>&1 | grep -v '^LibClamAV')
case $out in *": ok "* | *"database (default): signature database /var/lib/clamav"*) ok "the shipped example: $out" ;;
*) fail "the shipped example: $out" ;; esac

# each kind of error: the line, exit 1
at_line() { # TEXT N: @L1 and @L2 in TEXT become the numbers of the lines after line N
	local w=${1//@L1/$(($2 + 1))}
	echo "${w//@L2/$(($2 + 2))}"
}
bad() { # WHAT LINES EXPECTED...: a file of the test's good one plus LINES
	local what=$1 lines=$2 want first out rc n
	shift 2
	cp "$WORK/good.conf" "$WORK/bad.conf"
	printf '%b\n' "$lines" >>"$WORK/bad.conf"
	n=$(wc -l <"$WORK/good.conf")
	first=$(at_line "$1" "$n")
	out=$("$BUILD/mailscanctl" check -c "$WORK/bad.conf" 2>&1)
	rc=$?
	[ $rc = 1 ] || fail "$what: check exited $rc: $out"
	for want in "$@"; do
		want=$(at_line "$want" "$n")
		case $out in *"$want"*) ;; *) fail "$what: '$want' not in: $out" ;; esac
	done
	out=$("$BUILD/mailscand" -t -c "$WORK/bad.conf" 2>&1) && fail "$what: mailscand -t passed"
	case $out in *"$first"*) ;; *) fail "$what: mailscand -t: $out" ;; esac
	ok "check: $what"
}
B=$WORK/bad.conf
bad "unknown key" "colour = blue" "$B:@L1: colour: unknown key"
bad "a value out of range" "workers = 65" "$B:@L1: workers: invalid number '65' (expected 1-64)"
bad "an unknown word" "pop3_action = bounce" "$B:@L1: pop3_action: invalid action 'bounce'"
bad "not key = value" "just words" "$B:@L1: expected 'key = value'"
bad "a line too long" "test_hold = $(head -c 5000 /dev/zero | tr '\0' x)" "$B:@L1: line too long"
bad "two errors, both named" "queues = 5-1\nscanners = clamd:bogus" \
	"$B:@L1: queues: invalid queues '5-1'" "$B:@L2: scanners: scanner 'clamd:bogus'"
bad "a relative path" "quarantine = var/q" "$B:@L1: quarantine: path 'var/q' must be absolute"
mkdir -p "$WORK/empty-db"
bad "a database without signatures" "test_signatures = no\ndatabase = $WORK/empty-db" \
	"$B:@L2: database: signature database $WORK/empty-db"
bad "a database that is not there" "database = $WORK/no-db" "$B:@L1: database: signature database $WORK/no-db"
bad "a database that is not the test one" "database = $(dirname "$(testsigs)")" \
	"$B:@L1: database: test_signatures = yes, but"
bad "no such user" "user = no-such-user-here" "$B:@L1: user: no such user 'no-such-user-here'"
bad "a syslog socket that is not there" "log = syslog\nsyslog_socket = $WORK/no.sock" \
	"$B:@L2: syslog_socket: $WORK/no.sock: No such file or directory"
touch "$WORK/a-file"
bad "a quarantine that is a file" "quarantine = $WORK/a-file" "$B:@L1: quarantine: $WORK/a-file exists and is not a directory"
printf '# added ports\nsmtp 2525\nsmtp 25x\n' >"$WORK/ports.bad"
bad "a ports file with a bad line" "ports_file = $WORK/ports.bad" "$WORK/ports.bad:3: invalid port '25x'"
printf 'smtp 2525\n\npop3 995\n' >"$WORK/ports.tls"
bad "a port the rules refuse" "ports_file = $WORK/ports.tls" \
	"$WORK/ports.tls:3: pop3 995: port 995 is POP3 over implicit TLS"
out=$("$BUILD/mailscanctl" check -c "$WORK/none.conf" 2>&1)
expect_eq "a file that is not there: exit" "$?" 1
case $out in "$WORK/none.conf: No such file or directory") ok "check: $out" ;; *) fail "missing file: $out" ;; esac
expect_eq "check [-c FILE] after the command" "$("$BUILD/mailscanctl" check -c "$CONF" 2>&1)" \
	"$CONF: ok (45 signatures, 2 protected ports; pop3_hold whole, pop3_action replace by default)"
# the POP3 action in effect: with only the end held, a notice cannot be sent; one named
# in the file is what applies
{ cat "$CONF"; echo "pop3_hold = end"; } >"$WORK/end.conf"
expect_eq "check: the action pop3_hold = end leaves" "$("$BUILD/mailscanctl" check -c "$WORK/end.conf" 2>&1)" \
	"$WORK/end.conf: ok (45 signatures, 2 protected ports; pop3_hold end, pop3_action reset by default)"
{ cat "$CONF"; echo "pop3_hold = end"; echo "pop3_action = delete"; } >"$WORK/named.conf"
expect_eq "check: a named action" "$("$BUILD/mailscanctl" check -c "$WORK/named.conf" 2>&1)" \
	"$WORK/named.conf: ok (45 signatures, 2 protected ports; pop3_hold end, pop3_action delete)"
# none of it reached the daemon
expect_eq "the daemon saw no reload" "$(stat reloads_ok)" $((reloads + 1))
