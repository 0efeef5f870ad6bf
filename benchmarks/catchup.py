"""What a catch-up from the start of a big room costs, and what it does to everyone else.

    .venv/bin/python benchmarks/catchup.py                       # SQLite, a file in /tmp
    .venv/bin/python benchmarks/catchup.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_catchup_measure \\
        --redis redis://127.0.0.1:6379/12

Fills one room with 20,000 messages (once; later runs reuse it), starts a real server
(`manage.py serve`, one process, rate limits off so only catch-up's own rules apply)
and measures:

1. one socket sending `{"after": "0"}`: bytes it receives until its page shows the room
   as it was when it asked, the time that takes, and the server's CPU time meanwhile;
2. another person's send-to-acknowledgement latency, alone and then while 16 sockets
   of one guest each catch up from 0, and what those 16 sockets pulled.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLUG = "catch-up-bench"
CURSOR = re.compile(r'id="cursor" name="after" value="(\d+)"')
SEQ = re.compile(r'data-seq="(\d+)"')
ACK = 'id="composer-error"'


def fill(count: int) -> int:
    """The room with messages 1..count, each its own revision; returns the last revision."""
    from django.db import connection

    from rooms.models import Message, Room

    room = Room.objects.for_name("Catch-up bench")
    if room.last_revision == count and room.messages.count() == count:
        return count
    Message.objects.filter(room=room).delete()
    pg = connection.vendor == "postgresql"
    numbers = (
        "SELECT g FROM generate_series(1, %s) g"
        if pg
        else "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < %s) "
        "SELECT g FROM n"
    )
    # A sentence of about the length people write, so a message weighs what it does.
    body = "'message ' || g || ': ' || '" + "the quick brown fox jumps over the lazy dog " * 2 + "'"
    columns = "room_id, seq, revision, author, author_key, guest, continues, body, created"
    values = f"%s, g, g, 'bench', '', true, false, {body}, CURRENT_TIMESTAMP"
    insert = f"INSERT INTO rooms_message ({columns}) SELECT {values} FROM ({numbers}) n"
    with connection.cursor() as cursor:
        cursor.execute(insert, [room.pk, count])
        cursor.execute("ANALYZE")
    Room.objects.filter(pk=room.pk).update(last_seq=count, last_revision=count)
    return count


def last_revision() -> int:
    from django.db import connection

    from rooms.models import Room

    revision = Room.objects.values_list("last_revision", flat=True).get(slug=SLUG)
    connection.close()
    return revision


async def catch_up(server, cookies) -> tuple[int, float]:
    """One socket asks for everything after revision 0: bytes received until the page
    shows the room as it was when it asked, and how long that took. That is every
    message up to then, or the newest page drawn fresh with a cursor at least as new."""
    from tests.servers import room_socket

    socket = await room_socket(server, SLUG, cookies, max_size=None, max_queue=None)
    newest = await asyncio.to_thread(last_revision)
    received, seen, started = 0, set(), time.perf_counter()
    await socket.send(json.dumps({"after": "0"}))
    while True:
        frame = await socket.recv()
        received += len(frame.encode())
        seen.update(n for n in map(int, SEQ.findall(frame)) if n <= newest)
        cursors = [int(n) for n in CURSOR.findall(frame)]
        fresh = "data-newest" in frame and max(cursors) >= newest
        if fresh or len(seen) == newest:
            break
    elapsed = time.perf_counter() - started
    await socket.close()
    return received, elapsed


async def acknowledgements(server, cookies, until: asyncio.Event, minimum: float) -> list[float]:
    """Another person sends a message every 50 ms and times each acknowledgement."""
    from tests.servers import room_socket

    socket = await room_socket(server, SLUG, cookies, max_size=None, max_queue=None)
    times, started = [], time.perf_counter()
    n = 0
    while not until.is_set() or time.perf_counter() - started < minimum:
        n += 1
        sent = time.perf_counter()
        await socket.send(json.dumps({"message": f"latency probe {n}"}))
        while ACK not in await socket.recv():
            pass
        times.append((time.perf_counter() - sent) * 1000)
        await asyncio.sleep(0.05)
    await socket.close()
    return times


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its children (from /proc)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    family, total = {pid}, 0
    for _ in range(3):  # the server, its workers, and theirs
        family |= {child for child, (parent, _) in stats.items() if parent in family}
    total = sum(ticks for child, (_, ticks) in stats.items() if child in family)
    return total / os.sysconf("SC_CLK_TCK")


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"median {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms  "
        f"max {ordered[-1]:7.1f} ms  ({len(ordered)} sends)"
    )


async def measure(server, sockets: int) -> None:
    from tests.servers import join

    guest = join(server.url, "Catch-up bench", "many-tabs")
    other = join(server.url, "Catch-up bench", "someone-else")
    pid = server.process.pid

    cpu = cpu_seconds(pid)
    received, elapsed = await catch_up(server, guest)
    cpu = cpu_seconds(pid) - cpu
    size = await asyncio.to_thread(last_revision)
    print(
        f'1. one {{"after": "0"}} in a room of {size:,} messages: '
        f"{received / 1e6:.2f} MB sent in {elapsed:.2f} s, server CPU {cpu:.2f} s",
        flush=True,
    )

    done = asyncio.Event()
    done.set()
    alone = await acknowledgements(server, other, done, minimum=3.0)
    print(f"2. another person's send-to-ack, alone:            {summary(alone)}", flush=True)

    done = asyncio.Event()
    probe = asyncio.create_task(acknowledgements(server, other, done, minimum=3.0))
    await asyncio.sleep(0.2)
    cpu, started = cpu_seconds(pid), time.perf_counter()
    results = await asyncio.gather(*(catch_up(server, guest) for _ in range(sockets)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    done.set()
    during = await probe
    print(
        f"   while {sockets} sockets of one guest catch up from 0: {summary(during)}\n"
        f"   those {sockets} sockets pulled {sum(r[0] for r in results) / 1e6:.2f} MB "
        f"in {elapsed:.2f} s, server CPU {cpu:.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/parley-catchup-measure.sqlite3")
    parser.add_argument("--redis", default="", help="REDIS_URL for the server (default: none)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--sockets", type=int, default=16)
    args = parser.parse_args()

    if args.database.startswith("postgres"):
        from history import create_postgres_database  # the history benchmark's helper

        create_postgres_database(args.database)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DATABASE_URL=args.database,
        SECRET_KEY="benchmark-only",  # noqa: S106
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        RATE_LIMITS="off",
        LOG_LEVEL="WARNING",
        ACCESS_LOG_LEVEL="WARNING",
        CHANNEL_PREFIX=f"parley-catchup-bench-{os.getpid()}",
        PYTHONUNBUFFERED="1",
    )
    if args.redis:
        env["REDIS_URL"] = args.redis
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tests.servers import Server

    call_command("migrate", verbosity=0)
    fill(args.messages)
    connection.close()
    layer = "Redis" if args.redis else "in-memory layer"
    print(f"{connection.vendor}, {layer}, one server process:", flush=True)
    server = Server(env).start()
    try:
        asyncio.run(measure(server, args.sockets))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
