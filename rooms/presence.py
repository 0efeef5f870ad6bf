"""Who is in a room now, shared by every server process.

Each open socket is one entry in its room's store: a Redis sorted set scored by
expiry time when REDIS_URL is set, a dict in this process otherwise. One task per
process refreshes the entries of all its sockets every PRESENCE_HEARTBEAT seconds,
so the entries of a process that died without saying goodbye expire by themselves.

Comings and goings are coalesced: a room that changed is read, drawn once and sent
to its group at most once every LIVE_PUSH_EVERY seconds, however many sockets came
and went. A person with several tabs has an entry per tab and is shown once.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import redis
import redis.asyncio
from channels.layers import get_channel_layer
from django.conf import settings

from .broadcast import FRAGMENT_EVENT, group_name, render_push
from .identity import Identity, Shown

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


class MemoryStore:
    """One process without Redis: the entries in a dict, locked for the views' threads."""

    def __init__(self) -> None:
        self.rooms: dict[int, dict[str, float]] = {}
        self.lock = threading.Lock()

    def add(self, room_id: int, item: str, until: float) -> None:
        with self.lock:
            self.rooms.setdefault(room_id, {})[item] = until

    def remove(self, room_id: int, item: str) -> None:
        with self.lock:
            entries = self.rooms.get(room_id, {})
            entries.pop(item, None)
            if not entries:
                self.rooms.pop(room_id, None)

    def refresh(self, local: dict[int, list[str]], until: float, now: float) -> None:
        with self.lock:
            for room_id, items in local.items():
                self.rooms.setdefault(room_id, {}).update(dict.fromkeys(items, until))
            for room_id, entries in list(self.rooms.items()):
                for item in [item for item, expiry in entries.items() if expiry <= now]:
                    del entries[item]
                if not entries:
                    del self.rooms[room_id]

    def entries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        with self.lock:
            return {
                room_id: [i for i, expiry in self.rooms.get(room_id, {}).items() if expiry > now]
                for room_id in room_ids
            }

    def active(self, now: float) -> list[int]:
        with self.lock:
            return [r for r, entries in self.rooms.items() if max(entries.values()) > now]

    async def aadd(self, room_id: int, item: str, until: float) -> None:
        self.add(room_id, item, until)

    async def aremove(self, room_id: int, item: str) -> None:
        self.remove(room_id, item)

    async def arefresh(self, local: dict[int, list[str]], until: float, now: float) -> None:
        self.refresh(local, until, now)

    async def aentries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        return self.entries(room_ids, now)


class RedisStore:
    """Shared by every process: a sorted set per room (entry -> expiry time), and an
    index of rooms with anyone in them (room id -> latest expiry) for the lobby."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = f"{prefix}:presence"
        self.rooms_key = f"{self.prefix}:rooms"
        self._client: redis.Redis | None = None
        self._aclient: redis.asyncio.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def key(self, room_id: int) -> str:
        return f"{self.prefix}:{room_id}"

    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = redis.Redis.from_url(self.url, decode_responses=True)
        return self._client

    def aclient(self) -> redis.asyncio.Redis:
        # Connections belong to one event loop (tests run one per test).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._aclient = redis.asyncio.Redis.from_url(self.url, decode_responses=True)
            self._loop = loop
        return self._aclient

    def _keep(self, pipe, room_id: int, items: list[str], until: float) -> None:
        pipe.zadd(self.key(room_id), dict.fromkeys(items, until))
        # A room nobody refreshes any more vanishes as a whole.
        pipe.expire(self.key(room_id), int(settings.PRESENCE_TTL * 2) + 1)
        pipe.zadd(self.rooms_key, {str(room_id): until})

    def _entries(self, pipe, room_ids: list[int], now: float) -> None:
        for room_id in room_ids:
            pipe.zrangebyscore(self.key(room_id), f"({now}", "+inf")

    def entries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        room_ids = list(room_ids)
        pipe = self.client().pipeline(transaction=False)
        self._entries(pipe, room_ids, now)
        return dict(zip(room_ids, pipe.execute(), strict=True))

    def active(self, now: float) -> list[int]:
        pipe = self.client().pipeline(transaction=False)
        pipe.zremrangebyscore(self.rooms_key, "-inf", now)
        pipe.zrange(self.rooms_key, 0, -1)
        return [int(room_id) for room_id in pipe.execute()[1]]

    async def aadd(self, room_id: int, item: str, until: float) -> None:
        async with self.aclient().pipeline(transaction=False) as pipe:
            self._keep(pipe, room_id, [item], until)
            await pipe.execute()

    async def aremove(self, room_id: int, item: str) -> None:
        await self.aclient().zrem(self.key(room_id), item)

    async def arefresh(self, local: dict[int, list[str]], until: float, now: float) -> None:
        async with self.aclient().pipeline(transaction=False) as pipe:
            for room_id, items in local.items():
                self._keep(pipe, room_id, items, until)
                # Entries of a process that died stop being refreshed and drop out here.
                pipe.zremrangebyscore(self.key(room_id), "-inf", now)
            await pipe.execute()

    async def aentries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        room_ids = list(room_ids)
        async with self.aclient().pipeline(transaction=False) as pipe:
            self._entries(pipe, room_ids, now)
            return dict(zip(room_ids, await pipe.execute(), strict=True))


def make_store() -> MemoryStore | RedisStore:
    if settings.REDIS_URL:
        prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "parley")
        return RedisStore(settings.REDIS_URL, prefix)
    return MemoryStore()


store = make_store()

# This process's sockets: room id -> {connection id: entry}.
_local: dict[int, dict[str, str]] = {}
# Rooms whose people may have changed since their last push.
_dirty: set[int] = set()
# The last who-is-here fragment this process's sockets got, per room: a room is
# pushed again only when what it would show differs.
_heard: dict[int, str] = {}
_task: asyncio.Task | None = None


async def arrive(room_id: int, me: Identity, conn: str) -> None:
    """A socket opened in a room (cheap: one write; the push comes coalesced)."""
    item = entry(conn, me)
    _local.setdefault(room_id, {})[conn] = item
    try:
        await store.aadd(room_id, item, time.time() + settings.PRESENCE_TTL)
    except Exception:
        log.warning("presence: could not record an arrival in room %s", room_id)
    _changed(room_id)


async def leave(room_id: int, conn: str) -> None:
    """A socket closed; a process that dies says nothing, and its entries expire."""
    sockets = _local.get(room_id, {})
    item = sockets.pop(conn, None)
    if not sockets:
        _local.pop(room_id, None)
    if item is None:
        return
    try:
        await store.aremove(room_id, item)
    except Exception:
        log.warning("presence: could not record a departure from room %s", room_id)
    _changed(room_id)


def heard(room_id: int, html: str) -> None:
    """A who-is-here fragment reached this process's sockets (from any process)."""
    if room_id in _local:
        _heard[room_id] = html


