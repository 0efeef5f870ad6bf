"""The lobby's live cards: a room that changed is redrawn and sent to every open lobby.

A room that changed (a message, someone came or went, a new topic) is redrawn at
most once every LIVE_PUSH_EVERY seconds per process, and the cards go to every
open lobby (the "lobby" group) in one frame. What a card shows is read by
rooms/lobby.py, for the page and these pushes alike.
"""

import logging

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.conf import settings

from ..lobby import GROUP, cards_for, draw
from .hub import send_fragment

log = logging.getLogger(__name__)


class LobbyUpdates:
    def __init__(self) -> None:
        # Rooms changed since the last push.
        self.dirty: set[int] = set()

    def touch(self, room_id: int) -> None:
        """A room's card may have changed: redraw it with the next push."""
        if settings.LIVE_PUSHES:
            self.dirty.add(room_id)

    @staticmethod
    def every() -> float:
        return settings.LIVE_PUSH_EVERY

    async def tick(self) -> None:
        if not self.dirty:
            return
        rooms = set(self.dirty)
        self.dirty.clear()
        try:
            cards = await database_sync_to_async(cards_for)(rooms)
        except Exception:
            log.warning("lobby: could not draw rooms %s", sorted(rooms))
            return
        if cards:  # none when only private rooms changed: they have no card
            await send_fragment(GROUP, draw(cards))


def touch(room_id: int) -> None:
    """A room's card may have changed: redraw it with the next push (from the event loop)."""
    from . import runtime

    live = runtime()
    live.start()
    live.lobby.touch(room_id)


def touch_now(room_id: int) -> None:
    """The same from a plain (synchronous) request: draw and send the card at once."""
    if not settings.LIVE_PUSHES:
        return
    try:
        if cards := cards_for({room_id}):
            async_to_sync(send_fragment)(GROUP, draw(cards))
    except Exception:
        log.warning("lobby: could not push room %s", room_id)
