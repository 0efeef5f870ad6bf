"""Reading back through a room: pages of messages by keyset on (room, seq).

A page is found by the sequence number next to it, never by OFFSET, so the oldest
page of a room with a million messages costs what the newest does: one range scan
of the (room, seq) unique index.
"""

from dataclasses import dataclass

from .models import HISTORY_LENGTH, Message, Room, record_number


@dataclass(frozen=True)
class Page:
    """Messages oldest first, and where the pages beside them start (None: no more)."""

    messages: list[Message]
    older: int | None = None
    newer: int | None = None

    @property
    def is_latest(self) -> bool:
        return self.newer is None


def latest(room: Room, size: int = HISTORY_LENGTH) -> Page:
    return before(room, None, size)


def before(room: Room, seq: int | None, size: int = HISTORY_LENGTH) -> Page:
    """The `size` messages just before seq (the newest ones without it)."""
    # Each message is drawn with its files: read with them, one query for the page.
    query = room.messages.prefetch_related("attachments").order_by("-seq")
    if seq is not None:
        query = query.filter(seq__lt=seq)
    # One more than shown tells whether an older page exists, without a COUNT.
    rows = list(query[: size + 1])
    shown = rows[:size][::-1]
    older = shown[0].seq if len(rows) > size else None
    # The room row knows its newest number: no second query for the "newer" link.
    newer = shown[-1].seq if seq is not None and shown and shown[-1].seq < room.last_seq else None
    return Page(shown, older=older, newer=newer)


def after(room: Room, seq: int, size: int = HISTORY_LENGTH) -> Page:
    """The `size` messages just after seq: paging forward without JavaScript."""
    query = room.messages.prefetch_related("attachments")
    rows = list(query.filter(seq__gt=seq).order_by("seq")[: size + 1])
    shown = rows[:size]
    if not shown:
        return latest(room, size)
    older = shown[0].seq if room.messages.filter(seq__lt=shown[0].seq).exists() else None
    newer = shown[-1].seq if len(rows) > size else None
    return Page(shown, older=older, newer=newer)


def cursor(value: str | None) -> int | None:
    """A sequence number from a query string; anything else is no cursor at all."""
    return record_number(value)
