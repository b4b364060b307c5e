#!/usr/bin/python3
"""SMTP client for the integration tests.

make KIND OUT: writes a test message: clean, stuffed (lines starting with dots),
  big (5 MiB attachment), eicar (EICAR in a base64 MIME attachment), zip (ClamAV's
  clam.zip attached), mbox (clam.exe.mbox.base64 as a message), plaineicar (EICAR in
  the plain text body), plainclean, bigplaineicar and bigplainclean (the same after
  400 KB of text), earlyeicar (EICAR in the plain text body, then 2 MB of text),
  huge (a 15 MiB attachment: 20 MiB in base64), hugeeicar (the same, eicar.com attached
  after it), tinyeicar (1 KiB: a Subject, EICAR on the body's first line, then short
  lines: its first 5 body lines are shorter than any notice).
send HOST PORT FILE MODE [FILE2]: sends FILE from a@example.org to b@example.org and
  prints the server's (or mailscan's) final answer: "CODE text", or "reset"/"closed".
  MODE: smtplib | starttls | pipeline | bdat | bytes (1-byte segments) | splitend (the end of
  data in three segments) | lflf | lfcrlf | crcrlf (a bare end of data, then the
  message FILE2 smuggled behind it) | early (content sent right after DATA) |
  dataspace ("DATA " with a trailing space) | bdattab (BDAT chunks with tabs).
two HOST PORT FILE1 FILE2 one|split: both pipelined (see two()).
Every socket operation times out after 30 s.
"""
import base64
import os
import socket
import smtplib
import ssl
import sys
import time
from email.message import EmailMessage

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
TESTFILES = "/usr/share/clamav-testfiles"


def make(kind, out):
    if kind == "tinyeicar":
        body = EICAR + b"\r\n" + b"".join(b"%d\r\n" % i for i in range(4))
        body += b"".join(b"filler line %04d of a short message\r\n" % i for i in range(26))
        open(out, "wb").write(b"Subject: tiny\r\n\r\n" + body)
        return
    if kind == "mbox":
        data = open(f"{TESTFILES}/clam.exe.mbox.base64", "rb").read()
        open(out, "wb").write(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        return
    m = EmailMessage()
    m["From"] = "a@example.org"
    m["To"] = "b@example.org"
    m["Subject"] = f"test {kind}"
    m["Message-ID"] = f"<{kind}.{os.getpid()}.{time.time_ns()}@example.org>"
    body = "Hello,\n\nthis is a test message.\n"
    if kind == "stuffed":
        body += ".\n..\n.leading dot\n. space\n...\nend\n"
    if kind.startswith("big"):
        # filler past a receive window before the text (plaineicar: EICAR in plain text)
        body += "".join(f"line {i:06d} of filler text for a long message\n" for i in range(8000))
    if kind == "earlyeicar":
        body += EICAR.decode() + "\n"
        body += "".join(f"line {i:06d} of filler text after the virus\n" for i in range(40000))
    if kind.endswith("plaineicar"):
        body += EICAR.decode() + "\n"
    elif kind.endswith("plainclean"):
        body += "the middle of a clean message\n"
    m.set_content(body, cte="7bit" if kind.startswith(("plain", "bigplain", "early")) else None)
    if kind == "big":
        m.add_attachment(os.urandom(5 << 20), maintype="application", subtype="octet-stream",
                         filename="big.bin")
    elif kind.startswith("huge"):
        m.add_attachment(os.urandom(15 << 20), maintype="application", subtype="octet-stream",
                         filename="huge.bin")
    if kind == "eicar" or kind == "hugeeicar":
        m.add_attachment(EICAR, maintype="application", subtype="octet-stream",
                         filename="eicar.com")
    elif kind == "zip":
        m.add_attachment(open(f"{TESTFILES}/clam.zip", "rb").read(), maintype="application",
                         subtype="zip", filename="clam.zip")
    open(out, "wb").write(m.as_bytes(policy=m.policy.clone(linesep="\r\n")))


class Raw:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=DEADLINE)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """one complete reply; its last line"""
        while True:
            while b"\n" not in self.buf:
                d = self.s.recv(65536)
                if not d:
                    raise EOFError
                self.buf += d
            line, _, self.buf = self.buf.partition(b"\n")
            line = line.rstrip(b"\r").decode(errors="replace")
            if len(line) < 4 or line[3] != "-":
                return line

    def expect(self, prefix):
        r = self.reply()
        if not r.startswith(prefix):
            raise RuntimeError(r)
        return r


