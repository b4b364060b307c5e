#!/bin/bash
# A real MTA as the client: a second postfix in the client namespace relays mail to the
# server through the gateway, with PIPELINING (smtp_pipelining, its default) and its
# connection cache. Each message's fate is what that MTA was told: every clean one is
# stored once, every infected one bounced with the 554 and never stored, nothing
# deferred, nothing twice.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
start_daemon "queues = 0"

# the relay: loopback only, everything to the server
pfc=$WORK/pfc
postfix_instance "$pfc" in_c <<CF
myhostname = relay.example.com
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [$S4]:25
smtp_pipelining = yes
bounce_queue_lifetime = 0
default_destination_concurrency_limit = 1
CF
await "the relay listening" listening "$NS_C" 25

kinds="clean plaineicar stuffed eicar plainclean zip"
for k in $kinds; do make_mail $k; done
for k in $kinds; do
	out=$(in_c "$PY" "$SMTPSEND" send 127.0.0.1 25 "$WORK/$k.eml" smtplib)
	[ "$out" = "250 sent" ] || fail "relay refused $k: $out"
done
# the relay delivers them: wait until its queue is empty
await "the relay's queue empty" sh -c "! find '$pfc/queue/active' '$pfc/queue/incoming' \
	'$pfc/queue/deferred' -type f 2>/dev/null | grep ."
postfix_settle
in_c postfix -c "$pfc/etc" stop >/dev/null 2>&1 || true

rejected=$(grep -c "said: 554 5.7.1 Virus found: MailscanTest" "$pfc/maillog")
at_eod=$(grep -c "said: 554 5.7.1 Virus found: MailscanTest.*in reply to end of DATA command" "$pfc/maillog")
sent=$(grep -c "relay=$S4.*status=sent" "$pfc/maillog")
deferred=$(grep -c "status=deferred" "$pfc/maillog")
# each infected message is bounced, and so is the relay's bounce notice, which carries it
expect_eq "infected bounced with the 554 (and their bounce notices)" "$rejected" 6
expect_eq "every 554 read as the reply to the end of DATA" "$at_eod" "$rejected"
expect_eq "clean relayed" "$sent" 3
expect_eq "nothing deferred" "$deferred" 0
expect_eq "stored at the server" "$(delivered_count)" 3
# the relay adds headers of its own (Date, Received): the bodies arrive byte-identical
for k in clean stuffed plainclean; do
	"$PY" - "$WORK/$k.eml" $(delivered) <<'PY' || fail "$k not stored intact"
import sys
sent = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head, body = sent.split(b"\n\n", 1)
mid = [l for l in head.split(b"\n") if l.startswith(b"Message-ID:")][0]
hits = [f for f in sys.argv[2:] if open(f, "rb").read().endswith(body) and mid in open(f, "rb").read()]
sys.exit(0 if len(hits) == 1 else 1)
PY
done
nothing_infected_stored
[ "$(grep -c "EICAR\|clam.zip" "$WORK"/pf/mail/inbox/new/* 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')" = 0 ] ||
	fail "an infected part stored"
ok "every message's fate is what the relay was told"
