"""The lobby's rooms: the ones with people in them now or a recent message.

Each room is drawn by templates/rooms/_room_card.html, on the page and in live
pushes alike (the pushes: rooms/live/lobby.py), once per process for what it shows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .broadcast import render_group_push
from .languages import Drawn
from .live import presence
from .models import Message, Room

GROUP = "lobby"
LISTED = 30  # rooms on the lobby page


@dataclass(frozen=True)
class Card:
    room: Room
    here: int  # people in the room now
    newest: Message | None
    listed: bool  # False: the room went quiet, and its card leaves the lobby

    @property
    def last_at(self) -> datetime | None:
        return self.newest.created if self.newest else None

    @property
    def drawn(self) -> str:
        """The card drawn by its partial, once per process for what it shows: every lobby
        page and push between two changes to a room gets the same string."""
        room, newest = self.room, self.newest
        shown = (
            room.pk,
            room.slug,
            room.name,
            room.description,
            room.topic,
            self.here,
            self.listed,
            *(
                (newest.pk, newest.created, newest.author, newest.body, newest.deleted)
                if newest
                else ()
            ),
            translation.get_language(),
        )
        return _draw(shown, self)


@lru_cache(maxsize=1024)
def _draw(shown: tuple, card: Card) -> str:
    # Keyed by everything the partial shows, so a changed room or count is drawn anew.
    return render_to_string("rooms/_room_card.html", {"card": card})


def _cutoff() -> datetime:
    return timezone.now() - timedelta(hours=settings.LOBBY_HOURS)


def _cards(rooms: list[Room], counts: dict[int, int]) -> list[Card]:
    # Each room's newest message, by the (room, seq) index: one short query whatever the
    # number of rooms, with a condition that costs as little to build for 30 rooms as for 1.
    with_messages = [room.pk for room in rooms if room.last_seq]
    newest = (
        {
            m.room_id: m
            for m in Message.objects.filter(room_id__in=with_messages, seq=F("room__last_seq"))
        }
        if with_messages
        else {}
    )
    cutoff = _cutoff()
    return [
        Card(
            room=room,
            here=counts.get(room.pk, 0),
            newest=newest.get(room.pk),
            listed=counts.get(room.pk, 0) > 0
            or bool(room.last_activity and room.last_activity >= cutoff),
        )
        for room in rooms
    ]


def listing() -> list[Card]:
    """The rooms the lobby page lists: people in them first, then the latest activity.

    Two short reads, whatever the number of rooms: the rooms people are in, and the
    most recently active ones through the index on Room.last_activity; and from the
    presence store, which rooms have anyone in them and how many (those rooms only).
    """
    present = presence.active_rooms()
    newest_first = F("last_activity").desc(nulls_first=True), "-created"
    # Open rooms only: the lobby is for finding rooms anyone may walk into.
    with_people = Room.objects.open().filter(pk__in=present).order_by(*newest_first)[:LISTED]
    rooms = {room.pk: room for room in (with_people if present else [])}
    recent = Room.objects.open().filter(last_activity__gte=_cutoff()).order_by("-last_activity")
    for room in recent[:LISTED]:
        rooms.setdefault(room.pk, room)
    # Only rooms with anyone in them are counted: the rest are empty, and asking the
    # presence store about each of them cost more than the rest of the listing.
    occupied = set(present)
    counts = presence.counts([pk for pk in rooms if pk in occupied]) if occupied else {}
    cards = [c for c in _cards(list(rooms.values()), counts) if c.listed]
    cards.sort(
        key=lambda card: (card.here > 0, card.room.last_activity or card.room.created),
        reverse=True,
    )
    return cards[:LISTED]


def cards_for(room_ids: set[int]) -> list[Card]:
    """Cards for rooms that changed; a room that went quiet gets an unlisted card."""
    rooms = list(Room.objects.open().filter(pk__in=room_ids))
    return _cards(rooms, presence.counts({room.pk for room in rooms}))


def draw(cards: list[Card]) -> Drawn:
    return render_group_push("room_cards", cards=cards)
