#!/usr/bin/python3
"""POP3 client for the integration tests (alice / secret).

retr HOST PORT OUTDIR N...: RETR each N with poplib into OUTDIR/N (CRLF lines as the
  server sent them, dot-unstuffed); prints "N ok" or "N reset" per message, then stops
  at the first reset (the connection is gone).
pipelined HOST PORT OUTDIR N...: sends all the RETRs at once and reads the responses.
top HOST PORT N LINES [OUT]: TOP N LINES; prints "ok LEN" or "reset" (OUT: the excerpt
  into OUT, as retr stores a body).
stls HOST PORT OUTDIR N: STLS, then RETR N over TLS.
list HOST PORT: prints the number of messages (as in STAT).
fetch HOST PORT USER OUT: RETR 1 as USER (password secret) into OUT; prints "ok" once
  poplib returned the whole message.
Every socket operation times out after 30 s.
"""
import os
import poplib
import socket
import ssl
import sys

# how long to wait for a peer before giving up (the tests' DEADLINE, in seconds)
DEADLINE = float(os.environ.get("DEADLINE", "60"))


def auth(p):
    p.user("alice")
    p.pass_("secret")
    return p


def stls(p):
    """STLS, the server's certificate (the test's own) not checked"""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    p.stls(ctx)


def login(host, port):
    return auth(poplib.POP3(host, port, timeout=DEADLINE))


def save(outdir, n, lines):
    with open(os.path.join(outdir, str(n)), "wb") as f:
        f.write(b"".join(l + b"\r\n" for l in lines))


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        if cmd == "fetch":
            p = poplib.POP3(host, port, timeout=30)
            p.user(sys.argv[4])
            p.pass_("secret")
            lines = p.retr(1)[1]
            with open(sys.argv[5], "wb") as f:
                f.write(b"".join(l + b"\r\n" for l in lines))
            print("ok")
            try:
                p.quit()
            except (OSError, EOFError, poplib.error_proto):
                pass
        elif cmd == "list":
            print(login(host, port).stat()[0])
        elif cmd == "retr":
            p = login(host, port)
            for n in sys.argv[5:]:
                save(sys.argv[4], n, p.retr(int(n))[1])
                print(f"{n} ok")
            p.quit()
        elif cmd == "top":
            _, lines, _ = login(host, port).top(int(sys.argv[4]), int(sys.argv[5]))
            if len(sys.argv) > 6:
                save(os.path.dirname(sys.argv[6]), os.path.basename(sys.argv[6]), lines)
            print(f"ok {sum(len(l) + 2 for l in lines)}")
        elif cmd == "stls":
            p = poplib.POP3(host, port, timeout=DEADLINE)
            stls(p)
            auth(p)
            save(sys.argv[4], sys.argv[5], p.retr(int(sys.argv[5]))[1])
            print(f"{sys.argv[5]} ok")
        elif cmd == "pipelined":
            s = socket.create_connection((host, port), timeout=DEADLINE)
            f = s.makefile("rb")
            f.readline()
            s.sendall(b"USER alice\r\nPASS secret\r\n")
            f.readline(), f.readline()
            ns = sys.argv[5:]
            s.sendall(b"".join(b"RETR %s\r\n" % n.encode() for n in ns))
            for n in ns:
                status = f.readline()
                if not status.startswith(b"+OK"):
                    print(f"{n} {status!r}")
                    continue
                lines = []
                while True:
                    l = f.readline()
                    if not l:
                        raise ConnectionResetError
                    l = l.rstrip(b"\r\n")
                    if l == b".":
                        break
                    lines.append(l[1:] if l.startswith(b"..") else l)
                save(sys.argv[4], n, lines)
                print(f"{n} ok")
    except (ConnectionResetError, BrokenPipeError, EOFError, poplib.error_proto, socket.timeout) as e:
        print(f"reset ({type(e).__name__})")


if __name__ == "__main__":
    main()
