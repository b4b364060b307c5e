#!/usr/bin/python3
"""A mixed SMTP load: clean mail with infected or test-trigger mail among it.

send HOST PORT CONNS DIR SPEC: SPEC is KIND:COUNT[,KIND:COUNT...] with KIND one of clean,
  eicar, or any other word, which becomes a trigger pattern (MAILSCAN-<WORD>-TRIGGER in the
  body; e.g. crash with test_crash = MAILSCAN-CRASH-TRIGGER). Writes each message as
  DIR/KIND.N.eml, deals them round-robin over CONNS connections sent at once, and on a
  refusal or a broken connection opens a new one for the next message. Writes
  DIR/results with a line per message: FILE accepted | refused REPLY. Prints:
  KIND_accepted=N KIND_refused=N for each kind.
verify DIR MAILDIR: every accepted clean message is stored exactly once and intact
  (postfix adds trace headers on top and stores LF), and no message of another kind is
  stored. Prints: clean_stored= clean_missing= clean_altered= others_stored=; exits 1 on
  any miss.
Every socket operation times out after 60 s.
"""
import base64
import os
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailload  # noqa: E402  (the maildir check, shared)

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


def make(kind, i, tag):
    if kind == "clean":
        body = f"clean message {i}\r\n".encode() + base64.encodebytes(os.urandom(3000)).replace(
            b"\n", b"\r\n")
    elif kind == "eicar":
        body = (b"see the attachment\r\n--B\r\nContent-Type: application/octet-stream; "
                b"name=\"eicar.com\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(EICAR).replace(b"\n", b"\r\n") + b"--B--\r\n")
    else:
        body = f"MAILSCAN-{kind.upper()}-TRIGGER in message {i}\r\n".encode()
    head = (f"From: a@example.org\r\nTo: b@example.org\r\nSubject: {kind} {i}\r\n"
            f"Message-ID: <{kind}.{i}.{tag}@example.org>\r\nMIME-Version: 1.0\r\n")
    if kind == "eicar":
        head += "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n" \
                "Content-Type: text/plain\r\n"
    return head.encode() + b"\r\n" + body


def send(host, port, conns, d, spec):
    os.makedirs(d, exist_ok=True)
    tag = time.time_ns()
    files = []
    for part in spec.split(","):
        kind, count = part.split(":")
        for i in range(int(count)):
            path = os.path.join(d, f"{kind}.{i}.eml")
            with open(path, "wb") as f:
                f.write(make(kind, i, tag))
            files.append(path)
    # interleave the kinds, so every connection carries some of each
    files.sort(key=lambda p: int(p.rsplit(".", 2)[1]))
    results, lock = {}, threading.Lock()

    def one(mine):
        c = None
        for path in mine:
            msg = open(path, "rb").read()
            try:
                if c is None:
                    c = smtplib.SMTP(host, int(port), local_hostname="client.example.org", timeout=DEADLINE)
                    c.ehlo("client.example.org")
                c.sendmail("a@example.org", ["b@example.org"], msg)
                out = "accepted"
            except smtplib.SMTPResponseException as e:
                out = f"refused {e.smtp_code} {e.smtp_error.decode(errors='replace')}"
                c = None
            except (smtplib.SMTPException, OSError) as e:
                out = f"refused {e!r}"
                c = None
            with lock:
                results[path] = out
        if c is not None:
            try:
                c.quit()
            except (smtplib.SMTPException, OSError):
                pass

    th = [threading.Thread(target=one, args=(files[i::conns],)) for i in range(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    counts = {}
    with open(os.path.join(d, "results"), "w") as f:
        for path in files:
            kind = os.path.basename(path).split(".")[0]
            verdict = results.get(path, "refused (not sent)")
            f.write(f"{os.path.basename(path)} {verdict}\n")
            key = f"{kind}_{verdict.split()[0]}"
            counts[key] = counts.get(key, 0) + 1
    print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))


def verify(d, maildir):
    got = mailload.delivered(maildir)
    stored = missing = altered = others = 0
    for path in mailload.messages(d):
        sent, copies = mailload.sent_copies(path, got)
        if not os.path.basename(path).startswith("clean."):
            others += len(copies)
        elif not copies:
            missing += 1
        elif len(copies) == 1 and copies[0].endswith(sent):
            stored += 1
        else:
            altered += 1
    print(f"clean_stored={stored} clean_missing={missing} clean_altered={altered} "
          f"others_stored={others}")
    return 0 if missing == altered == others == 0 else 1


def main():
    a = sys.argv[1:]
    if a[:1] == ["send"] and len(a) == 6:
        send(a[1], a[2], int(a[3]), a[4], a[5])
    elif a[:1] == ["verify"] and len(a) == 3:
        return verify(a[1], a[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
