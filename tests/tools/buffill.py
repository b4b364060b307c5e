#!/usr/bin/python3
"""Fills a queue thread's reassembly memory (total_buffer) from one hand-made connection.

buffill.py HOST PORT BYTES: connects to HOST:PORT, reads the banner, sends BYTES in
100-byte segments out of order (the stream's first byte left out, so none of them can be
delivered and mailscand must keep them all), prints "ready", waits for a line on stdin,
then sends the missing byte and a reset in order, back to back (the reset reaches
mailscand before the server's acknowledgement of the bytes: the flow must give its
memory back as it becomes a tombstone, not when the server acknowledges), and prints
"released". The kernel of its namespace must not answer (rawtcp.py's quiet_kernel).
"""
import sys

from rawtcp import Endpoint, local_addr
import random


def main():
    host, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ep = Endpoint(local_addr(host), random.randrange(20000, 60000), ":" in host)
    ep.connect(host, port)
    ep.line("smtp")
    base = ep.snd_nxt
    for off in range(1, nbytes, 100):
        ep.seg("PA", seq=base + off, data=b"x" * 100)
    print("ready", flush=True)
    sys.stdin.readline()
    # built first, then sent together
    pkts = [ep.seg("PA", seq=base, data=b"x", send=False),
            ep.seg("R", seq=base + 1 + ((nbytes - 1 + 99) // 100) * 100, send=False)]
    for p in pkts:
        ep.tx.sendto(p, (ep.raddr, 0))
    print("released", flush=True)
    ep.close()


main()
