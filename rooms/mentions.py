"""Who can be mentioned in a room: what the message box offers after "@".

The people here now come first, then those who spoke lately, each name once; only names
that a mention can spell (rooms/templatetags/chat.py MENTION: no spaces) are offered.
"""

import re
from dataclasses import dataclass

from .identity import Identity
from .live import presence
from .models import Room
from .templatetags.chat import MENTION_NAME

OFFERED = 8  # names in the list at most
RECENT = 200  # messages looked through for recent authors
MENTIONABLE = re.compile(MENTION_NAME)


@dataclass(frozen=True)
class Candidate:
    name: str
    here: bool


def candidates(room: Room, me: Identity, typed: str) -> list[Candidate]:
    """Names that start with what was typed after "@" (any letter case), not the viewer's."""
    start = typed.casefold()
    seen = {me.name.casefold()}
    found: list[Candidate] = []

    def offer(name: str, here: bool) -> None:
        folded = name.casefold()
        if folded in seen or not folded.startswith(start) or not MENTIONABLE.fullmatch(name):
            return
        seen.add(folded)
        found.append(Candidate(name, here))

    for person in presence.here_now(room.pk).people:
        offer(person.name, here=True)
    authors = room.messages.filter(deleted__isnull=True).order_by("-seq")[:RECENT]
    for name in authors.values_list("author", flat=True):
        if len(found) >= OFFERED:
            break
        offer(name, here=False)
    return found[:OFFERED]
