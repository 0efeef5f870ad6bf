"""How fast a search is in a room with a million messages.

    .venv/bin/python benchmarks/search.py                       # SQLite, a file in /tmp
    .venv/bin/python benchmarks/search.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_search_measure

Fills one room (once; later runs reuse it) the way benchmarks/history.py does, a million
messages a second apart, but with words of chat: four a message, drawn from a vocabulary
where some words are common ("deployment" is in about one message in twenty) and most
are rare, so a query matches as many messages as it would in a real room. Then times
rooms.search.search() for the kinds of query people type, and prints the plan of the
full-text query, to show it reads the index.
"""

import argparse
import sys
import time

from history import ROOT, start_django, timed

sys.path.insert(0, str(ROOT))

# How often each word is used, out of 1,000 draws per word slot. The rest of the
# vocabulary is filled with rare words ("word17"), one draw each.
COMMON = {
    "the": 120,
    "and": 80,
    "deployment": 50,
    "failed": 30,
    "passed": 30,
    "build": 40,
    "release": 25,
    "review": 25,
    "lunch": 15,
    "tomorrow": 20,
    "meeting": 20,
    "coffee": 10,
    "database": 15,
    "migration": 10,
    "staging": 10,
    "production": 10,
}
VOCABULARY_SIZE = 1000
# Each of the four words of a message comes from its own mix of the message's number,
# so pairs of words are as independent as they would be in real talk. (%% is SQL modulo
# in a statement with parameters.)
SLOTS = ("g %% 997", "(g / 997) %% 991", "(g * 31) %% 983", "(g / 7) %% 977")

QUERIES = {
    "two common words": "deployment failed",
    "two words, one rare": "deployment word42",
    "two rare words": "word42 word7",
    "a prefix": "deplo",
    "a phrase": '"build passed"',
    "a word without another": "migration -staging",
    "nothing matches": "zebra",
}


def vocabulary() -> list[str]:
    words = [word for word, count in COMMON.items() for _ in range(count)]
    return words + [f"word{n}" for n in range(VOCABULARY_SIZE - len(words))]


def fill(room, count: int) -> None:
    """Bulk-insert messages 1..count of four words each, in one statement."""
    from django.db import connection

    from rooms.models import Message, Room

    if room.last_seq >= count:
        return
    Message.objects.filter(room=room).delete()
    # Built from the constants above only, never from input.
    body = " || ' ' || ".join(f"(SELECT w FROM vocab WHERE i = {slot})" for slot in SLOTS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS vocab")
        cursor.execute("CREATE TABLE vocab (i integer PRIMARY KEY, w text)")
        cursor.executemany("INSERT INTO vocab VALUES (%s, %s)", list(enumerate(vocabulary())))
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO rooms_message "
                "(room_id, seq, revision, author, author_key, guest, continues, body, created) "
                f"SELECT %s, g, g, 'bench', '', true, false, {body}, "
                "now() - make_interval(secs => %s - g) FROM generate_series(1, %s) g",
                [room.pk, count, count],
            )
        else:
            cursor.execute(
                "WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < %s) "
                "INSERT INTO rooms_message "
                "(room_id, seq, revision, author, author_key, guest, continues, body, created) "
                f"SELECT %s, g, g, 'bench', '', 1, 0, {body}, "
                "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || (%s - g) || ' seconds') FROM n",
                [count, room.pk, count],
            )
        cursor.execute("DROP TABLE vocab")
        cursor.execute("ANALYZE")
    Room.objects.filter(pk=room.pk).update(last_seq=count, last_revision=count)
    room.last_seq = count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite:////tmp/parley-search-measure.sqlite3")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    start_django(args.database)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms.models import Room
    from rooms.search import search

    room = Room.objects.for_name("Search benchmark")
    start = time.perf_counter()
    fill(room, args.messages)
    print(
        f"{connection.vendor}: {room.last_seq:,} messages in one room "
        f"(ready in {time.perf_counter() - start:.1f} s); rooms.search.search(), a page of 20:"
    )
    for label, text in QUERIES.items():
        found = len(search(text, rooms=[room]).hits)
        median, p99 = timed(lambda text=text: search(text, rooms=[room]), args.repeat, 0.99)
        print(
            f"  {label:24} {text!r:22} {found:2} hits  "
            f"median {median:7.3f} ms  p99 {p99:7.3f} ms  ({args.repeat} runs)"
        )

    explain = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    for label in ("two common words", "two rare words"):
        with CaptureQueriesContext(connection) as queries:
            search(QUERIES[label], rooms=[room])
        print(f"\nplan of the full-text query ({label}):")
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                cursor.execute(explain + query["sql"])
                print("  " + "\n  ".join(" | ".join(map(str, row)) for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
