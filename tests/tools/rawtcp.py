#!/usr/bin/python3
"""Hand-made TCP segments for the evasion tests (python3-scapy).

One end of a TCP connection played in user space, so that every segment can be bent the
way an attacker would: urgent pointers, bad checksums, conflicting copies, SYN, RST and
FIN off sequence, old timestamps, data beyond the receiver's window. The kernel of the
namespace it runs in must not answer for this connection: the tests drop its RSTs with
a private nft table (this tool marks its own packets with MARK).

smtp HOST PORT FILE TRICK: a client that sends FILE (EHLO, MAIL, RCPT, DATA) with TRICK
  applied to the content; prints the final answer: "250 ...", "554 ...", "reset",
  "closed" or "timeout", and QUITs after a 250. With SENT=PATH in the environment it
  writes there the message a receiver that reads what mailscand scanned stores (first
  copies, urgent bytes inline), CRLF lines, unstuffed.
pop3d ADDR PORT FILE TRICK: a POP3 server for one connection (any USER/PASS, one
  message): RETR answers FILE with TRICK applied to the response; SENT as above. With
  READY=PATH it creates PATH once it can take a connection. Prints how the connection
  ended for it: "server: quit" (the client's QUIT), "server: reset", "server: closed"
  or "server: timeout" (nothing came within DEADLINE: the connection was left hanging).
  With DELE_RST=1 it answers DELE with a reset ("server: sent a reset").
pop3 HOST PORT OUTDIR TRICK N...: a POP3 client (alice / secret) that connects with
  TRICK (syn2, syn2data, syn2datarev and their "lost" forms: the two SYNs below, the
  data being POP3 commands) and RETRs each N into OUTDIR/N (CRLF lines, unstuffed);
  prints "N ok" for each complete message, and stops at the first that does not
  complete with "N reset", "N closed" or "N timeout" (or "N -ERR ..." for a refusal).
  QUITs at the end.
pop3spell ADDR PORT: a hostile POP3 server on ordinary sockets, for the dialogue tests:
  each connection logs in as SPELLING.KIND (KIND eicar or clean) and its RETR/TOP gets
  one message marked "mailscan-SPELLING-KIND", with the status line or the end of the
  body spelled as SPELLING (see SPELLINGS: readings that some real client takes). It
  serves until killed; a connection idle 4 s after its message (DEADLINE before) ends with
  a reset: a reader still waiting for an end fails then, and not at a FIN.
  `pop3spell list` prints the spellings.

TRICKs: none, urg, syn, badsum, conflict (a benign copy first, then the real bytes),
conflict-real-first, repack (retransmissions cut differently), rst (a reset inside the
window but off rcv_nxt, then 11 s of silence), fin (a FIN in order, then more data),
finooo (a FIN ahead of the data, which then covers it), paws (a benign copy with an old
timestamp first), window (a benign copy beyond the receiver's window first);
rstttl / finttl (a reset at rcv_nxt / a FIN in order, with TTL 2 (hop limit 2), so that
it expires on the hop after the gateway, then LINGER seconds of silence (environment,
default 65) and the rest), rstmd5 (a reset at rcv_nxt carrying a TCP MD5 signature
option, which Linux drops on a connection without one, then the rest); syn2, syn2data,
syn2datarev (two SYNs before the SYN-ACK, the first, the second or neither with data;
the session goes on from the one the server acknowledges), syn2lost, syn2datalost,
syn2datarevlost (the same, the first SYN with TTL 2: it expires after the gateway, and
the server acknowledges the second); SYN_GAP in the environment: seconds between the
two SYNs (default 0); oooflood (OOO, default 6000, one-byte out-of-order copies of the
stream's bytes, every other one, then the stream).
Every wait is bounded (DEADLINE in the environment, 60 s).
"""
import os
import random
import socket
import sys
import threading
import time

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))

MARK = 0x77
WAIT = DEADLINE
SEG = 1000
MARKER = b"EICAR"


def stuff(msg):
    lines = msg.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines)


