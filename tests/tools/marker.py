#!/usr/bin/python3
"""Two-phase TCP exchange for hold and reset tests.

server PORT LOG: for each connection, appends to LOG one line: the bytes received (as
  repr) and how the connection ended ("eof" or "reset"), with the time each chunk came.
client HOST PORT FIRST SECOND: sends FIRST, waits 0.3 s, sends SECOND, then reads until
  EOF. Prints "elapsed=S end=eof|reset". Every socket operation times out after 20 s.
"""
import errno
import os
import socket
import sys
import time

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))


def serve(port, log):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.settimeout(DEADLINE)
        got, end = b"", "eof"
        try:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                got += d
                c.sendall(b"ack " + str(len(got)).encode() + b"\n")
        except (ConnectionResetError, socket.timeout) as e:
            end = "reset" if isinstance(e, ConnectionResetError) else "timeout"
        c.close()
        with open(log, "a") as f:
            f.write(f"{got!r} {end}\n")


def client(host, port, first, second):
    t0 = time.monotonic()
    c = socket.create_connection((host, port), timeout=DEADLINE)
    end = "eof"
    try:
        c.sendall(first.encode())
        time.sleep(0.3)
        c.sendall(second.encode())
        c.shutdown(socket.SHUT_WR)
        while c.recv(65536):
            pass
    except (ConnectionResetError, BrokenPipeError):
        end = "reset"
    except OSError as e:
        # a reset that lands before the shutdown leaves the socket unconnected
        if e.errno != errno.ENOTCONN:
            raise
        end = "reset"
    print(f"elapsed={time.monotonic() - t0:.3f} end={end}")


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]), sys.argv[3])
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
