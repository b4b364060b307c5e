#!/usr/bin/python3
"""TCP transfer checker for the integration tests.

server PORT [BIND]: accepts connections; for each, reads until the peer shuts down its
  side, then answers with the sha256 of what it read followed by the same bytes echoed.
client HOST PORT NBYTES [SEED [CHUNK DELAY]]: sends NBYTES of seeded random data (in
  CHUNK-byte writes DELAY seconds apart, if given), reads the answer and checks both
  directions byte for byte. Exit 0 when intact, 1 otherwise. Bounded: every socket
  operation times out after 30 s.
"""
import hashlib
import random
import os
import socket
import sys
import time

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))


def serve(port, bind):
    fam = socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((bind, port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        c.settimeout(DEADLINE)
        chunks = []
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            chunks.append(d)
        data = b"".join(chunks)
        c.sendall(hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
        c.close()


def client(host, port, n, seed, chunk=0, delay=0.0):
    data = random.Random(seed).randbytes(n)
    c = socket.create_connection((host, port), timeout=DEADLINE)
    if chunk:
        for i in range(0, n, chunk):
            c.sendall(data[i:i + chunk])
            time.sleep(delay)
    else:
        c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        chunks.append(d)
    reply = b"".join(chunks)
    digest, _, echo = reply.partition(b"\n")
    up = digest.decode() == hashlib.sha256(data).hexdigest()
    down = echo == data
    print(f"sent={n} up={'ok' if up else 'BAD'} down={'ok' if down else 'BAD'}")
    return 0 if up and down else 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "::")
    else:
        seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
        chunk = int(sys.argv[6]) if len(sys.argv) > 6 else 0
        delay = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
        sys.exit(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), seed, chunk, delay))
