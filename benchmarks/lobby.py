"""How long the lobby (`GET /`) takes with 1,000, 10,000 and 100,000 rooms.

    .venv/bin/python benchmarks/lobby.py                       # SQLite, a file in /tmp
    .venv/bin/python benchmarks/lobby.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_lobby_measure

Adds rooms up to each size (once; later runs reuse them), one message each, their
last activity spread over the past week (so about one room in seven is recent), then
times the whole page, join form and lobby included, and prints the plan of every
query the lobby makes on the rooms table.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WEEK = 7 * 24 * 3600


def fill(count: int) -> None:
    """Rooms bench-1..bench-count, each with one message some time in the past week."""
    from django.db import connection

    from rooms.models import Room

    have = Room.objects.filter(slug__startswith="bench-").count()
    if have == count:
        return
    if have > count:  # a smaller size after a bigger one: start again
        with connection.cursor() as cursor:
            bench = "(SELECT id FROM rooms_room WHERE slug LIKE 'bench-%%')"
            cursor.execute(f"DELETE FROM rooms_message WHERE room_id IN {bench}")
            cursor.execute("DELETE FROM rooms_room WHERE slug LIKE 'bench-%%'")
        have = 0
    pg = connection.vendor == "postgresql"
    numbers = (
        "SELECT g FROM generate_series(%s, %s) g"
        if pg
        else "WITH RECURSIVE n(g) AS (SELECT %s UNION ALL SELECT g + 1 FROM n WHERE g < %s) "
        "SELECT g FROM n"
    )
    ago = (
        "now() - make_interval(secs => (g * 7919) %% {week})"
        if pg
        else "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ((g * 7919) %% {week}) "
        "|| ' seconds')"
    ).format(week=WEEK)
    # Fixed text only: nothing here comes from outside.
    columns = "slug, name, created, last_seq, last_revision, description, topic"
    values = f"'bench-' || g, 'Bench ' || g, {ago}, 1, 1, '', ''"
    rooms = f"INSERT INTO rooms_room ({columns}) SELECT {values} FROM ({numbers}) numbers"
    with connection.cursor() as cursor:
        cursor.execute(rooms, [have + 1, count])
        cursor.execute(
            "INSERT INTO rooms_message "
            "(room_id, seq, author, author_key, guest, continues, body, created, revision) "
            "SELECT id, 1, 'bench', '', true, false, 'hello from ' || slug, created, 1 "
            "FROM rooms_room "
            "WHERE slug LIKE 'bench-%%' AND NOT EXISTS "
            "(SELECT 1 FROM rooms_message m WHERE m.room_id = rooms_room.id)"
        )
        if any(f.name == "last_activity" for f in Room._meta.get_fields()):
            cursor.execute(
                "UPDATE rooms_room SET last_activity = created WHERE last_activity IS NULL "
                "AND slug LIKE 'bench-%%'"
            )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/parley-lobby-measure.sqlite3")
    parser.add_argument("--rooms", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    if args.database.startswith("postgres"):
        from history import create_postgres_database  # the history benchmark's helper

        create_postgres_database(args.database)
    os.environ.update(
        DATABASE_URL=args.database,
        DJANGO_SETTINGS_MODULE="tests.settings",  # no collectstatic manifest needed
        ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        ACCESS_LOG_LEVEL="WARNING",
        PYTHONWARNINGS="ignore",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    client = Client()
    plans = {}
    for size in (int(n) for n in args.rooms.split(",")):
        fill(size)
        assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/").content.decode()
        # Read them now: every request starts with an empty query log.
        captured = [q["sql"] for q in queries.captured_queries]
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            client.get("/")
            times.append((time.perf_counter() - start) * 1000)
        median, worst = statistics.median(times), max(times)
        listed = page.count('class="room-card"')
        print(
            f"{connection.vendor}: {size:>7,} rooms: GET / median {median:7.2f} ms  "
            f"max {worst:7.2f} ms  ({args.repeat} runs, {len(captured)} queries, "
            f"{listed} rooms listed)",
            flush=True,
        )
        plans = [sql for sql in captured if 'FROM "rooms_room"' in sql]
    print("\nplans of the lobby's queries on rooms_room (largest size):")
    with connection.cursor() as cursor:
        for sql in plans:
            print("  " + sql[:160] + ("…" if len(sql) > 160 else ""))
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN ANALYZE " + sql)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
            for row in cursor.fetchall():
                print("    " + " ".join(str(column) for column in row[-1:]))


if __name__ == "__main__":
    main()
