"""What permessage-deflate costs the server when the client negotiates it, as browsers do.

    .venv/bin/python benchmarks/compression.py [--sockets 200] [--messages 150] [--runs 2]

`make bench`'s client (picows) never offers compression, so its figures are those of a
server that does not compress. This starts `manage.py serve`'s uvicorn command (one worker,
PostgreSQL and Redis from `make services`) with per-message compression on and off in
turn, opens the sockets with the `websockets` client offering it, and reports the server's
memory per socket (RSS growth while opening them) and CPU per delivery (one sender, one
message every 20 ms, every socket receiving every message).
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import websockets

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402

from rooms.management.commands.serve import server_command  # noqa: E402


def cpu(processes: list[psutil.Process]) -> float:
    return sum(p.cpu_times().user + p.cpu_times().system for p in processes)


async def measure(port: int, sockets: int, messages: int, deflate: bool) -> dict:
    command = server_command("--host", "127.0.0.1", "--port", str(port), "--workers", "1")
    command = [*command, "--ws-per-message-deflate", "true" if deflate else "false"]
    env = {**os.environ, **bench.parley_env(), "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(command, cwd=BENCH.parent, env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                bench.join(port, "compression", "warm")
                break
            except OSError:
                time.sleep(0.1)
        sessions = [bench.join(port, "compression", f"c{i}") for i in range(sockets)]
        processes = [psutil.Process(server.pid)]
        rss = processes[0].memory_info().rss
        url = f"ws://127.0.0.1:{port}/ws/rooms/compression/"
        origin = f"http://127.0.0.1:{port}"
        opened = [
            await websockets.connect(
                url, origin=origin, additional_headers={"Cookie": s}, compression="deflate"
            )
            for s in sessions
        ]
        negotiated = bool(opened[0].protocol.extensions)
        await asyncio.sleep(2)
        kib = (processes[0].memory_info().rss - rss) / sockets / 1024

        async def receive(socket) -> None:
            got = 0
            while got < messages:
                got += (await socket.recv()).count("bench-marker-")

        started = cpu(processes)
        readers = [asyncio.create_task(receive(s)) for s in opened]
        for number in range(messages):
            text = f"bench-marker-{number} " + "a few words of an ordinary chat message " * 2
            await opened[0].send(json.dumps({"message": text}))
            await asyncio.sleep(0.02)
        await asyncio.gather(*readers)
        per_delivery = (cpu(processes) - started) / (sockets * messages) * 1e6
        for socket in opened:
            await socket.close()
        return {"deflate": deflate, "negotiated": negotiated, "kib": kib, "us": per_delivery}
    finally:
        server.terminate()
        server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--messages", type=int, default=150)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    for _ in range(args.runs):
        for deflate in (True, False):
            bench.fresh_database(bench.variants(0)["parley"])
            found = await measure(bench.free_port(), args.sockets, args.messages, deflate)
            print(
                f"compression {'on ' if found['deflate'] else 'off'} "
                f"(negotiated: {found['negotiated']}): {found['kib']:.1f} KiB per socket, "
                f"{found['us']:.1f} µs of server CPU per delivery",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
