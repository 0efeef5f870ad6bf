"""How fast a page of history is in a room with a million messages.

    .venv/bin/python benchmarks/history.py                       # SQLite, a file in /tmp
    .venv/bin/python benchmarks/history.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_history_measure

Fills one room (once; later runs reuse it), then times rooms.history for the newest
page, a page in the middle and the oldest page, prints the query plan of the keyset
query, and for contrast times the oldest page read with OFFSET.
"""

import argparse
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def create_postgres_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fill(room, count: int) -> None:
    """Bulk-insert messages 1..count in one statement, a second apart, ending now."""
    from django.db import connection

    from rooms.models import Message, Room

    if room.last_seq >= count:
        return
    Message.objects.filter(room=room).delete()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO rooms_message "
                "(room_id, seq, revision, author, author_key, guest, continues, body, created) "
                "SELECT %s, g, g, 'bench', '', true, false, 'message ' || g, "
                "now() - make_interval(secs => %s - g) FROM generate_series(1, %s) g",
                [room.pk, count, count],
            )
            cursor.execute("ANALYZE rooms_message")
        else:
            cursor.execute(
                "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < %s) "
                "INSERT INTO rooms_message "
                "(room_id, seq, revision, author, author_key, guest, continues, body, created) "
                "SELECT %s, g, g, 'bench', '', 1, 0, 'message ' || g, "
                "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || (%s - g) || ' seconds') FROM n",
                [count, room.pk, count],
            )
            cursor.execute("ANALYZE")
    Room.objects.filter(pk=room.pk).update(last_seq=count, last_revision=count)
    room.last_seq = count


def timed(call, repeat: int, worst: float = 1.0) -> tuple[float, float]:
    """Median and the `worst` quantile (1.0: the slowest) time of `call`, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(worst * len(times)))]


def start_django(database: str) -> None:
    """Django on `database` (a URL; a PostgreSQL database is created when missing),
    migrated."""
    if database.startswith("postgres"):
        create_postgres_database(database)
    os.environ.update(
        DATABASE_URL=database,
        SECRET_KEY="benchmark-only",  # noqa: S106
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/parley-history-measure.sqlite3")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    start_django(args.database)
    from django.db import connection

    from rooms import history
    from rooms.models import HISTORY_LENGTH, Room

    room = Room.objects.for_name("Benchmark")
    start = time.perf_counter()
    fill(room, args.messages)
    print(
        f"{connection.vendor}: {room.last_seq:,} messages in one room "
        f"(ready in {time.perf_counter() - start:.1f} s); rooms.history.before() per page:"
    )

    newest = room.last_seq
    pages = {
        "newest page": None,
        "middle page": newest // 2,
        "oldest page": HISTORY_LENGTH + 1,
    }
    for label, before in pages.items():
        page = history.before(room, before)
        assert len(page.messages) == HISTORY_LENGTH, label
        median, worst = timed(lambda before=before: history.before(room, before), args.repeat)
        print(
            f"  {label:12} seq {page.messages[0].seq:>9,}..{page.messages[-1].seq:<9,} "
            f"median {median:6.3f} ms  max {worst:6.3f} ms  ({args.repeat} runs)"
        )

    keyset = room.messages.filter(seq__lt=newest // 2).order_by("-seq")[: HISTORY_LENGTH + 1]
    options = {"analyze": True} if connection.vendor == "postgresql" else {}
    print("\nplan of the keyset query (middle page):")
    print("  " + keyset.explain(**options).replace("\n", "\n  "))

    offset = room.messages.order_by("-seq")[newest - HISTORY_LENGTH : newest + 1]
    median, worst = timed(lambda: list(offset.all()), 5)
    print(f"\nfor contrast, the oldest page by OFFSET: median {median:.1f} ms  max {worst:.1f} ms")


if __name__ == "__main__":
    main()
