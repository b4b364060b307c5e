#!/bin/bash
# Insertions: a reset or a FIN that mailscand sees but the server never gets. A drop
# rule for TTL 1 in the server's namespace stands for the next hop; the hand-made
# client sends its RST (at rcv_nxt) or FIN with TTL 2, waits longer than every linger
# (65 s), then sends the infected rest. Without min_ttl the insertion expires: the reset
# flow stays a tombstone and then is mid-stream, the FIN never acknowledged counts for
# nothing: either way the rest resets both sides. With min_ttl (the default) the
# insertion reaches the server. A reset carrying a TCP MD5 option, which Linux drops on
# a connection that has none, is dropped and counted, and the rest is scanned (554; a
# clean message arrives intact). The infected message is never stored and the server's
# connection is released. Gateway mode, IPv4 (and the hop limit with IPv6); the MD5
# reset in host mode too.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
quiet_kernel "$NS_C"
for k in plaineicar plainclean; do make_mail $k; done
next_hop "$NS_S"
expired() { next_hop_expired "$NS_S" ip; }
expired6() { next_hop_expired "$NS_S" ip6; }
V='554 5\.7\.1 Virus found: MailscanTest\.EICAR'

# without min_ttl, the RST and the FIN expire on the way; both wait past every linger
start_daemon "queues = 0" "min_ttl = 0" "midstream_grace = 5"
raw_smtp_expect in_c $S4 plaineicar rstmd5 "$V"
raw_smtp_expect in_c $S4 plainclean rstmd5 250
expect_eq "tcp_auth_dropped" "$(stat tcp_auth_dropped)" 2
(raw_smtp in_c $S4 plaineicar rstttl >"$WORK/rstttl.out") &
p1=$!
(raw_smtp in_c $S4 plaineicar finttl >"$WORK/finttl.out") &
p2=$!
wait $p1 $p2
expect_eq "expired RST, then the rest: reset" "$(cat "$WORK/rstttl.out")" reset
expect_eq "expired FIN, then the rest: reset" "$(cat "$WORK/finttl.out")" reset
[ "$(expired)" -ge 2 ] || fail "the insertions did not expire before the server: $(expired)"
ok "both insertions expired before the server ($(expired) packets)"
server_released "$NS_S" 25 || fail "the server's connections are left open"
ok "the server's connections are released"
[ "$(stat midstream_reset)" -ge 1 ] || fail "midstream_reset $(stat midstream_reset)"
[ "$(stat tcp_data_after_close)" -ge 1 ] || fail "tcp_data_after_close $(stat tcp_data_after_close)"
expect_eq "tcp_ttl_raised" "$(stat tcp_ttl_raised)" 0
stop_daemon

# with min_ttl: what mailscand took reaches the server
n0=$(expired)
start_daemon "queues = 0"
LINGER=2 raw_smtp_expect in_c $S4 plaineicar rstttl 'reset'
# the server has the FIN: it may close first (postfix ends the session at EOF in DATA)
LINGER=2 raw_smtp_expect in_c $S4 plaineicar finttl 'reset|closed'
expect_eq "nothing expired with min_ttl" "$(expired)" "$n0"
# IPv6: the hop limit
h0=$(expired6)
LINGER=2 raw_smtp_expect in_c $S6 plaineicar rstttl 'reset'
expect_eq "IPv6: nothing expired with min_ttl" "$(expired6)" "$h0"
[ "$(stat tcp_ttl_raised)" -ge 2 ] || fail "tcp_ttl_raised $(stat tcp_ttl_raised)"
ok "TTLs raised: $(stat tcp_ttl_raised)"
grep -q "tcp TTL below min_ttl: raised" "$WORK/mailscand.log" || fail "not logged"
stop_daemon

# host mode: the MD5 reset
start_host_daemon "$NS_S"
raw_smtp_expect in_c $S4 plaineicar rstmd5 "$V"
expect_eq "host: tcp_auth_dropped" "$(stat tcp_auth_dropped)" 1

postfix_settle
nothing_infected_stored
