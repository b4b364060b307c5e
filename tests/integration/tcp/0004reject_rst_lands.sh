#!/bin/bash
# After a reject the server's connection is gone at once: the RST mailscand
# sends in the client's place carries exactly the server's next expected sequence
# number, so Linux takes it instead of answering with a challenge ACK. IPv4 and IPv6,
# with client data already pending behind the end of data (pipelined QUIT) or not;
# gateway and host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
make_mail eicar

# the server's connection is gone (one that the RST missed would stay for postfix's
# smtpd_timeout, 300 s, far past the wait)
released() { # WHAT
	server_released "$NS_S" 25 || fail "$1: the server still holds the connection: $(in_s ss -Htn '( sport = :25 )')"
	ok "$1: server connection released"
}

check_all() { # MODE
	local addr m out
	for addr in $S4 $S6; do
		for m in plain pipeline; do
			out=$(smtp_send $addr 25 eicar $m)
			case "$out" in
			"554 5.7.1 Virus found: MailscanTest."*) ;;
			*) fail "$1 $m to $addr: client got '$out'" ;;
			esac
			released "$1 $m to $addr"
		done
	done
}

start_daemon "queues = 0"
check_all gateway
expect_eq "gateway: smtp_rejects" "$(stat smtp_rejects)" 4
stop_daemon
start_host_daemon "$NS_S"
check_all host
expect_eq "host: smtp_rejects" "$(stat smtp_rejects)" 4
postfix_settle
expect_eq "nothing stored" "$(delivered_count)" 0
