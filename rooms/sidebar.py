"""Drawing the sidebar's live updates: each drawn once, the same bytes for every page.

A new message in a room becomes one mark (templates/rooms/_unread_mark.html: who wrote
it, whom it mentions) sent to the room's sidebar group, which every room socket of a
person with that room in their list joins (rooms/live/process.py). Each page counts the
marks with CSS counters, leaving out its own person's (the room page's <style>), so the
count needs no per-reader drawing. Reading a room clears its marks on that person's
other pages (sent to their identity's group).
"""

import re

from .broadcast import FRAGMENT_EVENT, render_group_push
from .models import Message
from .templatetags.chat import MENTION, mention_tag

# Counts are drawn as marks a page counts; from this many on they read "99+" (CSS), so no
# more are drawn on a page (rooms/reading.py).
MARKS_DRAWN = 100
MENTIONS = re.compile(MENTION)

# Every this many messages a room's mark also trims pages that hold many of its marks:
# their count reads "99+" either way, and a page left open for weeks stays small.
TRIM_EVERY = MARKS_DRAWN


def mention_tags(text: str) -> list[str]:
    """The tags (chat.py mention_tag) of the names a text mentions, each once, in order."""
    names = (match["name"].rstrip(".-") for match in MENTIONS.finditer(text))
    return list(dict.fromkeys(mention_tag(name) for name in names if name))


def unread_group(room_id: int) -> str:
    return f"unread.{room_id}"


def unread_event(message: Message) -> dict:
    """A new message, as every sidebar that lists its room shows it."""
    html = render_group_push(
        "unread",
        room_id=message.room_id,
        by=message.author_tag,
        mentions=" ".join(mention_tags(message.body)),
        trim=message.seq % TRIM_EVERY == 0,
        kept=MARKS_DRAWN,
        many=2 * MARKS_DRAWN,
    )
    return {"type": FRAGMENT_EVENT, "group": unread_group(message.room_id), "html": html}


def read_event(room_id: int, key: str) -> dict:
    """`key`'s person read the room: its count clears on all their pages."""
    html = render_group_push("read", room_id=room_id)
    return {"type": FRAGMENT_EVENT, "group": key, "html": html}