class Endpoint:
    def __init__(self, laddr, lport, v6):
        self.v6 = v6
        self.laddr, self.lport = laddr, lport
        self.raddr = self.rport = None
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        self.tx = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
        self.rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0003))
        self.rx.settimeout(0.2)
        self.fam = fam
        self.lkey = socket.inet_pton(fam, laddr)
        self.cv = threading.Condition()
        self.snd_nxt = random.randrange(1 << 32)
        self.isn = self.snd_nxt
        self.snd_una = self.snd_nxt
        self.rcv_nxt = None
        self.edge = None
        self.peer_ws = None
        self.ts_on = False
        self.peer_ts = 0
        self.ts_base = random.randrange(1 << 30)
        self.data = b""
        self.ooo = {}
        self.fin = self.rst = False
        self.syn = None
        self.stop = False
        threading.Thread(target=self.loop, daemon=True).start()

    def tsval(self):
        return (self.ts_base + int(time.monotonic() * 1000)) & 0xffffffff

    def seg(self, flags, seq=None, data=b"", urg=0, tsval=None, chksum=None, opts=None,
            ttl=64, send=True):
        if opts is None:
            opts = []
            if self.ts_on:
                opts = [("NOP", None), ("NOP", None),
                        ("Timestamp", (self.tsval() if tsval is None else tsval, self.peer_ts))]
        t = TCP(sport=self.lport, dport=self.rport, flags=flags,
                seq=(self.snd_nxt if seq is None else seq) & 0xffffffff,
                ack=(self.rcv_nxt or 0) & 0xffffffff, window=65535, urgptr=urg, options=opts)
        if chksum is not None:
            t.chksum = chksum
        ip = (IPv6(src=self.laddr, dst=self.raddr, hlim=ttl) if self.v6
              else IP(src=self.laddr, dst=self.raddr, ttl=ttl))
        p = bytes(ip / t / data)
        if send:
            self.tx.sendto(p, (self.raddr, 0))
        return p

    def ack(self):
        self.seg("A")

    def loop(self):
        while not self.stop:
            try:
                b = self.rx.recv(70000)
            except socket.timeout:
                continue
            except OSError:
                return
            # only this end's own address and family: two ends may listen on one port
            if not b or (b[0] >> 4 == 6) != self.v6:
                continue
            p = IPv6(b) if self.v6 else IP(b)
            if TCP not in p or p.src != self.raddr and self.raddr is not None:
                continue
            if socket.inet_pton(self.fam, p.dst) != self.lkey:
                continue
            t = p[TCP]
            if t.dport != self.lport or (self.rport is not None and t.sport != self.rport):
                continue
            self.on_segment(p, t)

    def on_segment(self, p, t):
        if self.raddr is None and t.flags != "S":
            return  # listening: only a new connection's SYN
        with self.cv:
            for k, v in t.options:
                if k == "Timestamp":
                    self.peer_ts = v[0]
            if "R" in t.flags:
                self.rst = True
            elif "S" in t.flags:
                if self.raddr is None:
                    if "A" in t.flags:
                        return
                    self.raddr, self.rport = p.src, t.sport
                self.syn = t
                self.rcv_nxt = (t.seq + 1) & 0xffffffff
            else:
                payload = bytes(t.payload)
                if payload:
                    off = (t.seq - self.rcv_nxt) & 0xffffffff
                    if off < 1 << 30:
                        self.ooo[t.seq] = payload
                    self.drain()
                if "F" in t.flags and (t.seq + len(payload)) & 0xffffffff == self.rcv_nxt:
                    self.rcv_nxt = (self.rcv_nxt + 1) & 0xffffffff
                    self.fin = True
                if payload or "F" in t.flags:
                    self.ack()
            if "A" in t.flags and self.peer_ws is not None:
                scale = self.peer_ws if "S" not in t.flags else 0
                self.snd_una = t.ack
                self.edge = (t.ack + (t.window << scale)) & 0xffffffff
            self.cv.notify_all()

    def drain(self):
        moved = True
        while moved:
            moved = False
            for seq in list(self.ooo):
                d = self.ooo[seq]
                off = (self.rcv_nxt - seq) & 0xffffffff
                if off < 1 << 30:
                    del self.ooo[seq]
                    if off < len(d):
                        self.data += d[off:]
                        self.rcv_nxt = (self.rcv_nxt + len(d) - off) & 0xffffffff
                    moved = True

    def wait(self, cond, timeout=WAIT):
        with self.cv:
            return self.cv.wait_for(lambda: cond() or self.rst, timeout)

    def syn_opts(self):
        return [("MSS", 1400), ("NOP", None), ("WScale", 7), ("NOP", None), ("NOP", None),
                ("Timestamp", (self.tsval(), 0))]

    def take_syn_opts(self):
        o = dict((k, v) for k, v in self.syn.options)
        self.peer_ws = o.get("WScale", 0)
        if "WScale" not in o:
            self.peer_ws = 0
        self.ts_on = "Timestamp" in o

    def connect(self, raddr, rport, syns=((0, b"", 64),)):
        """SYNS: (ISN offset, data, TTL) of each SYN sent before the SYN-ACK; the stream
        goes on from the one the server acknowledges"""
        self.raddr, self.rport = raddr, rport
        self.peer_ws = 0
        # built first, then sent back to back (or SYN_GAP seconds apart: a SYN that
        # reaches conntrack while another of its tuple waits in the queue, unconfirmed,
        # is dropped when it is confirmed, a clash TCP does not resolve); sent again, as
        # a TCP client does, while no SYN-ACK comes
        pkts = [self.seg("S", seq=self.isn + off, data=data, opts=self.syn_opts(), ttl=ttl,
                         send=False)
                for off, data, ttl in syns]
        gap = float(os.environ.get("SYN_GAP", "0"))
        for _ in range(max(1, int(WAIT // 3))):
            for i, p in enumerate(pkts):
                if i:
                    time.sleep(gap)
                self.tx.sendto(p, (self.raddr, 0))
            if self.wait(lambda: self.syn is not None, 3):
                break
        else:
            raise TimeoutError("no SYN-ACK")
        with self.cv:
            self.take_syn_opts()
            self.isn = (self.syn.ack - 1) & 0xffffffff
            self.snd_nxt = (self.isn + 1) & 0xffffffff
            self.edge = (self.snd_nxt + self.syn.window) & 0xffffffff
        self.ack()

    def accept(self):
        if not self.wait(lambda: self.syn is not None):
            raise TimeoutError("no SYN")
        with self.cv:
            self.take_syn_opts()
            self.edge = (self.isn + 1 + self.syn.window) & 0xffffffff
        self.seg("SA", opts=self.syn_opts() if self.ts_on else [("MSS", 1400), ("WScale", 7)])
        self.snd_nxt = (self.isn + 1) & 0xffffffff
        self.wait(lambda: self.snd_una == self.snd_nxt, 5)

    def room(self, n):
        return ((self.edge - self.snd_nxt) & 0xffffffff) >= n and \
            ((self.edge - self.snd_nxt) & 0xffffffff) < 1 << 30

    def send(self, data, seg=SEG):
        for i in range(0, len(data), seg):
            chunk = data[i:i + seg]
            if not self.wait(lambda: self.room(len(chunk))):
                raise TimeoutError("window")
            self.seg("PA", data=chunk)
            self.snd_nxt = (self.snd_nxt + len(chunk)) & 0xffffffff

    def line(self, prefix_ok=None):
        """the next complete line (SMTP: a final reply line) from the peer"""
        def final():
            while b"\n" in self.data:
                line, _, rest = self.data.partition(b"\n")
                if prefix_ok is None or len(line) < 4 or line[3:4] != b"-":
                    return True
                self.data = rest
            return False
        if not self.wait(lambda: final() or self.fin):
            return "reset" if self.rst else "timeout"
        with self.cv:
            if b"\n" not in self.data:
                return "reset" if self.rst else "closed"
            line, _, self.data = self.data.partition(b"\n")
            return line.rstrip(b"\r").decode(errors="replace")

    def close(self):
        self.stop = True


# --- tricks: each sends STREAM from the endpoint's next sequence number ---

def benign(b):
    return b.replace(MARKER, b"xxxxx")


def marker_at(stream):
    i = stream.find(MARKER)
    return i if i >= 0 else len(stream) // 2


def trick_none(ep, s):
    ep.send(s)
    return s


def trick_urg(ep, s):
    # an extra byte inside the marker, the urgent pointer on it: Linux reading out of
    # band would take it out; read inline, as scanned, it stays
    i = marker_at(s) + 3
    s2 = s[:i] + b"Z" + s[i:]
    start = max(0, i - 10)
    ep.send(s2[:start])
    ep.seg("PAU", data=s2[start:i + 20], urg=i - start + 1)
    ep.snd_nxt = (ep.snd_nxt + len(s2[start:i + 20])) & 0xffffffff
    ep.send(s2[i + 20:])
    return s2


def trick_syn(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("S", seq=random.randrange(1 << 32), opts=[])
    time.sleep(0.3)
    ep.send(s[h:])
    return s


def trick_badsum(ep, s):
    fake = benign(s)
    for i in range(0, len(s), SEG):
        ep.seg("PA", data=fake[i:i + SEG], chksum=0xbad)
        ep.send(s[i:i + SEG])
    return s


def split_marker(s):
    i = marker_at(s)
    a, b = max(0, i - 100), min(len(s), i + 100)
    return a, b


def trick_conflict(ep, s, real_first=False):
    a, b = split_marker(s)
    base = ep.snd_nxt
    first, second = (s, benign(s)) if real_first else (benign(s), s)
    for copy in (first, second):
        ep.seg("PA", seq=base + a, data=copy[a:b])
        time.sleep(0.1)
    ep.send(s[:a])
    ep.snd_nxt = (base + b) & 0xffffffff
    ep.send(s[b:])
    return s[:a] + first[a:b] + s[b:]


def trick_repack(ep, s):
    base = ep.snd_nxt
    for i in range(0, len(s), 700):
        ep.send(s[i:i + 700], seg=700)
        j = max(0, i - 300)
        ep.seg("PA", seq=base + j, data=s[j:i + 700])
    return s


def trick_rst(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("RA", seq=ep.snd_nxt + 100, opts=[])
    time.sleep(11)
    ep.send(s[h:])
    return s


def trick_fin(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("FA")
    time.sleep(0.3)
    ep.snd_nxt = (ep.snd_nxt + 1) & 0xffffffff
    ep.send(s[h:])
    return s[:h]


def trick_finooo(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("FA", seq=ep.snd_nxt + 50)
    time.sleep(0.2)
    ep.send(s[h:])
    return s


def trick_paws(ep, s):
    fake = benign(s)
    old = (ep.tsval() - 100000) & 0xffffffff
    for i in range(0, len(s), SEG):
        ep.seg("PA", data=fake[i:i + SEG], tsval=old)
        ep.send(s[i:i + SEG])
    return s


def trick_window(ep, s):
    a, b = split_marker(s)
    base = ep.snd_nxt
    if ((base + a - ep.edge) & 0xffffffff) >= 1 << 30:
        raise RuntimeError("window trick: the marker is inside the window already")
    ep.seg("PA", seq=base + a, data=benign(s)[a:b])
    ep.send(s)
    return s


def linger():
    time.sleep(float(os.environ.get("LINGER", "65")))


def trick_rstttl(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("RA", opts=[], ttl=2)
    linger()
    ep.send(s[h:])
    return s[:h]


def trick_finttl(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    ep.seg("FA", ttl=2)
    linger()
    ep.snd_nxt = (ep.snd_nxt + 1) & 0xffffffff
    ep.send(s[h:])
    return s[:h]


def trick_oooflood(ep, s):
    # OOO one-byte out-of-order copies of the stream's own bytes (every other one, so
    # none joins another: each is a range of its own), then the stream
    n = int(os.environ.get("OOO", "6000"))
    base = ep.snd_nxt
    for i in range(1, min(n + 1, len(s) // 2)):
        ep.seg("PA", seq=base + 2 * i, data=s[2 * i:2 * i + 1])
    ep.send(s)
    return s


def trick_rstmd5(ep, s):
    h = len(s) // 2
    ep.send(s[:h])
    # kind 19, length 18: a 16-byte digest
    ep.seg("RA", opts=[(19, b"\x00" * 16), ("NOP", None), ("NOP", None)])
    time.sleep(0.3)
    ep.send(s[h:])
    return s


TRICKS = {
    "none": trick_none, "urg": trick_urg, "syn": trick_syn, "badsum": trick_badsum,
    "conflict": trick_conflict,
    "conflict-real-first": lambda ep, s: trick_conflict(ep, s, True),
    "repack": trick_repack, "rst": trick_rst, "fin": trick_fin, "finooo": trick_finooo,
    "paws": trick_paws, "window": trick_window,
    "rstttl": trick_rstttl, "finttl": trick_finttl, "rstmd5": trick_rstmd5,
    "oooflood": trick_oooflood,
}


def local_addr(host):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.connect((host, 9))
    return s.getsockname()[0]


# two SYNs before the SYN-ACK (ISN offset, data), in either order of arrival; the data
# on a SYN would be read as the stream's start by a scanner that believed it: SMTP's
# opens a transaction, POP3's would pair the server's answers with commands never read
# (the RETR's body taken for the answers to NOOPs)
SYN_DATA = {
    "smtp": b"EHLO x\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n",
    "pop3": b"USER alice\r\nPASS secret\r\nNOOP\r\nNOOP\r\nNOOP\r\n",
}
# which of the two SYNs carries the data; with "lost" the first leaves with TTL 2 (it
# expires on the hop after the gateway: the server keeps the second)
SYNS = {"syn2": (False, False), "syn2data": (True, False), "syn2datarev": (False, True)}
SYNS.update({k + "lost": v for k, v in SYNS.items()})


def syns(trick, proto):
    if trick not in SYNS:
        return ((0, b"", 64),)
    data = SYN_DATA[proto]
    ttls = (2 if trick.endswith("lost") else 64, 64)
    return tuple((off, data if on else b"", ttl)
                 for off, on, ttl in zip((0, 1 << 20), SYNS[trick], ttls))


def smtp(host, port, path, trick):
    ep = Endpoint(local_addr(host), random.randrange(20000, 60000), ":" in host)
    ep.connect(host, port, syns(trick, "smtp"))
    if trick in SYNS:
        trick = "none"
    out = "timeout"
    sent = b""
    try:
        if not ep.line("smtp").startswith("220"):
            raise RuntimeError("no banner")
        ep.send(b"EHLO client.example.org\r\n")
        ep.line("smtp")
        ep.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for want in ("250", "250", "354"):
            r = ep.line("smtp")
            if not r.startswith(want):
                raise RuntimeError(r)
        sent = TRICKS[trick](ep, stuff(open(path, "rb").read()) + b".\r\n")
        out = ep.line("smtp")
        if out.startswith("250"):
            ep.send(b"QUIT\r\n")
            ep.line("smtp")
            ep.wait(lambda: ep.fin, 5)
            ep.seg("FA")
    except (TimeoutError, RuntimeError) as e:
        out = "reset" if ep.rst else f"error: {e}"
    ep.close()
    print(out)
    write_sent(sent)


def write_sent(stream):
    """the message in STREAM (dot-stuffed, ending with a dot line) as it is stored"""
    if not os.environ.get("SENT"):
        return
    lines = stream[:-3].split(b"\r\n") if stream.endswith(b".\r\n") else stream.split(b"\r\n")
    msg = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)
    open(os.environ["SENT"], "wb").write(msg)


def pop3d(addr, port, path, trick):
    ep = Endpoint(addr, port, ":" in addr)
    if os.environ.get("READY"):
        open(os.environ["READY"], "w").close()
    ep.accept()
    body = stuff(open(path, "rb").read())
    ep.send(b"+OK mailscan test server\r\n")
    while True:
        line = ep.line()
        if line in ("reset", "closed", "timeout"):
            break
        cmd = line.split(" ")[0].upper()
        if cmd == "RETR":
            head = b"+OK %d octets\r\n" % len(body)
            sent = TRICKS[trick](ep, head + body + b".\r\n")
            write_sent(sent[len(head):])
        elif cmd == "STAT":
            ep.send(b"+OK 1 %d\r\n" % len(body))
        elif cmd == "QUIT":
            ep.send(b"+OK bye\r\n")
            ep.seg("FA")
            break
        elif cmd == "DELE" and os.environ.get("DELE_RST"):
            ep.seg("RA")  # a server that resets the connection rather than answer
            line = "sent a reset"
            break
        else:
            ep.send(b"+OK\r\n")
    print("server:", line if line in ("reset", "closed", "timeout", "sent a reset") else "quit")
    ep.close()


def raw_line(ep):
    """the next line from the peer with its LF, or None (reset, end or timeout)"""
    if not ep.wait(lambda: b"\n" in ep.data or ep.fin):
        return None
    with ep.cv:
        if b"\n" not in ep.data:
            return None
        line, _, ep.data = ep.data.partition(b"\n")
        return line + b"\n"


def ended(ep):
    return "reset" if ep.rst else "closed" if ep.fin else "timeout"


def pop3_retr(ep, outdir, n):
    """RETR N into OUTDIR/N: "N ok" once its end came, else how it ended"""
    ep.send(b"RETR %s\r\n" % n.encode())
    status = raw_line(ep)
    if status is None:
        return f"{n} {ended(ep)}"
    if not status.startswith(b"+OK"):
        return f"{n} {status.decode(errors='replace').strip()}"
    lines = []
    while True:
        line = raw_line(ep)
        if line is None:
            return f"{n} {ended(ep)}"
        line = line.rstrip(b"\r\n")
        if line == b".":
            break
        lines.append(line[1:] if line.startswith(b".") else line)
    with open(os.path.join(outdir, n), "wb") as f:
        f.write(b"".join(l + b"\r\n" for l in lines))
    return f"{n} ok"


def pop3(host, port, outdir, trick, nums):
    ep = Endpoint(local_addr(host), random.randrange(20000, 60000), ":" in host)
    ep.connect(host, port, syns(trick, "pop3"))
    out = []
    try:
        for cmd in (None, b"USER alice\r\n", b"PASS secret\r\n"):
            if cmd:
                ep.send(cmd)
            line = raw_line(ep)
            if line is None or not line.startswith(b"+OK"):
                raise RuntimeError(ended(ep) if line is None else line.decode(errors="replace"))
        for n in nums:
            out.append(pop3_retr(ep, outdir, n))
            if not out[-1].endswith(" ok"):
                break
        else:
            ep.send(b"QUIT\r\n")
            raw_line(ep)
            ep.wait(lambda: ep.fin, 5)
            ep.seg("FA")
    except (TimeoutError, RuntimeError) as e:
        out.append("reset" if ep.rst else f"error: {e}")
    ep.close()
    print("\n".join(out))


EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def spell_message(token, kind, content=None):
    """The message, dot-stuffed, CRLF lines; CONTENT replaces the marked line."""
    line = content if content is not None else (EICAR if kind == "eicar" else b"clean twin")
    msg = (b"From: sender@example.org\r\nTo: alice@example.org\r\nSubject: " + token +
           b"\r\n\r\n" + line + b"\r\n.hidden dot line\r\nend of " + token + b"\r\n")
    return stuff(msg)


def spelled(spelling, kind):
    """(the chunks to send for RETR, whether to end with a FIN right after)"""
    token = b"mailscan-%s-%s" % (spelling.encode(), kind.encode())
    mark = EICAR if kind == "eicar" else b"clean twin"
    body = spell_message(token, kind)
    clean = spell_message(token, kind, b"first part")
    table = {
        # status lines: poplib takes any '+' line, curl skips lines it does not know
        "std": [b"+OK\r\n" + body + b".\r\n"],
        "plus": [b"+\r\n" + body + b".\r\n"],
        "plus_text": [b"+ here it is\r\n" + body + b".\r\n"],
        "ok_lower": [b"+ok\r\n" + body + b".\r\n"],
        "cr_plus": [b"\r+OK\n" + body + b".\r\n"],
        "err_lower": [b"-err busy\r\n+OK\r\n" + body + b".\r\n"],
        "noise": [b"* noise\r\n+OK\r\n" + body + b".\r\n"],
        # fetchmail reads 512 bytes of a status line: the rest is the body's first line
        "long_status": [b"+OK " + b"x" * 508 + b"X-Tail: " + mark + b"\r\n" + clean +
                        b".\r\n"],
        # ends of the body
        "lf_end": [b"+OK\r\n" + body + b".\n"],
        "dot_nul": [b"+OK\r\n" + body + b".\0\r\n"],
        "dot_x": [b"+OK\r\n" + body + b".x\r\n"],
        "nul_dot_header": [b"+OK\r\nSubject: " + token + b"\r\nX-Mark: " + mark +
                           b"\r\n\0.\r\n"],
        "long_line": [b"+OK\r\n" + body + b"a" * 8191 + b".\r\n"],
        # curl reads on past CRLF.CRLF to the end of its read
        "curl_more": [b"+OK\r\n" + clean + b".\r\n" + mark + b"\r\n.\r\n"],
        # the connection's end: mpop ends at ".", poplib at ".." and ".x"
        "eof_dot": [b"+OK\r\n" + body + b"."],
        "eof_dotdot": [b"+OK\r\n" + body + b".."],
    }
    return table[spelling], spelling.startswith("eof_")


SPELLINGS = ["std", "plus", "plus_text", "ok_lower", "cr_plus", "err_lower", "noise",
             "long_status", "lf_end", "dot_nul", "dot_x", "nul_dot_header", "long_line",
             "curl_more", "eof_dot", "eof_dotdot"]


def spell_session(conn):
    import struct
    conn.settimeout(WAIT)
    f = conn.makefile("rb")
    spelling, kind = "std", "clean"
    token = b"x"
    conn.sendall(b"+OK hostile test server\r\n")
    fin = False
    try:
        while True:
            line = f.readline(4096)
            if not line:
                break
            words = line.strip().split()
            cmd = words[0].upper() if words else b""
            arg = words[1] if len(words) > 1 else None
            if cmd == b"USER" and arg:
                spelling, _, kind = arg.decode(errors="replace").partition(".")
                if spelling not in SPELLINGS:
                    spelling = "std"
                token = b"mailscan-%s-%s" % (spelling.encode(), kind.encode())
                conn.sendall(b"+OK\r\n")
            elif cmd in (b"RETR", b"TOP"):
                chunks, fin = spelled(spelling, kind)
                for c in chunks:
                    conn.sendall(c)
                conn.settimeout(4)
                if fin:
                    conn.shutdown(socket.SHUT_WR)
            elif cmd == b"STAT":
                conn.sendall(b"+OK 1 300\r\n")
            elif cmd == b"LIST":
                conn.sendall(b"+OK 1 300\r\n" if arg else b"+OK 1 messages\r\n1 300\r\n.\r\n")
            elif cmd == b"UIDL":
                conn.sendall(b"+OK 1 " + token + b"\r\n" if arg else
                             b"+OK\r\n1 " + token + b"\r\n.\r\n")
            elif cmd == b"CAPA":
                conn.sendall(b"+OK\r\nUSER\r\nUIDL\r\n.\r\n")
            elif cmd in (b"AUTH", b"APOP", b"STLS", b"UTF8"):
                conn.sendall(b"-ERR not here\r\n")
            elif cmd == b"QUIT":
                if not fin:
                    conn.sendall(b"+OK bye\r\n")
                conn.close()
                return
            elif not fin:
                conn.sendall(b"+OK\r\n")
    except (socket.timeout, OSError) as e:
        if os.environ.get("SPELL_DEBUG"):
            print("spell: %s %s: %r" % (spelling, kind, e), file=sys.stderr)
    try:  # an idle or broken connection ends with a reset
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass


def pop3spell(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=spell_session, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1] == "pop3spell":
        if sys.argv[2] == "list":
            print(" ".join(SPELLINGS))
        else:
            pop3spell(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "smtp":
        smtp(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "pop3":
        pop3(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:])
    else:
        pop3d(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
