#!/bin/bash
# pop3_action = replace with pop3_hold = whole (gateway mode: the action the file leaves
# to its default with that hold; host mode: named): an infected message reaches the client
# as a notice of exactly its length (From mailscan, "[virus removed]" and the original
# Subject, the original Date and Message-ID, X-Mailscan-Virus, the quarantine name),
# and the original goes to the quarantine. poplib reads [clean, infected, clean] whole;
# TOP of the infected one gives the notice too; fetchmail deleting after download (into
# an MDA) empties the mailbox, so the server keeps no infected message, and no file it
# wrote holds EICAR. Counted and logged. Real dovecot, gateway mode, then host mode.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_dovecot
for k in clean bigplaineicar stuffed; do make_mail $k; done
# the three messages, under new names each time (dovecot's index knows the old ones)
seed() { # GENERATION
	local f i=0
	for f in clean bigplaineicar stuffed; do
		i=$((i + 1))
		tr -d '\r' <"$WORK/$f.eml" >"$WORK/dc/home/alice/Maildir/cur/${1}0000000$i.M$i.test:2,"
	done
	chown -R nobody:nogroup "$WORK/dc/home"
}
seed 1
same() { cmp -s <(tr -d '\r' <"$WORK/$1.eml") <(tr -d '\r' <"$2"); }
V=MailscanTest.EICAR.UNOFFICIAL

# check_notice FILE: the notice of the EICAR message, as the client stored it
check_notice() {
	local subj mid date
	subj=$(sed -n 's/^Subject: \(.*\)\r$/\1/p' "$WORK/bigplaineicar.eml")
	mid=$(sed -n 's/^Message-ID: \(.*\)\r$/\1/p' "$WORK/bigplaineicar.eml")
	grep -q "^From: mailscan" "$1" || fail "notice: no From mailscan"
	grep -qF "Subject: [virus removed] $subj" "$1" || fail "notice: Subject"
	grep -qF "Message-ID: $mid" "$1" || fail "notice: Message-ID"
	grep -q "^X-Mailscan-Virus: $V" "$1" || fail "notice: X-Mailscan-Virus"
	grep -q "quarantine as" "$1" || fail "notice: no quarantine name"
	grep -q "EICAR-STANDARD" "$1" && fail "notice: EICAR in it"
	ok "the notice names the virus and the quarantine, with the original's headers"
}

run_checks() { # MODE
	mkdir -p "$WORK/got.$1"
	expect_eq "$1: poplib reads all three" \
		"$(in_c "$PY" "$POP3GET" retr $S4 110 "$WORK/got.$1" 1 2 3)" "1 ok
2 ok
3 ok"
	same clean "$WORK/got.$1/1" || fail "$1: clean differs"
	same stuffed "$WORK/got.$1/3" || fail "$1: the dot-stuffed one differs"
	check_notice "$WORK/got.$1/2"
	expect_eq "$1: the notice has the original's length" "$(wc -c <"$WORK/got.$1/2")" \
		"$(wc -c <"$WORK/bigplaineicar.eml")"
	expect_eq "$1: TOP of it is the notice too" \
		"$(in_c "$PY" "$POP3GET" top $S4 110 2 100000)" "ok $(wc -c <"$WORK/bigplaineicar.eml")"
	grep -q "action=replace result=replaced proto=pop3 flow=.* user=alice msg=2 virus=$V quarantine=[0-9TZ]*-[0-9]*-[0-9]*" \
		"$WORK/mailscand.log" || fail "$1: the replacement is not logged"
	qid=$(grep -o '[0-9]\{8\}T[0-9]\{6\}Z-[0-9]*-[0-9]*' "$WORK/got.$1/2" | head -n 1)
	[ -n "$qid" ] || fail "$1: the notice names no quarantine file"
	same bigplaineicar "$WORK/quarantine/$qid.eml" ||
		fail "$1: the quarantine file the notice names ($qid) is not the original"
	ok "$1: the notice names the quarantine file that holds the original ($qid)"

	# fetchmail deletes after download: the mailbox ends empty
	fetchmail_mda "$WORK/fm.$1"
	expect_eq "$1: fetchmail stored three messages" "$(ls "$WORK/fm.$1"/m.* | wc -l)" 3
	expect_eq "$1: none holds EICAR" "$(grep -l EICAR-STANDARD "$WORK/fm.$1"/m.* | wc -l)" 0
	expect_eq "$1: one is the notice" "$(grep -l '^Subject: \[virus removed\]' "$WORK/fm.$1"/m.* | wc -l)" 1
	expect_eq "$1: the mailbox is empty, the infected original gone from the server" \
		"$(mailbox_count)" 0
}

start_daemon "queues = 0" "pop3_hold = whole" # pop3_action: the default
run_checks gateway
expect_eq "pop3_replaced" "$(stat pop3_replaced)" 3
expect_eq "pop3_messages_infected" "$(stat pop3_messages_infected)" 3
stop_daemon

seed 2
start_host_daemon "$NS_C" "queues = 0" "pop3_hold = whole" "pop3_action = replace"
run_checks host
expect_eq "host: pop3_replaced" "$(stat pop3_replaced)" 3
