#!/bin/bash
# Insertions against a POP3 client: a hostile server (rawtcp.py pop3d) sends half of
# its RETR response, then a reset (at the client's rcv_nxt) or a FIN that mailscand sees
# but the client never gets: a drop rule for TTL 1 (hop limit 1) in the client's
# namespace stands for the next hop, and the insertion leaves with TTL 2. The server
# waits longer than every linger (65 s), then sends the infected rest. Without min_ttl
# the insertion expires: the reset flow stays a tombstone and then is mid-stream, the
# FIN never acknowledged counts for nothing: either way the rest resets both sides and
# the client (poplib) never completes the message. With min_ttl (the default) the
# insertion reaches the client, which ends there. A reset carrying a TCP MD5 option,
# which Linux drops on a connection that has none, is dropped and counted, and the rest
# is scanned: infected, reset; clean, retrieved byte-identical. The server's connection
# always ends. Gateway mode, IPv4 and IPv6; the MD5 reset in host mode (on the client)
# too.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
quiet_kernel "$NS_S"
for k in plaineicar plainclean; do make_mail $k; done
next_hop "$NS_C"
expired() { next_hop_expired "$NS_C" "$1"; }
# reset (or, for a FIN that reached the client, its end), never a timeout
R='reset \((ConnectionResetError|EOFError|error_proto)'

# without min_ttl, the RST and the FIN expire on the way; both wait past every linger
start_daemon "queues = 0" "pop3_action = reset" "min_ttl = 0" "midstream_grace = 5"
raw_pop3d_expect $S4 plaineicar rstmd5 "$R"
raw_pop3d_expect $S4 plainclean rstmd5 ok
expect_eq "tcp_auth_dropped" "$(stat tcp_auth_dropped)" 2
# the client and the server wait longer than the linger: their own timeouts (DEADLINE)
# are not what ends the connection
L=$((DEADLINE + 90))
(export DEADLINE=$L && raw_pop3d_expect $S4 plaineicar rstttl 'reset \(ConnectionResetError' >"$WORK/rstttl.out" 2>&1) &
p1=$!
(export DEADLINE=$L && raw_pop3d_expect $S6 plaineicar finttl 'reset \(ConnectionResetError' >"$WORK/finttl.out" 2>&1) &
p2=$!
wait $p1 || fail "expired RST over IPv4: $(cat "$WORK/rstttl.out")"
cat "$WORK/rstttl.out"
wait $p2 || fail "expired FIN over IPv6: $(cat "$WORK/finttl.out")"
cat "$WORK/finttl.out"
[ "$(expired ip)" -ge 1 ] || fail "the RST did not expire before the client: $(expired ip)"
[ "$(expired ip6)" -ge 1 ] || fail "the FIN did not expire before the client: $(expired ip6)"
ok "both insertions expired before the client"
[ "$(stat midstream_reset)" -ge 1 ] || fail "midstream_reset $(stat midstream_reset)"
[ "$(stat tcp_data_after_close)" -ge 1 ] || fail "tcp_data_after_close $(stat tcp_data_after_close)"
ok "the rest after the expired RST: mid-stream, reset; after the expired FIN: data after close, reset"
expect_eq "tcp_ttl_raised" "$(stat tcp_ttl_raised)" 0
expect_eq "pop3_messages_infected (the MD5 reset's)" "$(stat pop3_messages_infected)" 1
stop_daemon

# with min_ttl: what mailscand took reaches the client, which ends there
n4=$(expired ip) n6=$(expired ip6)
start_daemon "queues = 0" "pop3_action = reset"
for a in $S4 $S6; do
	LINGER=2 raw_pop3d_expect $a plaineicar rstttl 'reset \(ConnectionResetError'
	LINGER=2 raw_pop3d_expect $a plaineicar finttl "$R"
done
expect_eq "IPv4: nothing expired with min_ttl" "$(expired ip)" "$n4"
expect_eq "IPv6: nothing expired with min_ttl" "$(expired ip6)" "$n6"
[ "$(stat tcp_ttl_raised)" -ge 4 ] || fail "tcp_ttl_raised $(stat tcp_ttl_raised)"
ok "TTLs raised: $(stat tcp_ttl_raised)"
grep -q "tcp TTL below min_ttl: raised" "$WORK/mailscand.log" || fail "not logged"
stop_daemon

# host mode, on the client: the MD5 reset
start_host_daemon "$NS_C" "pop3_action = reset"
raw_pop3d_expect $S4 plaineicar rstmd5 "$R"
raw_pop3d_expect $S4 plainclean rstmd5 ok
expect_eq "host: tcp_auth_dropped" "$(stat tcp_auth_dropped)" 2
expect_eq "host: pop3_messages_infected" "$(stat pop3_messages_infected)" 1
expect_eq "host: pop3_messages_clean" "$(stat pop3_messages_clean)" 1
