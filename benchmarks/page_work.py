"""The work behind one page: database queries and Redis round trips per request.

    .venv/bin/python benchmarks/page_work.py                   # SQLite, the in-memory layer
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/page_work.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_page_work

Makes a fresh database (the PostgreSQL one named is dropped first), fills a lobby with
--rooms rooms and one room with 50 messages through the join and message forms, then
asks for each page the way wrk does (the same session, over and over) and prints what
the last request cost: queries (and which), Redis round trips and Redis commands.
Counts, not times: they are the same on any machine, so before and after compare.
"""

import argparse
import os
import sys
import tempfile
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class RedisCalls:
    """Counts redis-py's round trips (a pipeline is one) and the commands they carry."""

    def __init__(self) -> None:
        self.trips = 0
        self.commands: Counter[str] = Counter()

    def install(self) -> None:
        import redis.client

        calls = self
        plain, piped = redis.client.Redis.execute_command, redis.client.Pipeline.execute

        def execute_command(client, *args, **options):
            if not isinstance(client, redis.client.Pipeline):
                calls.trips += 1
                calls.commands[str(args[0]).upper()] += 1
            return plain(client, *args, **options)

        def execute(pipe, *args, **options):
            stack = pipe.command_stack
            if stack:
                calls.trips += 1
                calls.commands.update(str(args[0]).upper() for args, _options in stack)
            return piped(pipe, *args, **options)

        redis.client.Redis.execute_command = execute_command
        redis.client.Pipeline.execute = execute

    def reset(self) -> None:
        self.trips = 0
        self.commands.clear()


def fresh_postgres(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("SECRET_KEY", "page-work-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["RATE_LIMITS"] = "off"
    os.environ.setdefault("CHANNEL_PREFIX", "parley-page-work")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # Pages are drawn without a collectstatic manifest here: the names are the same work.
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    call_command("migrate", verbosity=0, interactive=False)


def fill(rooms: int):
    """`rooms` rooms with a message each, and "perf" with 50; returns a joined client."""
    from django.test import Client

    from rooms.live import presence

    presence.store().clear()
    for number in range(rooms):
        someone = Client()
        someone.post("/", {"room_name": f"lobby {number}", "username": f"p{number}"})
        someone.post(f"/rooms/lobby-{number}/", {"message": f"hello {number}"})
    reader = Client()
    assert reader.post("/", {"room_name": "perf", "username": "alice"}).status_code == 303
    for number in range(50):
        reader.post("/rooms/perf/", {"message": f"message number {number}"})
    return reader


def measure(client, path: str, calls: RedisCalls) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # the first request of a session may do one-off work
    calls.reset()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return {
        "queries": len(queries),
        "sql": [q["sql"][:110] for q in queries.captured_queries],
        "redis_round_trips": calls.trips,
        "redis_commands": dict(calls.commands),
    }


async def asgi_get(app, path: str, cookie: str) -> int:
    """One GET through the ASGI app as the server calls it; returns the status."""
    import asyncio

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = asyncio.Event()
    status = 0
    asked = False

    async def receive():
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await sent.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body"):
            sent.set()

    await app(scope, receive, send)
    return status


def cpu_per_request(path: str, cookie: str, requests: int, concurrency: int, app=None) -> float:
    """Milliseconds of this process's CPU (every thread) per request, through the ASGI app."""
    import asyncio
    import time

    if app is None:
        from config.asgi import application as app

    async def run(count: int) -> None:
        async def one_by_one(share: int) -> None:
            for _ in range(share):
                assert await asgi_get(app, path, cookie) == 200

        await asyncio.gather(*(one_by_one(count // concurrency) for _ in range(concurrency)))

    asyncio.run(run(concurrency * 5))  # warm: imports, templates, connections
    started = time.process_time()
    asyncio.run(run(requests))
    return (time.process_time() - started) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="a PostgreSQL URL (dropped and made again)")
    parser.add_argument("--rooms", type=int, default=30, help="rooms in the lobby")
    parser.add_argument("--sql", action="store_true", help="print each query")
    parser.add_argument(
        "--cpu", type=int, default=0, help="also time this many requests a page (CPU ms each)"
    )
    parser.add_argument("--concurrency", type=int, default=1, help="requests at once, for --cpu")
    args = parser.parse_args()
    if args.database:
        fresh_postgres(args.database)
        database = args.database
    else:
        database = f"sqlite:///{tempfile.mkdtemp()}/page-work.sqlite3"
    calls = RedisCalls()
    calls.install()
    setup(database)
    from django.test import Client

    reader = fill(args.rooms)
    pages = {
        "/healthz": (Client(), "/healthz"),
        "lobby (new visitor)": (Client(), "/"),
        "lobby (joined)": (reader, "/"),
        "room, 50 messages (joined)": (reader, "/rooms/perf/"),
    }
    print(f"{'page':<30}{'queries':>8}{'redis trips':>13}  redis commands")
    for name, (client, path) in pages.items():
        found = measure(client, path, calls)
        commands = ", ".join(f"{c} {n}" for c, n in sorted(found["redis_commands"].items()))
        print(f"{name:<30}{found['queries']:>8}{found['redis_round_trips']:>13}  {commands}")
        if args.cpu:
            cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
            ms = cpu_per_request(path, cookie, args.cpu, args.concurrency)
            print(f"{'':<30}CPU {ms:.2f} ms a request ({args.concurrency} at once)")
        if args.sql:
            for sql in found["sql"]:
                print(f"    {sql}")


if __name__ == "__main__":
    main()
