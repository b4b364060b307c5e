#!/usr/bin/python3
"""Dialogues from a table of SMTP spellings, for the differential test against real
servers (postfix, exim, OpenSMTPD).

list: prints the spellings, one a line: NAME CLASS
run HOST RUN OUT: for every spelling, a clean message and an infected one (EICAR in the
  body), each marked by a unique token RUN-NAME-KIND in its Subject, Message-ID and body,
  sent over a plain socket; appends one line per attempt to OUT: "NAME KIND TOKEN RESULT"
  where RESULT is "accepted" (the server answered the end of the message with its 2xx
  "queued as", "id=" or "Message accepted" reply), "554" (mailscand's reject), "reset" (the connection was
  reset) or "refused" (anything else: the server did not take the message).
stored DIR TOKEN [--must]: prints the file of maildir DIR (new/) holding TOKEN, or
  nothing (with --must: exits 1 then).
same A B TOKEN_A TOKEN_B: exit 0 when the two stored files are equal from their Subject
  line on, once each token is replaced by TOKEN (the servers' own trace headers above
  it differ from run to run).

Every dialogue waits for the server's replies before the next command, as a client
does (exim and OpenSMTPD refuse commands sent ahead), except where the spelling is the
point: content after an unanswered DATA, BDAT and its chunk. After the last bytes it
waits for the reply to them (exim discards a message whose sender closed before the
reply), ENDWAIT seconds at most: a server still reading the message sends none. Then it
half-closes the connection and reads to the end (a server in the middle of a message
stores nothing then). Every other wait is bounded by the tests' DEADLINE (60 s).
"""
import os
import socket
import sys

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
WAIT = float(os.environ.get("DEADLINE", "60"))  # the tests' deadline, in seconds
ENDWAIT = float(os.environ.get("ENDWAIT", "3"))


def message(token, infected, lf=False):
    t = token.encode()
    lines = [
        b"From: a@example.org",
        b"To: b@example.org",
        b"Subject: " + t,
        b"Message-ID: <" + t + b"@example.org>",
        b"Date: Tue, 01 Dec 2026 00:00:00 +0000",
        b"",
        b"token " + t,
        EICAR if infected else b"nothing to see here, a clean twin",
        b"end of " + t,
    ]
    return (b"\n" if lf else b"\r\n").join(lines)


class Conn:
    def __init__(self, host):
        self.s = socket.create_connection((host, 25), timeout=WAIT)
        self.buf = b""
        self.log = []
        self.eof = False
        self.reset = False

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except ConnectionResetError:
                self.reset = True
                d = b""
            except socket.timeout:
                d = b""
            if not d:
                self.eof = True
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r")

    def reply(self):
        """the next final reply line, or None at the end"""
        while True:
            l = self.line()
            if l is None:
                return None
            self.log.append(l)
            if len(l) < 4 or l[3:4] != b"-":
                return l

    def send(self, b):
        try:
            self.s.sendall(b)
        except (BrokenPipeError, ConnectionResetError):
            self.reset = True

    def cmd(self, b):
        self.send(b)
        return self.reply()

    def last(self):
        """the reply to the last bytes sent, if one comes within ENDWAIT"""
        self.s.settimeout(ENDWAIT)
        self.reply()
        self.s.settimeout(WAIT)

    def finish(self):
        """half-close and read every reply to the end"""
        try:
            self.s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while self.reply() is not None:
            pass
        self.s.close()

    def result(self):
        for l in self.log:
            if l.startswith(b"554 5.7.1"):
                return "554"
        # the replies to an end of data: postfix, exim, OpenSMTPD
        for l in self.log:
            if l[:1] == b"2" and any(k in l for k in (b"queued as", b" id=", b"Message accepted")):
                return "accepted"
        return "reset" if self.reset else "refused"


def prologue(c, ehlo=True, rcpt=True):
    c.reply()  # the banner
    c.cmd(b"EHLO client.example.org\r\n" if ehlo else b"HELO client.example.org\r\n")
    c.cmd(b"MAIL FROM:<a@example.org>\r\n")
    if rcpt:
        c.cmd(b"RCPT TO:<b@example.org>\r\n")


def stuffed(msg):
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in msg.split(b"\r\n"))


def data_spelling(line, extra=0):
    """DATA spelt LINE; the content after its 354"""

    def run(c, msg):
        prologue(c)
        r = c.cmd(line)
        # exim answers each 16385 bytes of a huge line, then the command after them
        # (at once: the others answer once, so this wait is short)
        if extra and r is not None and not r.startswith(b"354"):
            c.s.settimeout(3)
            r = c.reply()
            c.s.settimeout(WAIT)
        if r is not None and r.startswith(b"354"):
            c.send(stuffed(msg) + b"\r\n.\r\n")
            c.last()

    return run


def end_spelling(end, lf=False):
    """plain DATA, the content ended by END"""

    def run(c, msg):
        prologue(c)
        if c.cmd(b"DATA\r\n").startswith(b"354"):
            body = msg.replace(b"\r\n", b"\n") if lf else msg
            c.send(body + end)
            c.last()

    return run


def bdat_spelling(fmt):
    """BDAT spelt FMT (the size put in) with the whole message as its chunk"""

    def run(c, msg):
        prologue(c)
        c.send(fmt.replace(b"N", str(len(msg)).encode()) + msg)
        c.last()

    return run


