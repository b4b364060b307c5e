#!/usr/bin/python3
"""Mail load for the end-to-end benchmark.

make DIR COUNT SIZE TAG: writes COUNT unique MIME messages of about SIZE bytes (a text
  part and a base64 attachment of random bytes) as DIR/NNNN.eml, CRLF line ends.
smtp HOST PORT CONNS DIR: sends every DIR/*.eml from a@example.org to b@example.org over
  CONNS connections at once (messages dealt round-robin), one transaction after another on
  each. Prints: msgs= failed= bytes= wall= p50= p95= (seconds; latency from MAIL FROM to
  the final reply of the message).
pop3 HOST PORT DIR: as alice/secret, RETR 1..N in turn, compares each with DIR's N-th
  message. Prints the same fields; failed counts missing or altered messages.
verify DIR MAILDIR: each DIR message must be the end of exactly one delivered file (postfix
  adds its trace headers on top and stores lines with LF). Prints: ok= missing= altered=
Every socket operation times out after 120 s.
"""
import base64
import glob
import os
import poplib
import smtplib
import sys
import threading
import time

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))


def make(d, count, size, tag):
    os.makedirs(d, exist_ok=True)
    for i in range(count):
        raw = os.urandom(size * 57 // 78)  # base64: 76 characters and CRLF per 57 bytes
        b64 = base64.encodebytes(raw).replace(b"\n", b"\r\n")
        head = (f"From: a@example.org\r\nTo: b@example.org\r\nSubject: load {tag} {i}\r\n"
                f"Message-ID: <{tag}.{i}.{time.time_ns()}@example.org>\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
                "Content-Type: text/plain\r\n\r\n"
                f"message {i} of {tag}, see the attachment.\r\n--B\r\n"
                "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n").encode()
        with open(os.path.join(d, f"{i:04d}.eml"), "wb") as f:
            f.write(head + b64 + b"--B--\r\n")


def messages(d):
    return sorted(glob.glob(os.path.join(d, "*.eml")))


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))] if v else 0.0


def report(lat, failed, nbytes, wall):
    print(f"msgs={len(lat)} failed={failed} bytes={nbytes} wall={wall:.3f} "
          f"p50={pct(lat, 0.5):.4f} p95={pct(lat, 0.95):.4f}")


def smtp(host, port, conns, d):
    files = messages(d)
    lat, errors, lock = [], [], threading.Lock()

    def one(mine):
        try:
            with smtplib.SMTP(host, int(port), local_hostname="client.example.org", timeout=2 * DEADLINE) as c:
                c.ehlo("client.example.org")
                for path in mine:
                    msg = open(path, "rb").read()
                    t = time.monotonic()
                    c.sendmail("a@example.org", ["b@example.org"], msg)
                    with lock:
                        lat.append(time.monotonic() - t)
        except Exception as e:  # counted: the benchmark reports failures, never hides them
            with lock:
                errors.append(repr(e))

    t0 = time.monotonic()
    th = [threading.Thread(target=one, args=(files[i::conns],)) for i in range(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.monotonic() - t0
    for e in errors:
        print("error:", e, file=sys.stderr)
    report(lat, len(files) - len(lat), sum(os.path.getsize(f) for f in files), wall)


def pop3(host, port, d):
    files = messages(d)
    lat, failed = [], 0
    t0 = time.monotonic()
    c = poplib.POP3(host, int(port), timeout=2 * DEADLINE)
    c.user("alice")
    c.pass_("secret")
    for i, path in enumerate(files, 1):
        t = time.monotonic()
        try:
            _, lines, _ = c.retr(i)
        except poplib.error_proto as e:
            print("error:", e, file=sys.stderr)
            failed += 1
            continue
        lat.append(time.monotonic() - t)
        if b"\r\n".join(lines) + b"\r\n" != open(path, "rb").read():
            print(f"error: message {i} altered", file=sys.stderr)
            failed += 1
    c.quit()
    wall = time.monotonic() - t0
    report(lat, failed, sum(os.path.getsize(f) for f in files), wall)


def header(data, name):
    for line in data.split(b"\n\n", 1)[0].split(b"\n"):
        if line.lower().startswith(name + b":"):
            return line.split(b":", 1)[1].strip()
    return None


def delivered(maildir):
    """The stored messages by Message-ID: a list of each one's copies."""
    got = {}
    for path in glob.glob(os.path.join(maildir, "*")):
        data = open(path, "rb").read()
        got.setdefault(header(data, b"message-id"), []).append(data)
    return got


def sent_copies(path, got):
    """What was sent as PATH (with LF line ends, as stored) and its stored copies."""
    sent = open(path, "rb").read().replace(b"\r\n", b"\n")
    return sent, got.get(header(sent, b"message-id"), [])


def verify(d, maildir):
    got = delivered(maildir)
    ok = missing = altered = 0
    for path in messages(d):
        sent, copies = sent_copies(path, got)
        if not copies:
            missing += 1
        elif len(copies) == 1 and copies[0].endswith(sent):
            ok += 1
        else:
            altered += 1
    print(f"ok={ok} missing={missing} altered={altered}")
    return 0 if missing == altered == 0 else 1


def main():
    a = sys.argv[1:]
    if a[:1] == ["make"] and len(a) == 5:
        make(a[1], int(a[2]), int(a[3]), a[4])
    elif a[:1] == ["smtp"] and len(a) == 5:
        smtp(a[1], a[2], int(a[3]), a[4])
    elif a[:1] == ["pop3"] and len(a) == 4:
        pop3(a[1], a[2], a[3])
    elif a[:1] == ["verify"] and len(a) == 3:
        return verify(a[1], a[2])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
