#!/usr/bin/python3
"""A POP3 client that stops in the middle of a RETR, for the tests of flows under pressure.

pop3pause.py HOST PORT N BYTES OUT: logs in as alice (password secret) with a small
receive buffer (the server's bytes in flight stay few), sends RETR N, reads the status
line and BYTES of the body, prints "paused", and reads nothing more (its window closes,
the server waits) until a line comes on standard input. Then it reads the rest of the
response and prints how it ended: "complete" (the body to its terminating line, written
dot-unstuffed to OUT, CRLF lines), "reset", "closed" (the end of the stream before the
end of the body) or "timeout" (nothing for DEADLINE seconds: a stall). A reset while
paused is reported when the reading goes on.
"""
import os
import socket
import sys

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))


def main():
    host, port, n, nbytes, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        int(sys.argv[4]), sys.argv[5]
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.settimeout(DEADLINE)
    s.connect((host, port))
    f = s.makefile("rb")
    f.readline()
    for c in (b"USER alice\r\n", b"PASS secret\r\n"):
        s.sendall(c)
        if not f.readline().startswith(b"+OK"):
            print("login refused", flush=True)
            return
    s.sendall(b"RETR %s\r\n" % n.encode())
    status = f.readline()
    if not status.startswith(b"+OK"):
        print(f"RETR refused: {status!r}", flush=True)
        return
    body = f.read(nbytes)
    print("paused", flush=True)
    sys.stdin.readline()
    try:
        while True:
            line = f.readline()
            if not line:
                print("closed", flush=True)
                return
            body += line
            if body.endswith(b"\r\n.\r\n"):
                break
    except (ConnectionResetError, BrokenPipeError):
        print("reset", flush=True)
        return
    except socket.timeout:
        print("timeout", flush=True)
        return
    lines = body[:-3].split(b"\r\n")[:-1]
    with open(out, "wb") as o:
        o.write(b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in lines))
    print("complete", flush=True)


main()