def bdat_junk(c, msg):
    """exim: a chunk, not the last, whatever follows its size; then BDAT 0 LAST"""
    prologue(c)
    c.send(b"BDAT %d junk\r\n" % len(msg) + msg)
    c.last()
    c.send(b"BDAT 0 LAST\r\n")
    c.last()


def refused_data_bdat(c, msg):
    """DATA refused (no recipient yet); a BDAT transaction in the bytes sent with it"""
    prologue(c, rcpt=False)
    c.send(b"DATA\r\nRCPT TO:<b@example.org>\r\nBDAT %d LAST\r\n" % len(msg) + msg)
    for _ in range(3):  # DATA's, RCPT's and the end's
        c.last()


def rset_chunks(c, msg):
    """a first chunk, RSET, then the message in a new transaction"""
    prologue(c)
    c.send(b"BDAT 10\r\n0123456789")
    c.last()
    c.cmd(b"RSET\r\n")
    c.cmd(b"MAIL FROM:<a@example.org>\r\n")
    c.cmd(b"RCPT TO:<b@example.org>\r\n")
    c.send(b"BDAT %d LAST\r\n" % len(msg) + msg)
    c.last()


SPELLINGS = [
    # name, class, dialogue
    ("data", "control", data_spelling(b"DATA\r\n")),
    ("data-lead-space", "whitespace", data_spelling(b" DATA\r\n")),
    ("data-lead-tab", "whitespace", data_spelling(b"\tDATA\r\n")),
    ("data-vt-ff", "separator", data_spelling(b"\x0bDATA\x0c\r\n")),
    ("data-trail-tab", "separator", data_spelling(b"DATA\t\r\n")),
    ("data-cr-run", "cr-run", data_spelling(b"DATA\r\r\r\n")),
    ("data-case", "case", data_spelling(b"dAtA\r\n")),
    ("data-bare-lf", "line-end", data_spelling(b"DATA\n")),
    ("data-nul", "nul", data_spelling(b"DATA\x00junk\r\n")),
    ("data-8bit", "8bit", data_spelling(b"DATA \xff\r\n")),
    ("data-long", "long-line", data_spelling(b"DATA" + b" " * 2100 + b"\r\n")),
    ("data-exim-piece", "long-line", data_spelling(b"X" * 16385 + b"DATA\r\n", extra=1)),
    ("end-crlf", "control", end_spelling(b"\r\n.\r\n")),
    ("end-lf-lf", "end", end_spelling(b"\r\n\n.\n")),
    ("end-lf-lf-lfmsg", "end", end_spelling(b"\n.\n", lf=True)),
    ("end-lf-crlf", "end", end_spelling(b"\n.\r\n")),
    ("end-lf-crlf-lfmsg", "end", end_spelling(b"\n.\r\n", lf=True)),
    ("end-cr-crlf", "end", end_spelling(b"\r.\r\n")),
    ("end-dot-cr-run", "cr-run", end_spelling(b"\r\n.\r\r\n")),
    ("end-lf-dot-cr-run", "cr-run", end_spelling(b"\n.\r\r\n")),
    ("bdat", "control", bdat_spelling(b"BDAT N LAST\r\n")),
    ("bdat-tab", "separator", bdat_spelling(b"BDAT\tN\tLAST\r\n")),
    ("bdat-lead-space", "whitespace", bdat_spelling(b" BDAT N LAST\r\n")),
    ("bdat-zeros", "bdat-size", bdat_spelling(b"BDAT 000N LAST\r\n")),
    ("bdat-plus", "bdat-size", bdat_spelling(b"BDAT +N LAST\r\n")),
    ("bdat-wrap", "bdat-size", bdat_spelling(b"BDAT 42949672960000000000N LAST\r\n")),
    ("bdat-nospace-last", "bdat-size", bdat_spelling(b"BDAT NLAST\r\n")),
    ("bdat-case", "case", bdat_spelling(b"bdat N last\r\n")),
    ("bdat-cr-run", "cr-run", bdat_spelling(b"BDAT N LAST\r\r\n")),
    ("bdat-junk-tail", "bdat-size", bdat_junk),
    ("refused-data-bdat", "refused", refused_data_bdat),
    ("rset-between-chunks", "reset", rset_chunks),
]


def run(host, runname, out):
    with open(out, "a") as f:
        for name, _, dialogue in SPELLINGS:
            for kind in ("clean", "eicar"):
                token = f"{runname}-{name}-{kind}"
                c = Conn(host)
                try:
                    dialogue(c, message(token, kind == "eicar"))
                    c.finish()
                except (ConnectionResetError, BrokenPipeError):
                    c.reset = True
                except socket.timeout:
                    pass
                f.write(f"{name} {kind} {token} {c.result()}\n")
                f.flush()


def stored(d, token, must=False):
    t = token.encode()
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        for n in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            if t in open(os.path.join(p, n), "rb").read():
                print(os.path.join(p, n))
                return
    if must:
        print(f"{token} not in {d}")
        sys.exit(1)


def same(a, b, ta, tb):
    def norm(path, tok):
        d = open(path, "rb").read().replace(tok.encode(), b"TOKEN")
        i = d.find(b"\nSubject: ")
        return d[i:] if i >= 0 else d

    sys.exit(0 if norm(a, ta) == norm(b, tb) else 1)


if __name__ == "__main__":
    if sys.argv[1] == "list":
        for name, cls, _ in SPELLINGS:
            print(name, cls)
    elif sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "stored":
        stored(sys.argv[2], sys.argv[3], "--must" in sys.argv[4:])
    elif sys.argv[1] == "same":
        same(*sys.argv[2:6])
