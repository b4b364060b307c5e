#!/bin/bash
# TCP normalisation for POP3, where the bytes to scan come from the server: a hand-made
# POP3 server bends its segments towards a real client (python poplib). The infected
# body never completes (the client is reset within seconds); a clean one, and one whose
# trick the normalisation neutralised, is retrieved exactly as mailscand scanned it.
# Gateway mode (IPv4 and IPv6), then host mode on the client; then pop3_action = delete
# with a server that resets the connection rather than answer the DELE.
# (pop3_action = reset named: the default, replace, is pop3/0001's and pop3/0008's.)
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_daemon "queues = 0" "pop3_action = reset"
quiet_kernel "$NS_S"
for k in plaineicar plainclean bigplaineicar; do make_mail $k; done
# reset, never a timeout
R='reset \((ConnectionResetError|EOFError|error_proto)'
raw_pop3d_expect $S4 plaineicar urg ok
for t in syn badsum conflict-real-first paws; do
	raw_pop3d_expect $S4 plaineicar $t "$R"
done
raw_pop3d_expect $S4 bigplaineicar window "$R"
raw_pop3d_expect $S4 plaineicar fin "$R"
raw_pop3d_expect $S4 plaineicar rst "$R"
for t in urg syn badsum repack paws; do
	raw_pop3d_expect $S4 plainclean $t ok
done
for t in urg badsum conflict-real-first; do
	raw_pop3d_expect $S6 plaineicar $t "$(if [ $t = urg ]; then echo ok; else echo "$R"; fi)"
done
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 8
expect_eq "tcp_urg_cleared" "$(stat tcp_urg_cleared)" 3
expect_eq "tcp_syn_on_established" "$(stat tcp_syn_on_established)" 2
expect_eq "tcp_rst_ignored" "$(stat tcp_rst_ignored)" 1
for c in tcp_bad_checksum tcp_paws_dropped tcp_rewritten tcp_out_of_window tcp_data_after_close; do
	[ "$(stat $c)" -ge 1 ] || fail "$c not counted"
done
ok "gateway: every trick counted"

# host mode: the daemon protects the client's own downloads
stop_daemon
start_host_daemon "$NS_C" "pop3_action = reset"
for t in urg badsum syn paws; do
	raw_pop3d_expect $S4 plaineicar $t "$(if [ $t = urg ]; then echo ok; else echo "$R"; fi)"
done
raw_pop3d_expect $S4 plainclean badsum ok
expect_eq "host: pop3_messages_infected" "$(stat pop3_messages_infected)" 3

# pop3_action = delete, and the server resets the connection rather than answer the DELE
# sent in the client's place: the delete is unanswered (counted as refused), and nothing
# else is sent to either side (no SMTP reply on a POP3 connection)
stop_host_daemon "$NS_C"
start_daemon "queues = 0" "pop3_action = delete"
DELE_RST=1 raw_pop3d_expect $S4 plaineicar none "$R"
await_stat pop3_delete_refused 1
grep -q "action=delete result=unanswered proto=pop3 .*msg=1 client=reset" "$WORK/mailscand.log" ||
	fail "no unanswered delete logged"
expect_eq "delete: smtp_rejects" "$(stat smtp_rejects)" 0
expect_eq "delete: pop3_deletes" "$(stat pop3_deletes)" 0
