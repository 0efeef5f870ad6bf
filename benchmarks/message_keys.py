"""What message keys cost on the posting path: batches of 20 posts, with and without keys.

    .venv/bin/python benchmarks/message_keys.py                  # SQLite, a file in /tmp
    .venv/bin/python benchmarks/message_keys.py \\
        --database postgres://postgres@127.0.0.1:5432/parley_keys_measure

Batches with and without keys alternate, so a busy machine slows both alike. On SQLite the
database runs in this process, so its CPU time is reported (steadier on a shared machine);
on PostgreSQL the wall time.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BATCH, ROUNDS, WARM_UP = 20, 600, 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a postgres:// URL (created when missing)")
    args = parser.parse_args()
    if args.database:
        from history import create_postgres_database

        create_postgres_database(args.database)
    url = args.database or f"sqlite:///{tempfile.mkdtemp()}/keys.sqlite3"
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="benchmark-only",  # noqa: S106
        RATE_LIMITS="off",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from rooms.identity import Identity
    from rooms.models import Room
    from rooms.posting import post_messages

    call_command("migrate", verbosity=0)
    room = Room.objects.for_name(f"keys {secrets.token_hex(4)}")
    me = Identity("ada", guest=True, key="session.measure")
    clock = time.perf_counter if args.database else time.process_time
    took: dict[bool, list[float]] = {False: [], True: []}
    for n in range(ROUNDS):
        keyed = bool(n % 2)
        posts = [
            (room, me, "hello", secrets.token_hex(16) if keyed else None) for _ in range(BATCH)
        ]
        start = clock()
        post_messages(posts)
        took[keyed].append(clock() - start)
    kind = "wall" if args.database else "CPU"
    for keyed in (False, True):
        median = statistics.median(took[keyed][WARM_UP:]) * 1000
        label = "with keys" if keyed else "without keys"
        print(f"{label}: {median:.2f} ms {kind} per batch of {BATCH} (median)")


if __name__ == "__main__":
    main()
