#!/bin/bash
# What clients and attackers send besides plain DATA: PIPELINING, BDAT/CHUNKING, 1-byte
# segments, the end of data split across segments, content sent before the 354, "DATA "
# and BDAT with tabs (postfix takes both), and
# SMTP smuggling (a bare-LF/CR end of data with a second transaction behind it). Clean
# mail still arrives intact; nothing infected is ever stored.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0"
for k in clean stuffed eicar zip; do make_mail $k; done

infected() { # MODE KIND [KIND2]
	local out
	out=$(smtp_send $S4 25 "$2" "$1" $3)
	case "$out" in
	*"554 5.7.1 Virus found: MailscanTest."*) ok "$1 $2${3:+ behind $3}: $out" ;;
	*) fail "$1 $2: client got '$out'" ;;
	esac
}
clean() { # MODE KIND
	local out
	out=$(smtp_send $S4 25 "$2" "$1")
	case "$out" in
	250*) ok "$1 $2: $out" ;;
	*) fail "$1 $2: client got '$out'" ;;
	esac
}

for mode in pipeline bdat bytes splitend early dataspace bdattab; do
	clean $mode stuffed
	infected $mode eicar
done
infected bdat zip
infected pipeline zip
# smuggling: a clean message ends with a bare line ending; the infected one follows
for mode in lflf lfcrlf crcrlf; do
	out=$(smtp_send $S4 25 clean $mode eicar)
	echo "$mode: $out"
done

postfix_settle
for f in $(delivered); do
	grep -q "EICAR-STANDARD" "$f" && fail "EICAR stored in $f"
	grep -q "clam.zip" "$f" && fail "clam.zip stored in $f"
done
ok "nothing infected stored ($(delivered_count) clean messages delivered)"
was_delivered stuffed || fail "stuffed not delivered intact"
[ "$(stat smtp_bdat_messages)" -ge 3 ] || fail "BDAT messages not counted"
[ "$(stat smtp_pipelined)" -ge 4 ] || fail "pipelined commands not counted"
[ "$(stat smtp_bare_line_ends)" -ge 3 ] || fail "bare line ends not counted"
[ "$(stat smtp_candidates)" -ge 6 ] || fail "smuggled candidates not scanned"
ok "BDAT, pipelining, bare line ends and candidates counted"
