"""Fresh names from one address against a real `manage.py serve`: what gets through.

    .venv/bin/python benchmarks/fresh_names.py                  # the per-address limits
    .venv/bin/python benchmarks/fresh_names.py --person-only    # as if only per person

Thirty guests join (each from its own address, as the join limit would stop thirty from
one), then send from one address, over their sockets, 8 rounds of a message, a typing
cue and a topic change each (240 of each). Another person in the room counts what
reaches them.
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

NAMES, ROUNDS = 30, 8
ATTACKER = "198.51.100.5"


async def measure(person_only: bool) -> dict:
    import django

    django.setup()
    from tests.servers import cookie_header, manage, prepare_database, server_environment
    from tests.test_limits import ServeCommand, join_through_proxy

    env = server_environment(prepare_database(Path(tempfile.mkdtemp())))
    env.pop("REDIS_URL", None)  # one process, its own counts
    env["RATE_LIMITS"] = "on"
    if person_only:
        env["RATE_LIMITS_PER_ADDRESS"] = "message=100000/10,about=100000/60,typing=100000/2"
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    server = ServeCommand(env).start()
    url = server.url.replace("http", "ws") + "/ws/rooms/behind-the-proxy/"

    async def connect(cookies, address: str):
        headers = {"Cookie": cookie_header(cookies), "X-Forwarded-For": address}
        return await websockets.connect(url, origin=server.url, additional_headers=headers)

    try:
        guests = [
            join_through_proxy(server.url, f"fresh{n}", f"10.1.{n}.1")[1] for n in range(NAMES)
        ]
        sockets = [await connect(cookies, ATTACKER) for cookies in guests]
        watcher = await connect(
            join_through_proxy(server.url, "watcher", "10.2.0.1")[1], "10.2.0.1"
        )
        started = time.monotonic()
        for round_ in range(ROUNDS):
            for n, socket in enumerate(sockets):
                await socket.send(json.dumps({"message": f"m {n} {round_}"}))
                await socket.send(json.dumps({"typing": "1"}))
                await socket.send(json.dumps({"topic": f"t {n} {round_}"}))
        # Each sender's frames are handled in order: once every sender has had an answer to
        # a last frame, everything before it has reached the room (or been refused).
        for socket in sockets:
            await socket.send(json.dumps({"topic": "last"}))
        for socket in sockets:
            answers = 0
            while answers < ROUNDS + 1:  # every topic frame gets one answer
                answers += 'id="about-error"' in await socket.recv()
        seen = {"messages": 0, "typing cues": 0, "topic changes": 0}
        await watcher.send(json.dumps({"message": "marker"}))
        while True:
            frame = await watcher.recv()
            if "beforeend:#messages" in frame:
                if "marker" in frame:
                    break
                seen["messages"] += 1
            elif "is typing" in frame:
                seen["typing cues"] += 1
            elif 'id="room-about"' in frame:
                seen["topic changes"] += 1
        seconds = round(time.monotonic() - started, 2)
        for socket in [*sockets, watcher]:
            await socket.close()
    finally:
        server.stop()
    return {"names": NAMES, "sent of each": NAMES * ROUNDS, "seconds": seconds, "seen": seen}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--person-only", action="store_true")
    print(json.dumps(asyncio.run(measure(parser.parse_args().person_only))))