def here_now(room_id: int, viewer: Identity | None = None) -> Here:
    """Who is in a room, for drawing the page. The viewer is there too: their socket
    has not opened yet, and without JavaScript it never will."""
    try:
        items = store.entries([room_id], time.time())[room_id]
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
        found = store.entries(room_ids, time.time())
    except Exception:
        log.warning("presence: could not read the rooms' counts")
        return dict.fromkeys(room_ids, 0)
    return {room_id: how_many(items) for room_id, items in found.items()}


def active_rooms() -> list[int]:
    """Rooms with anyone in them now."""
    try:
        return store.active(time.time())
    except Exception:
        log.warning("presence: could not read the active rooms")
        return []


def draw(here: Here) -> str:
    return render_push("presence", here=here)


def _changed(room_id: int) -> None:
    global _task
    _dirty.add(room_id)
    if _task is None or _task.done() or _task.get_loop() is not asyncio.get_running_loop():
        _task = asyncio.get_running_loop().create_task(_run())


async def _run() -> None:
    beat = time.monotonic() + settings.PRESENCE_HEARTBEAT
    while _local or _dirty:
        await asyncio.sleep(min(settings.LIVE_PUSH_EVERY, settings.PRESENCE_HEARTBEAT))
        rooms = set(_dirty)
        _dirty.clear()
        if time.monotonic() >= beat:
            beat = time.monotonic() + settings.PRESENCE_HEARTBEAT
            await _heartbeat()
            # Each process checks its own rooms: one that missed a push (or whose other
            # process died) is shown the truth again.
            rooms |= set(_local)
        if rooms:
            try:
                await _push(rooms)
            except Exception:
                log.warning("presence: could not push rooms %s; trying again", sorted(rooms))
                _dirty.update(rooms)


async def _heartbeat() -> None:
    local = {room_id: list(sockets.values()) for room_id, sockets in _local.items()}
    now = time.time()
    try:
        await store.arefresh(local, now + settings.PRESENCE_TTL, now)
    except Exception:
        log.warning("presence: heartbeat failed; trying again")


async def _push(rooms: set[int]) -> None:
    from . import lobby

    found = await store.aentries(rooms, time.time())
    for room_id, items in found.items():
        html = draw(who(items))
        if html == _heard.get(room_id):
            continue
        if room_id in _local:
            _heard[room_id] = html
        else:
            _heard.pop(room_id, None)
        if settings.LIVE_PUSHES:
            group = group_name(room_id)
            event = {"type": FRAGMENT_EVENT, "group": group, "html": html, "presence": True}
            await get_channel_layer().group_send(group, event)
        lobby.touch(room_id)
