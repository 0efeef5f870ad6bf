"""A room's record read back by day, and in pages for exports.

Days are calendar days in the site's zone (settings.TIME_ZONE, UTC by default): a message
belongs to the day its time falls on there, from midnight to the next midnight.
"""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone

from .models import Message, MessageQuerySet, Room

# Messages read per query when a whole day or room is streamed: each page is drawn and sent
# before the next is read, so an export holds one page in memory, not the room.
EXPORT_PAGE = 500


class IsoDateConverter:
    """`<isodate:day>` in a URL: a real calendar day as yyyy-mm-dd. Anything else (2026-02-30)
    matches no URL, so it is a 404. The first and last days a date can hold are left out:
    the day after them (where their transcript ends) does not exist."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        day = datetime.date.fromisoformat(value)  # ValueError: no such day, no match
        if not datetime.date.min < day < datetime.date.max:
            raise ValueError(value)
        return day

    def to_url(self, value: datetime.date | str) -> str:
        return str(value)  # a date's str() is its ISO form; templates may pass that


@dataclass(frozen=True)
class Day:
    """One day of a room: its messages oldest first, and the nearest days before and after
    it that have any (None: there is none)."""

    room: Room
    date: datetime.date
    messages: list[Message]
    earlier: datetime.date | None
    later: datetime.date | None


def bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """When a day starts and when the next one does, in the site's zone (a day around a
    change of clocks is 23 or 25 hours long)."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def today() -> datetime.date:
    return timezone.localdate()


def on_day(room: Room, day: datetime.date) -> MessageQuerySet:
    """The room's messages said that day, in the room's order (tombstones included)."""
    start, end = bounds(day)
    return room.messages.filter(created__gte=start, created__lt=end).order_by("seq")


def read_day(room: Room, day: datetime.date) -> Day:
    start, end = bounds(day)
    # Messages are stored in the room's order as they are said, so the one just before the
    # day is the newest said before its start, and the one just after the oldest after it.
    before = room.messages.filter(created__lt=start).order_by("-seq").first()
    after = room.messages.filter(created__gte=end).order_by("seq").first()
    return Day(
        room=room,
        date=day,
        messages=list(on_day(room, day).drawn()),
        earlier=before and local_day(before.created),
        later=after and local_day(after.created),
    )


def in_pages(messages: MessageQuerySet, size: int = EXPORT_PAGE) -> Iterator[list[Message]]:
    """Messages of one room, oldest first, with what they are drawn with, a page at a time:
    each page is found after the last one's seq (keyset on the (room, seq) index), never by
    OFFSET, and nothing is read before the page before has been used."""
    after = 0
    while True:
        page = list(messages.drawn().filter(seq__gt=after).order_by("seq")[:size])
        if page:
            yield page
        if len(page) < size:
            return
        after = page[-1].seq
