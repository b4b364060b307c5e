#!/usr/bin/python3
"""Out-of-order flood for the flood benchmark (python3-scapy, see rawtcp.py).

oooflood.py HOST PORT FLOWS PREFILL MEASURE: opens FLOWS hand-made connections to
HOST:PORT, then gives each PREFILL one-byte out-of-order segments (every other byte,
so none of them joins another), prints "ready", waits for a line on stdin, sends
MEASURE more the same way (round-robin over the flows; fewer when a line comes on stdin
meanwhile), prints "done sent=N", waits for a line again and ends. The kernel of the namespace it runs in must not answer for these
connections (rawtcp.py's quiet_kernel).
"""
import random
import select
import struct
import sys

from rawtcp import Endpoint, local_addr


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Flow:
    def __init__(self, host, port):
        self.ep = Endpoint(local_addr(host), random.randrange(20000, 60000), False)
        self.ep.connect(host, port)
        self.ep.line("smtp")  # the banner
        self.tpl = bytearray(self.ep.seg("PA", data=b"x", send=False))
        self.ihl = (self.tpl[0] & 0xf) * 4
        self.base = self.ep.snd_nxt
        self.n = 0
        s, d = bytes(self.tpl[12:16]), bytes(self.tpl[16:20])
        self.pseudo = s + d + struct.pack("!BBH", 0, 6, len(self.tpl) - self.ihl)

    def next(self):
        """the next out-of-order byte: 2, 4, 6... past the stream's next byte"""
        self.n += 1
        t = self.tpl
        struct.pack_into("!I", t, self.ihl + 4, (self.base + 2 * self.n) & 0xffffffff)
        struct.pack_into("!H", t, self.ihl + 16, 0)
        struct.pack_into("!H", t, self.ihl + 16, csum(self.pseudo + bytes(t[self.ihl:])))
        self.ep.tx.sendto(bytes(t), (self.ep.raddr, 0))


def main():
    host, port, flows, prefill, measure = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
    fl = [Flow(host, port) for _ in range(flows)]
    for f in fl:
        for _ in range(prefill):
            f.next()
    print("ready", flush=True)
    sys.stdin.readline()
    sent = 0
    while sent < measure:
        fl[sent % flows].next()
        sent += 1
        if sent % 256 == 0 and select.select([sys.stdin], [], [], 0)[0]:
            sys.stdin.readline()  # stop: the load it was sent for is over
            break
    print(f"done sent={sent}", flush=True)
    sys.stdin.readline()
    for f in fl:
        f.ep.seg("RA")
        f.ep.close()


if __name__ == "__main__":
    main()
