"""After a change, tell everyone: the one place a stored change becomes what people see.

Each kind of change (rooms/posting.py, editing.py, about.py) stores itself and calls
`emit` with its event. Once the transaction commits, the event is drawn once (by the
partials in rooms/broadcast.py), published to the room's group, and the room's card
in the lobby is redrawn. Nothing else publishes a change, so a form, a socket, the
admin or a script all reach everyone the same way.

Domain functions run in a thread (they use the database). Called from the event loop
(rooms/live/outbox.py `call`), what they announce goes out from the loop once they
return, before the socket that asked is answered; called from plain synchronous code
(a page, the admin, a script), it goes out before the function returns.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

from asgiref.sync import async_to_sync
from django.db import transaction

from . import sidebar, typists
from .broadcast import (
    FRAGMENT_EVENT,
    IDENTITY_ENDED_EVENT,
    ROOM_LEFT_EVENT,
    ROOM_NOTICE_EVENT,
    group_name,
    message_event,
    render_group_push,
)
from .identity import Identity
from .live import lobby
from .live.hub import send, send_fragment
from .models import Message, Room

# The events: one per kind of change. `group_event` draws it, once, as the group sees it.


@dataclass(frozen=True)
class MessageChanged:
    """A message posted, edited or deleted: drawn whole, in the room's order. The same
    element id replaces an older copy on the page, so each kind is drawn alike."""

    message: Message

    @property
    def room_id(self) -> int:
        return self.message.room_id

    def group_event(self) -> dict:
        return message_event(self.message)

    def also(self) -> list[dict]:
        """Further group events, each drawn once too (none for most changes)."""
        return []


class Posted(MessageChanged):
    def also(self) -> list[dict]:
        # One more send per new message, whoever lists the room: its mark in their sidebars.
        return [sidebar.unread_event(self.message)]


class Edited(MessageChanged):
    pass


class Deleted(MessageChanged):
    pass


class Reacted(MessageChanged):
    pass


@dataclass(frozen=True)
class AboutChanged:
    """A room's topic or description changed."""

    room: Room
    field: str

    @property
    def room_id(self) -> int:
        return self.room.pk

    def group_event(self) -> dict:
        html = render_group_push("about", room=self.room)
        return {"type": FRAGMENT_EVENT, "group": group_name(self.room.pk), "html": html}

    def also(self) -> list[dict]:
        return []


@dataclass(frozen=True)
class Read:
    """Someone read a room further (rooms/reading.py): its count clears on their other
    pages. Nothing in the room or the lobby changed."""

    room_id: int
    key: str
    touches_lobby = False

    def group_event(self) -> dict:
        return sidebar.read_event(self.room_id, self.key)

    def also(self) -> list[dict]:
        return []


Event = MessageChanged | AboutChanged | Read


def emit(event: Event) -> None:
    """Announce `event` once the change is committed (at once outside a transaction);
    a change rolled back is never announced."""
    transaction.on_commit(partial(_committed, event), robust=True)


# Set by `held` while a domain function runs in a thread for the event loop: the events
# it commits wait here and go out from the loop (no thread waits on a group send).
_held: ContextVar[list[Event] | None] = ContextVar("held_events", default=None)


def _committed(event: Event) -> None:
    held = _held.get()
    if held is not None:
        held.append(event)
    else:
        announce_sync(event)


@contextmanager
def held():
    """Inside, what a domain function commits is collected in the list instead of
    announced from its database thread: the caller, on the event loop, announces it
    (rooms/live/outbox.py `call`), so no thread waits on a group send."""
    committed: list[Event] = []
    token = _held.set(committed)
    try:
        yield committed
    finally:
        _held.reset(token)


async def announce(event: Event) -> None:
    """Tell everyone, from the event loop: one drawing, one group send, the lobby card."""
    await send(event.group_event())
    for extra in event.also():
        await send(extra)
    if getattr(event, "touches_lobby", True):
        lobby.touch(event.room_id)


def announce_sync(event: Event) -> None:
    """The same from synchronous code; the lobby card goes at once."""
    async_to_sync(send)(event.group_event())
    for extra in event.also():
        async_to_sync(send)(extra)
    if getattr(event, "touches_lobby", True):
        lobby.touch_now(event.room_id)


async def typing(room: Room, me: Identity) -> None:
    """Someone is typing: a live cue for the room, nothing stored, no lobby card."""
    await send_fragment(group_name(room.pk), typists.cue(me.name, me.guest, me.key))


def end_identity(key: str, now=None, *, account_changed: bool = False) -> None:
    """Close every socket opened under an identity (logged out, renamed, or the account
    changed: a new password, deactivated), telling their pages first why, and who this
    browser is now (`now`, an Identity; None: nobody).
    Drawn once: every page of that identity gets the same bytes."""
    html = render_group_push("identity_ended", now=now, ended=True, account=account_changed)
    async_to_sync(send)({"type": IDENTITY_ENDED_EVENT, "group": key, "html": html})


def leave_room(room_id: int, key: str, reason: str) -> None:
    """Once committed, close every socket the identity `key` has open in one room (removed
    from it, or banned), telling their pages why: catch-up there ends with them."""
    html = render_group_push("identity_ended", ended=True, reason=reason)
    event = {"type": ROOM_LEFT_EVENT, "group": key, "room": room_id, "html": html}
    transaction.on_commit(lambda: async_to_sync(send)(event), robust=True)


def tell_in_room(room_id: int, key: str, error: str) -> None:
    """Once committed, show `error` on the message box of every page the identity `key`
    has open in one room (muted: why, and until when; "" clears it): drawn once."""
    html = render_group_push("sent") if not error else render_group_push("error", error=error)
    event = {"type": ROOM_NOTICE_EVENT, "group": key, "room": room_id, "html": html}
    transaction.on_commit(lambda: async_to_sync(send)(event), robust=True)
