#!/bin/bash
# Differential test against the real servers: private postfix, exim4 and OpenSMTPD in
# the server namespace, each from its own configuration in $WORK, each storing to a
# maildir. tests/tools/spellings.py sends a table of spellings (DATA with white space,
# other separators, CR runs, case, bare LF, NUL, 8-bit, over-long lines and exim's
# pieces; the ends of data; BDAT sizes and LAST; a BDAT behind a refused DATA; RSET
# between chunks), each with an EICAR message marked by a unique token and a clean twin.
# First without interception: the table of what each server stores is printed, and
# the test proves that servers do take spellings besides the plain ones. Then through
# mailscand in gateway mode and in host mode: every infected message a server stored
# without mailscand is blocked (554 or reset) and never stored; every clean twin a
# server stored is stored again, byte-identical from its Subject line on.
. "$(dirname "$0")/../../lib.sh"
SP=$TOP/tests/tools/spellings.py
EX4=10.89.2.3 OS4=10.89.2.4
topology_gateway
ip -n "$NS_S" addr add $EX4/24 dev eth0
ip -n "$NS_S" addr add $OS4/24 dev eth0
PF_INTERFACES=$S4 start_postfix
start_exim $EX4
start_opensmtpd $OS4
SERVERS="postfix:$S4:$WORK/pf/mail/inbox exim:$EX4:$WORK/exim/maildir opensmtpd:$OS4:$WORK/os/maildir"
SPELLINGS=$("$PY" "$SP" list)

stored() { "$PY" "$SP" stored "$1" "$2"; }
# result RUN SERVER NAME KIND
result() { awk -v n="$3" -v k="$4" '$1 == n && $2 == k { print $4 }' "$WORK/$1.$2"; }

# runall RUN: every spelling to every server; then every message a server accepted is
# waited for in its maildir
runall() {
	local s name addr dir n k tok r
	for s in $SERVERS; do
		IFS=: read -r name addr dir <<<"$s"
		: >"$WORK/$1.$name"
		in_c "$PY" "$SP" run "$addr" "$1-$name" "$WORK/$1.$name" || fail "$1/$name: dialogues"
		while read -r n k tok r; do
			[ "$r" = accepted ] || continue
			await "$1/$name: $tok, accepted, in $dir" "$PY" "$SP" stored "$dir" "$tok" --must
		done <"$WORK/$1.$name"
	done
}

# --- without interception: what each server reads ---
runall plain
printf '%-20s %-11s %-10s %-10s %-10s\n' spelling class postfix exim opensmtpd
others=0
while read -r n cls; do
	line=$(printf '%-20s %-11s' "$n" "$cls")
	for s in $SERVERS; do
		name=${s%%:*}
		c=$(result plain "$name" "$n" clean)
		e=$(result plain "$name" "$n" eicar)
		[ "$c" = accepted ] && [ "$e" != accepted ] && fail "$name/$n: only the clean twin stored"
		[ "$e" = accepted ] && [ "$c" != accepted ] && fail "$name/$n: only the infected one stored"
		if [ "$e" = accepted ]; then
			line="$line $(printf '%-10s' stored)"
			[ "$cls" = control ] || others=$((others + 1))
		else
			line="$line $(printf '%-10s' -)"
		fi
	done
	echo "$line"
done <<<"$SPELLINGS"
for n in data end-crlf; do
	for s in postfix exim opensmtpd; do
		[ "$(result plain $s $n eicar)" = accepted ] || fail "$s did not store the plain $n"
	done
done
for s in postfix exim; do
	[ "$(result plain $s bdat eicar)" = accepted ] || fail "$s did not store the plain BDAT"
done
[ "$others" -gt 0 ] || fail "no server stored any spelling but the plain ones"
ok "servers store $others (server, spelling) pairs beyond the plain ones"

# check RUN: the same dialogues through mailscand
check() {
	local s name addr dir n cls k r base f0 f1 blocked=0 twins=0
	for s in $SERVERS; do
		IFS=: read -r name addr dir <<<"$s"
		while read -r n cls; do
			r=$(result "$1" "$name" "$n" eicar)
			base=$(result plain "$name" "$n" eicar)
			[ "$r" = accepted ] && fail "$1/$name/$n: infected message accepted"
			if [ "$base" = accepted ]; then
				case $r in 554 | reset) blocked=$((blocked + 1)) ;;
				*) fail "$1/$name/$n: infected message not blocked: $r" ;;
				esac
			fi
			[ -z "$(stored "$dir" "$1-$name-$n-eicar")" ] || fail "$1/$name/$n: infected message stored"
			[ "$(result plain "$name" "$n" clean)" = accepted ] || continue
			[ "$(result "$1" "$name" "$n" clean)" = accepted ] ||
				fail "$1/$name/$n: clean twin not accepted: $(result "$1" "$name" "$n" clean)"
			f0=$(stored "$dir" "plain-$name-$n-clean")
			f1=$(stored "$dir" "$1-$name-$n-clean")
			"$PY" "$SP" same "$f0" "$f1" "plain-$name-$n-clean" "$1-$name-$n-clean" ||
				fail "$1/$name/$n: clean twin stored differently"
			twins=$((twins + 1))
		done <<<"$SPELLINGS"
	done
	ok "$1: $blocked infected messages the servers stored were blocked; $twins clean twins stored byte-identical"
}

# --- gateway mode ---
start_daemon "queues = 0"
runall gw
postfix_settle
check gw
cand_gw=$(stat smtp_candidates)
stop_daemon

# --- host mode: mailscand on the server ---
start_host_daemon "$NS_S"
runall host
postfix_settle
check host
kill "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
in_s "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null
[ "$cand_gw" -gt 0 ] || fail "no candidate scanned in gateway mode"
ok "candidates scanned in gateway mode: $cand_gw"
