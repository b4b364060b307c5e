#!/usr/bin/python3
"""SMTP and POP3 sessions from one fixed client port, one after the other, for the
tuple tests.

portreuse.py HOST PORT SPORT STEP... : each STEP is one connection from source port
SPORT, closed with a reset (SO_LINGER 0) so that the port is free at once:
  tls:FILE        SMTP: EHLO, STARTTLS, the message over TLS (passed and offloaded)
  tlspause:FILE   the same, stopped after the EHLO over TLS: prints "paused" and goes on
                  once a line comes on standard input
  plain:FILE      SMTP: the message in plain text
  pop3tls:N:DIR   POP3 (poplib, alice / secret): STLS, then RETR N over TLS into DIR/N
  pop3:N:DIR      POP3: RETR N in plain text into DIR/N (CRLF lines, unstuffed)
Prints one line per step: the final reply to the end of data ("250 ...", "554 ...",
"451 ..."), for POP3 "ok" once the whole message came; else "reset", "closed" or
"timeout". Every wait is bounded (20 s).
"""
import poplib
import socket
import ssl
import struct
import sys

import pop3get  # beside this file


def lines(f):
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("closed")
        if line[3:4] != b"-":
            return line.decode(errors="replace").strip()


def stuff(msg):
    out = []
    for line in msg.split(b"\r\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\r\n".join(out).rstrip(b"\r\n") + b"\r\n.\r\n"


def bound(host, port, sport):
    """a connection to HOST PORT from SPORT that ends with a reset when closed"""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(20)
    s.bind(("", sport))
    s.connect((host, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return s


class POP3From(poplib.POP3):
    """poplib, from a fixed source port"""

    def __init__(self, host, port, sport):
        self.sport = sport
        super().__init__(host, port, timeout=20)

    def _create_socket(self, timeout):
        return bound(self.host, self.port, self.sport)


def pop3_session(host, port, sport, kind, arg):
    n, _, outdir = arg.partition(":")
    p = None
    try:
        p = POP3From(host, port, sport)
        if kind == "pop3tls":
            pop3get.stls(p)
        pop3get.save(outdir, n, pop3get.auth(p).retr(int(n))[1])
        p.quit()
        return "ok"
    except ConnectionResetError:
        return "reset"
    except (ConnectionError, EOFError, poplib.error_proto) as e:
        return f"closed ({e})"
    except socket.timeout:
        return "timeout"
    finally:
        if p is not None:
            p.close()


def session(host, port, sport, kind, path):
    if kind.startswith("pop3"):
        return pop3_session(host, port, sport, kind, path)
    s = bound(host, port, sport)
    conn = s
    try:
        f = conn.makefile("rb")
        lines(f)
        conn.sendall(b"EHLO client.example.org\r\n")
        lines(f)
        if kind in ("tls", "tlspause"):
            conn.sendall(b"STARTTLS\r\n")
            if not lines(f).startswith("220"):
                return "no starttls"
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = ctx.wrap_socket(s, server_hostname="mx.example.org")
            f = conn.makefile("rb")
            conn.sendall(b"EHLO client.example.org\r\n")
            lines(f)
            if kind == "tlspause":
                print("paused", flush=True)
                sys.stdin.readline()
        conn.sendall(b"MAIL FROM:<a@example.org>\r\n")
        lines(f)
        conn.sendall(b"RCPT TO:<b@example.org>\r\n")
        lines(f)
        conn.sendall(b"DATA\r\n")
        if not lines(f).startswith("354"):
            return "no 354"
        conn.sendall(stuff(open(path, "rb").read()))
        out = lines(f)
        if out.startswith("250"):
            conn.sendall(b"QUIT\r\n")
            lines(f)
        return out
    except ConnectionResetError:
        return "reset"
    except ConnectionError:
        return "closed"
    except socket.timeout:
        return "timeout"
    finally:
        conn.close()


def main():
    host, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for step in sys.argv[4:]:
        kind, _, path = step.partition(":")
        print(session(host, port, sport, kind, path), flush=True)


if __name__ == "__main__":
    main()
