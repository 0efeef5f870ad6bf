"""Who is in a room now, shared by every server process.

Each open socket is one entry in its room's store (rooms/live/stores.py): a Redis
sorted set scored by expiry time, or a dict in this process, as
settings.PRESENCE_BACKEND says. Every PRESENCE_HEARTBEAT seconds the process
refreshes the entries of all its sockets, so the entries of a process that died
without saying goodbye expire by themselves.

Comings and goings are coalesced: a room that changed is read, drawn once and sent
to its group at most once every LIVE_PUSH_EVERY seconds, however many sockets came
and went. A person with several tabs has an entry per tab and is shown once.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from channels.layers import get_channel_layer
from django.conf import settings

from ..broadcast import FRAGMENT_EVENT, group_name, render_group_push
from ..identity import Identity, Shown
from ..languages import Drawn
from .stores import Store

log = logging.getLogger(__name__)

SHOWN = 50  # names listed; the rest are counted ("and 12 more")
# Separates the parts of an entry; validate_printable keeps it out of every name.
SEP = "\x1f"


@dataclass(frozen=True)
class Person(Shown):
    name: str
    guest: bool
    key: str = ""


@dataclass(frozen=True)
class Here:
    """Who is in a room: the first SHOWN people by name, and how many in all."""

    people: tuple[Person, ...] = ()
    count: int = 0

    @property
    def more(self) -> int:
        return self.count - len(self.people)


def entry(conn: str, me: Identity) -> str:
    return SEP.join((conn, me.key, "g" if me.guest else "m", me.name))


def who(entries: Iterable[str]) -> Here:
    people: dict[str, Person] = {}
    for item in entries:
        _conn, key, kind, name = item.split(SEP, 3)
        people[key] = Person(name, guest=kind == "g", key=key)
    ordered = sorted(people.values(), key=lambda p: (p.name.casefold(), p.name, p.guest, p.key))
    return Here(tuple(ordered[:SHOWN]), len(people))


def how_many(entries: Iterable[str]) -> int:
    return len({item.split(SEP, 2)[1] for item in entries})


def draw(here: Here) -> Drawn:
    return render_group_push("presence", here=here)


class Presence:
    """This process's sockets in the store, and the coalesced who-is-here pushes."""

    def __init__(self, store: Callable[[], Store], touch: Callable[[int], None]) -> None:
        self.store = store
        # A room's lobby card shows how many are there (rooms/live/lobby.py).
        self.touch = touch
        # This process's sockets: room id -> {connection id: entry}.
        self.local: dict[int, dict[str, str]] = {}
        # Rooms whose people may have changed since their last push.
        self.dirty: set[int] = set()
        # The last who-is-here fragment this process's sockets got, per room (in every
        # language): a room is pushed again only when what it would show differs.
        self.heard: dict[int, Drawn] = {}
        self.beat = time.monotonic() + settings.PRESENCE_HEARTBEAT

    async def arrive(self, room_id: int, me: Identity, conn: str) -> None:
        """A socket opened in a room (cheap: one write; the push comes coalesced)."""
        item = entry(conn, me)
        self.local.setdefault(room_id, {})[conn] = item
        try:
            await self.store().aadd(room_id, item, time.time() + settings.PRESENCE_TTL)
        except Exception:
            log.warning("presence: could not record an arrival in room %s", room_id)
        self.dirty.add(room_id)

    async def leave(self, room_id: int, conn: str) -> None:
        """A socket closed; a process that dies says nothing, and its entries expire."""
        sockets = self.local.get(room_id, {})
        item = sockets.pop(conn, None)
        if not sockets:
            self.local.pop(room_id, None)
        if item is None:
            return
        try:
            await self.store().aremove(room_id, item)
        except Exception:
            log.warning("presence: could not record a departure from room %s", room_id)
        self.dirty.add(room_id)

    def hear(self, room_id: int, html: Drawn) -> None:
        """A who-is-here fragment reached this process's sockets (from any process)."""
        if room_id in self.local:
            self.heard[room_id] = html

    @staticmethod
    def every() -> float:
        return min(settings.LIVE_PUSH_EVERY, settings.PRESENCE_HEARTBEAT)

    async def tick(self) -> None:
        """Every `every()` seconds: push the rooms that changed; on the heartbeat, refresh
        this process's entries and push its rooms again if what they show moved."""
        rooms = set(self.dirty)
        self.dirty.clear()
        if time.monotonic() >= self.beat:
            self.beat = time.monotonic() + settings.PRESENCE_HEARTBEAT
            await self.heartbeat()
            # Each process checks its own rooms: one that missed a push (or whose other
            # process died) is shown the truth again.
            rooms |= set(self.local)
        if rooms:
            try:
                await self.push(rooms)
            except Exception:
                log.warning("presence: could not push rooms %s; trying again", sorted(rooms))
                self.dirty.update(rooms)

    async def heartbeat(self) -> None:
        if not self.local:
            return
        local = {room_id: list(sockets.values()) for room_id, sockets in self.local.items()}
        now = time.time()
        try:
            await self.store().arefresh(local, now + settings.PRESENCE_TTL, now)
        except Exception:
            log.warning("presence: heartbeat failed; trying again")

    async def push(self, rooms: set[int]) -> None:
        found = await self.store().aentries(rooms, time.time())
        for room_id, items in found.items():
            html = draw(who(items))
            if html == self.heard.get(room_id):
                continue
            if room_id in self.local:
                self.heard[room_id] = html
            else:
                self.heard.pop(room_id, None)
            if settings.LIVE_PUSHES:
                group = group_name(room_id)
                event = {"type": FRAGMENT_EVENT, "group": group, "html": html, "presence": True}
                await get_channel_layer().group_send(group, event)
            self.touch(room_id)


# Reads for pages (from any thread), through the process's store.


def store() -> Store:
    """This process's presence store, made from settings.PRESENCE_BACKEND on first use."""
    from . import runtime

    return runtime().store


def here_now(room_id: int, viewer: Identity | None = None) -> Here:
    """Who is in a room, for drawing the page. The viewer is there too: their socket
    has not opened yet, and without JavaScript it never will."""
    try:
        items = store().entries([room_id], time.time())[room_id]
    except Exception:
        log.warning("presence: could not read room %s", room_id)
        items = []
    if viewer is not None:
        # Their own tabs' entries share the key, so they are still counted once.
        items = [*items, entry("page", viewer)]
    return who(items)


def counts(room_ids: Iterable[int]) -> dict[int, int]:
    """How many people are in each room (a person with two tabs counts once)."""
    try:
        found = store().entries(room_ids, time.time())
    except Exception:
        log.warning("presence: could not read the rooms' counts")
        return dict.fromkeys(room_ids, 0)
    return {room_id: how_many(items) for room_id, items in found.items()}


def active_rooms() -> list[int]:
    """Rooms with anyone in them now."""
    try:
        return store().active(time.time())
    except Exception:
        log.warning("presence: could not read the active rooms")
        return []
