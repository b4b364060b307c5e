#!/bin/bash
# Host mode (the daemon on the mail server itself): 100 clean mails over 10 concurrent
# connections are all delivered intact and the counters equal what was sent; an
# infected mail in the same run is rejected with a 554 and not stored.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
start_postfix
write_config "queues = 0" "mode = host" "workers = 2"
in_s "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "rules install"
bg in_s "$BUILD/mailscand" -c "$CONF" 2>>"$WORK/mailscand.log"
wait_for ctl status || fail "mailscand"
make_mail eicar

in_c "$PY" - "$S4" "$WORK/sent" <<'PY' || fail "concurrent sends"
import os, smtplib, sys, threading
from email.message import EmailMessage
host, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
errors = []
def conn(c):
    try:
        with smtplib.SMTP(host, 25, timeout=60) as s:
            for i in range(10):
                m = EmailMessage()
                m["From"], m["To"] = "a@example.org", "b@example.org"
                m["Subject"] = f"load {c}.{i}"
                m["Message-ID"] = f"<load.{c}.{i}@example.org>"
                m.set_content(f"message {c}.{i}\n" + os.urandom(3000).hex() + "\n")
                raw = m.as_bytes(policy=m.policy.clone(linesep="\r\n"))
                open(f"{out}/{c}.{i}.eml", "wb").write(raw)
                s.sendmail("a@example.org", ["b@example.org"], raw)
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=conn, args=(c,)) for c in range(10)]
[t.start() for t in ts]
[t.join() for t in ts]
print("errors:", errors)
sys.exit(1 if errors else 0)
PY
ok "100 mails over 10 concurrent connections accepted"
out=$(smtp_send $S4 25 eicar smtplib)
case "$out" in 554*) ok "infected rejected in host mode: $out" ;; *) fail "eicar: $out" ;; esac

postfix_settle
"$PY" - "$WORK/sent" "$WORK/pf/mail/inbox/new" <<'PY' || fail "not every mail arrived intact"
import os, sys
sent, box = sys.argv[1], sys.argv[2]
got = [open(os.path.join(box, f), "rb").read() for f in os.listdir(box)]
missing = [f for f in os.listdir(sent)
           if not any(g.endswith(open(os.path.join(sent, f), "rb").read().replace(b"\r\n", b"\n"))
                      for g in got)]
print(f"sent={len(os.listdir(sent))} stored={len(got)} missing={missing[:5]}")
sys.exit(1 if missing or len(got) != 100 else 0)
PY
ok "all 100 stored byte-identical, nothing else"
expect_eq "smtp_messages_clean" "$(stat smtp_messages_clean)" 100
expect_eq "smtp_messages_infected" "$(stat smtp_messages_infected)" 1
expect_eq "smtp_transactions" "$(stat smtp_transactions)" 101
expect_eq "smtp_sessions" "$(stat smtp_sessions)" 11
expect_eq "scans" "$(stat scans)" 101
expect_eq "holds_total" "$(stat holds_total)" 101
expect_eq "holds_current" "$(stat holds_current)" 0
