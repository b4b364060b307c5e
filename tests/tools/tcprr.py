#!/usr/bin/python3
"""TCP request/response latency. server PORT: echoes every byte back.
client HOST PORT N: N one-byte round trips; prints the median in microseconds."""
import os
import socket
import statistics
import sys
import time

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))

if sys.argv[1] == "server":
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(sys.argv[2])))
    s.listen(8)
    while True:
        c, _ = s.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while (d := c.recv(1)):
            c.sendall(d)
        c.close()
else:
    c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=DEADLINE)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rtts = []
    for _ in range(int(sys.argv[4])):
        t = time.perf_counter_ns()
        c.sendall(b"x")
        c.recv(1)
        rtts.append((time.perf_counter_ns() - t) / 1000)
    print(f"{statistics.median(rtts):.1f}")