def stuff(msg):
    lines = msg.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


def send(host, port, path, mode, path2=None):
    msg = open(path, "rb").read()
    if mode in ("smtplib", "starttls"):
        with smtplib.SMTP(host, port, local_hostname="client.example.org", timeout=DEADLINE) as c:
            c.ehlo("client.example.org")
            if mode == "starttls":
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                c.starttls(context=ctx)
                c.ehlo("client.example.org")
            c.sendmail("a@example.org", ["b@example.org"], msg)
        return "250 sent"
    c = Raw(host, port)
    c.expect("220")
    c.send(b"EHLO client.example.org\r\n")
    c.expect("250")
    env = b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n"
    if mode in ("bdat", "bdattab"):
        sep = b"\t" if mode == "bdattab" else b" "
        c.send(env)
        c.expect("250")
        c.expect("250")
        for i in range(0, len(msg), 1000):
            chunk = msg[i:i + 1000]
            last = sep + b"LAST" if i + 1000 >= len(msg) else b""
            c.send(b"BDAT" + sep + b"%d%s\r\n" % (len(chunk), last) + chunk)
            r = c.reply()
            if not r.startswith("250"):
                return r
        return r
    if mode == "pipeline":
        c.send(env + b"DATA\r\n")
        c.expect("250")
        c.expect("250")
        c.expect("354")
        c.send(stuff(msg) + b".\r\nQUIT\r\n")
        return c.reply()
    if mode == "early":
        c.send(env + b"DATA\r\n" + stuff(msg) + b".\r\n")
        c.expect("250")
        c.expect("250")
        c.expect("354")
        return c.reply()
    c.send(env)
    c.expect("250")
    c.expect("250")
    c.send(b"DATA \r\n" if mode == "dataspace" else b"DATA\r\n")
    c.expect("354")
    data = stuff(msg)
    if mode == "bytes":
        for b in data + b".\r\n":
            c.send(bytes([b]))
        return c.reply()
    if mode == "splitend":
        c.send(data[:-2])
        time.sleep(0.2)
        c.send(b"\r\n.")
        time.sleep(0.2)
        c.send(b"\r\n")
        return c.reply()
    if mode in ("lflf", "lfcrlf", "crcrlf"):
        bare = {"lflf": b"\n.\n", "lfcrlf": b"\n.\r\n", "crcrlf": b"\r.\r\n"}[mode]
        smuggled = open(path2, "rb").read()
        c.send(data[:-2] + bare + env + b"DATA\r\n" + stuff(smuggled) + b".\r\n")
        replies = []
        try:
            while True:
                replies.append(c.reply())
                if replies[-1].startswith(("554", "5", "4")) or len(replies) >= 5:
                    break
        except (EOFError, ConnectionResetError, socket.timeout):
            pass
        return " | ".join(replies) if replies else "closed"
    c.send(data + b".\r\n")
    return c.reply()


def two(host, port, path1, path2, mode):
    """two transactions pipelined behind the EHLO, in one segment or two sent at once;
    prints each end of data's reply code ("-" for none) and whether every other reply
    is the one its command expects"""
    c = Raw(host, port)
    c.expect("220")
    c.send(b"EHLO client.example.org\r\n")
    c.expect("250")
    env = b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
    t = [env + stuff(open(p, "rb").read()) + b".\r\n" for p in (path1, path2)]
    if mode == "one":
        c.send(t[0] + t[1])
    else:
        c.send(t[0])
        c.send(t[1])
    c.s.settimeout(DEADLINE)
    replies = []
    try:
        while len(replies) < 8:
            replies.append(c.reply()[:3])
    except (EOFError, ConnectionResetError, socket.timeout):
        pass
    want = ["250", "250", "354", None] * 2
    ok = all(w is None or r == w for r, w in zip(replies, want))
    eod = [replies[i] if len(replies) > i else "-" for i in (3, 7)]
    print(f"{eod[0]} {eod[1]} {'order-ok' if ok else 'order-bad:' + ','.join(replies)}")


if __name__ == "__main__":
    if sys.argv[1] == "two":
        two(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
        sys.exit(0)
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
        sys.exit(0)
    try:
        print(send(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
                   sys.argv[6] if len(sys.argv) > 6 else None))
    except smtplib.SMTPDataError as e:
        print(f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}")
    except smtplib.SMTPServerDisconnected:
        print("closed")
    except (ConnectionResetError, BrokenPipeError):
        print("reset")
    except EOFError:
        print("closed")
    except RuntimeError as e:
        print(str(e))
