#!/bin/bash
# STARTTLS sessions still deliver (the flow is passed through and offloaded, counted);
# a port added with `mailscanctl ports add smtp` is scanned at once, without restarting
# the daemon; IPv6 clients are scanned like IPv4 ones.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix 25 10025
start_daemon "queues = 0"
for k in clean eicar; do make_mail $k; done

expect_eq "STARTTLS session delivers" "$(smtp_send $S4 25 clean starttls)" "250 sent"
expect_eq "smtp_starttls" "$(stat smtp_starttls)" 1
[ "$(stat flows_offloaded)" -ge 1 ] || fail "the TLS flow was not offloaded"
ok "the TLS part left the queue"

# port 10025 is not protected yet: the infected mail goes through unscanned
expect_eq "unprotected port" "$(smtp_send $S4 10025 eicar smtplib)" "250 sent"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add smtp 10025 >/dev/null || fail "ports add"
out=$(smtp_send $S4 10025 eicar smtplib)
case "$out" in 554*) ok "added port scanned without a restart: $out" ;; *) fail "10025: $out" ;; esac
expect_eq "clean on the added port" "$(smtp_send $S4 10025 clean smtplib)" "250 sent"

out=$(smtp_send $S6 25 eicar smtplib)
case "$out" in 554*) ok "IPv6: $out" ;; *) fail "IPv6 eicar: $out" ;; esac
expect_eq "IPv6 clean" "$(smtp_send $S6 25 clean smtplib)" "250 sent"

postfix_settle
# stored: the TLS one, the unscanned one before the port was added, two clean ones
expect_eq "messages stored" "$(delivered_count)" 4
expect_eq "smtp_messages_infected" "$(stat smtp_messages_infected)" 2
