"""'ada is typing…': a cue for the others in a room, never shown to the typist.

The cue carries the typist's author tag and the room page hides its own (the
nonce'd style keyed on the viewer's tag), so everyone gets the same bytes. It hides
itself after a few seconds (CSS), so nothing is sent when someone stops typing.
"""

import time
from functools import lru_cache

from .broadcast import render_group_push
from .languages import Drawn
from .live.presence import Person

# A socket's cues count at most once per MIN_GAP seconds; the page sends one per 3 s.
# A cheap first filter: rooms/limits.py then counts each person's and each address's
# cues across all their sockets and processes.
MIN_GAP = 2.0


class Throttle:
    """Drops a socket's cues that come sooner than MIN_GAP after the last one let through."""

    def __init__(self) -> None:
        self.last = float("-inf")

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self.last < MIN_GAP:
            return False
        self.last = now
        return True


@lru_cache(maxsize=1024)
def cue(name: str, guest: bool, key: str) -> Drawn:
    """The cue for one person, drawn once per process (in each language)."""
    return render_group_push("typing", person=Person(name, guest, key))
