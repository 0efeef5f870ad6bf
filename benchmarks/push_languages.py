"""What drawing each push once per language costs: a new message's group event, drawn for
one language and for every language the site offers.

    .venv/bin/python benchmarks/push_languages.py

Rounds with one language and with all alternate, so a busy machine slows both alike. The
message's cached drawing is cleared before each event, as for a new message. Reported: CPU
microseconds per event (median of the rounds) and the characters the event carries.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EVENTS, ROUNDS, WARM_UP = 1000, 5, 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tempfile.mkdtemp()}/languages.sqlite3",
        SECRET_KEY="benchmark-only",  # noqa: S106
        DEBUG="0",
        RATE_LIMITS="off",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from rooms import broadcast
    from rooms.identity import Identity
    from rooms.models import Message, Room
    from rooms.posting import post_message

    call_command("migrate", verbosity=0)
    room = Room.objects.for_name("Bench")
    carl = Identity("carl", guest=True, key="guest.carl")
    posted = post_message(room, carl, "Hello @ada, a message of an ordinary length for this.")
    message = Message.objects.drawn().get(pk=posted.pk)

    def draw(events: int) -> tuple[float, int]:
        started = time.process_time()
        for _ in range(events):
            broadcast._draw.cache_clear()
            html = broadcast.message_event(message)["html"]
        spent = (time.process_time() - started) / events * 1e6
        return spent, len(html) if isinstance(html, str) else sum(map(len, html.values()))

    offered = list(settings.LANGUAGES)
    one = [(settings.LANGUAGE_CODE, "site")]
    draw(WARM_UP)
    times: dict[int, list[float]] = {1: [], len(offered): []}
    sizes: dict[int, int] = {}
    for _ in range(ROUNDS):
        for languages in (one, offered):
            settings.LANGUAGES = languages
            spent, sizes[len(languages)] = draw(EVENTS)
            times[len(languages)].append(spent)
    for count, spent in times.items():
        print(
            f"{count} language(s): {statistics.median(spent):.0f} µs of CPU per event, "
            f"{sizes[count]} characters"
        )
    ratio = statistics.median(times[len(offered)]) / statistics.median(times[1])
    print(f"all languages / one: {ratio:.2f} times")


if __name__ == "__main__":
    main()
