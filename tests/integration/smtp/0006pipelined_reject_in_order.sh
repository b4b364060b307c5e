#!/bin/bash
# With PIPELINING, the 554 for an infected message takes exactly the place of the
# server's reply to its end of data: after every reply to earlier commands, never read
# as another command's reply. Two transactions pipelined, clean then infected and
# infected then clean, in one segment and in two; each message's fate is what its client
# was told (every 250 a stored message, every 5xx one not stored, nothing twice).
# Gateway (IPv4, IPv6) and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
for k in plaineicar plainclean; do make_mail $k; done

# two ADDR FIRST SECOND MODE WANT: the end-of-data replies, the order, the store
two() {
	local before out
	before=$(delivered_count)
	out=$(in_c "$PY" "$SMTPSEND" two "$1" 25 "$WORK/$2.eml" "$WORK/$3.eml" "$4")
	[ "$out" = "$5 order-ok" ] || fail "$2 then $3 ($4) to $1: got '$out', want '$5 order-ok'"
	postfix_settle
	local stored=$(($(delivered_count) - before)) want=0
	case "$5" in "250 "*) want=1 ;; esac
	expect_eq "$2 then $3 ($4) to $1: $5; messages stored" "$stored" "$want"
	[ $want = 1 ] && { was_delivered "$2" || fail "$2 not stored intact"; }
	return 0
}

check() { # ADDR
	two "$1" plainclean plaineicar split "250 554"
	two "$1" plaineicar plainclean split "554 -"
	two "$1" plainclean plaineicar one "554 -"
	two "$1" plaineicar plainclean one "554 -"
}

start_daemon "queues = 0"
check $S4
check $S6
expect_eq "gateway: smtp_rejects" "$(stat smtp_rejects)" 8
stop_daemon
start_host_daemon "$NS_S"
check $S4
nothing_infected_stored
