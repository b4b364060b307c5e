#!/bin/bash
# libclamav is opened at run time by the processes that scan. Where it cannot be loaded
# (here: the library file hidden by an empty file, in a mount namespace of the test's
# own), `mailscanctl check` and `mailscand -t` fail with the library's own error, and a
# daemon with local scanners does not start: it exits with that error, never a daemon
# that answers and passes mail unscanned. With the library back, the same file runs
# and scans.
. "$(dirname "$0")/../../lib.sh"
lib=$(ldconfig -p | awk '/libclamav\.so\.[0-9]+ / {print $NF; exit}')
[ -e "$lib" ] || fail "no libclamav in ldconfig's cache"
# CMD...: in a mount namespace of its own where the library is an empty file
NOLIB=(unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib")
topology_gateway
start_postfix
write_config "queues = 0"

out=$("${NOLIB[@]}" "$BUILD/mailscanctl" check -c "$CONF" 2>&1)
expect_eq "check without libclamav: exit" "$?" 1
case $out in *"$CONF:"*"database: libclamav: $lib: file too short"*) ok "check: $out" ;;
*) fail "check without libclamav: $out" ;; esac
out=$("${NOLIB[@]}" "$BUILD/mailscand" -t -c "$CONF" 2>&1)
expect_eq "mailscand -t without libclamav: exit" "$?" 1
case $out in *"libclamav: $lib: file too short"*) ok "mailscand -t: $out" ;;
*) fail "mailscand -t without libclamav: $out" ;; esac

# the daemon itself: it ends with the error, and nothing answers on its control socket
in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "rules install"
timeout 60 ip netns exec "$NS_G" "${NOLIB[@]}" "$BUILD/mailscand" -c "$CONF" 2>"$WORK/nolib.log"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "mailscand without libclamav: exit $rc: $(cat "$WORK/nolib.log")"
grep -q "libclamav: $lib: file too short" "$WORK/nolib.log" ||
	fail "mailscand without libclamav did not say why: $(cat "$WORK/nolib.log")"
ok "mailscand without libclamav exits $rc: $(grep -m1 'libclamav' "$WORK/nolib.log")"
ctl status >/dev/null 2>&1 && fail "a control socket answers"
in_g "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null

# the same file with the library in place
out=$("$BUILD/mailscanctl" check -c "$CONF" 2>&1) || fail "check with libclamav: $out"
start_daemon "queues = 0"
make_mail clean
make_mail eicar
expect_eq "clean mail" "$(smtp_send $S4 25 clean smtplib)" "250 sent"
case "$(smtp_send $S4 25 eicar smtplib)" in 554*) ok "EICAR rejected" ;; *) fail "eicar" ;; esac
await_delivered 1
was_delivered clean || fail "the clean message not stored as sent"
stop_daemon
