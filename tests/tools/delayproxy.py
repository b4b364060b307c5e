#!/usr/bin/python3
"""A TCP proxy that adds latency, for benchmarks on kernels without sch_netem.

delayproxy.py LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS: every chunk read
from either side is written to the other DELAY_MS/2 after it arrived, in order, so each
round trip through the proxy takes DELAY_MS more.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    task = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((loop.time() + delay, data))
    except OSError:
        pass
    queue.put_nowait((0, None))
    try:
        await task
    except OSError:
        pass


async def main(lhost, lport, thost, tport, delay_ms):
    delay = delay_ms / 2000.0

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(thost, tport)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, sw, delay), pipe(sr, cw, delay))

    server = await asyncio.start_server(handle, lhost, lport)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                     float(sys.argv[5])))
