#!/usr/bin/python3
"""Many SMTP connections at once, for the memory and connection-rate benchmark.

server PORT: a minimal SMTP server (220, 250 to every line, 354 to DATA, 250 after the
  end of data); several share the port (SO_REUSEPORT) past one process's file limit.
hold HOST PORT N READY [KIB]: opens N connections (500 at a time), each past the banner
  and EHLO (with KIB: MAIL, RCPT, DATA and KIB KiB of content, no end), writes the
  number held to the file READY, then keeps them open until killed.
rate HOST PORT SECONDS CONC: connects, reads the banner, sends QUIT and closes, CONC at
  a time, for SECONDS; prints connections per second.
Every wait is bounded (30 s).
"""
import asyncio
import resource
import sys
import time

T = 30


async def serve(reader, writer):
    writer.write(b"220 bench ESMTP\r\n")
    data = False
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            if data:
                if line == b".\r\n":
                    data = False
                    writer.write(b"250 ok\r\n")
                continue
            if line.upper().startswith(b"DATA"):
                data = True
                writer.write(b"354 go\r\n")
            elif line.upper().startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()


async def one(host, port, kib):
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), T)
    await asyncio.wait_for(r.readline(), T)
    w.write(b"EHLO bench.example.org\r\n")
    await asyncio.wait_for(r.readline(), T)
    if kib:
        w.write(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in range(3):
            await asyncio.wait_for(r.readline(), T)
        line = b"x" * 1022 + b"\r\n"
        w.write(line * kib)
        await asyncio.wait_for(w.drain(), T)
    return r, w


async def hold(host, port, n, ready, kib):
    conns = []
    for i in range(0, n, 500):
        conns += await asyncio.gather(*(one(host, port, kib) for _ in range(min(500, n - i))))
    open(ready, "w").write(f"{len(conns)}\n")
    await asyncio.sleep(3600)


async def rate(host, port, secs, conc):
    done = 0
    end = time.monotonic() + secs

    async def worker():
        nonlocal done
        while time.monotonic() < end:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), T)
            await asyncio.wait_for(r.readline(), T)
            w.write(b"QUIT\r\n")
            await asyncio.wait_for(r.readline(), T)
            w.close()
            done += 1
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(conc)))
    print(f"{done / (time.monotonic() - start):.0f}")


async def server(port):
    s = await asyncio.start_server(serve, None, port, backlog=4096, reuse_address=True,
                                   reuse_port=True)
    async with s:
        await s.serve_forever()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (200000, 200000))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cmd = sys.argv[1]
    if cmd == "server":
        asyncio.run(server(int(sys.argv[2])))
    elif cmd == "hold":
        asyncio.run(hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                         int(sys.argv[6]) if len(sys.argv) > 6 else 0))
    else:
        asyncio.run(rate(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])))
