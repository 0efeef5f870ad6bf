"""Where presence entries live: a dict in this process, or Redis shared by every process.

settings.PRESENCE_BACKEND names the class (the default follows REDIS_URL); the
runtime (rooms/live/process.py) makes one the first time it is used, as Django's
own session and cache backends are chosen.
"""

import asyncio
import threading
from collections.abc import Iterable

import redis
import redis.asyncio
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .. import redis_pools
from ..broadcast import group_name


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

    def clear(self) -> None:
        """Forget every entry (tests start with nobody anywhere)."""
        with self.lock:
            self.rooms.clear()

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
    index of rooms with anyone in them (room id -> latest expiry) for the lobby.

    With several Redis shards a room's set lives on the shard that carries its pushes
    (rooms/redis_pools.py), and the lobby's index on the first."""

    def __init__(self, servers: list[dict] | None = None, prefix: str | None = None) -> None:
        servers = servers or settings.REDIS_SHARDS
        if not servers:
            raise ImproperlyConfigured("PRESENCE_BACKEND is Redis but REDIS_URL is not set")
        if prefix is None:
            # Beside the channel layer's own keys: deployments sharing a Redis stay apart.
            prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "parley")
        self.servers = servers
        self.prefix = f"{prefix}:presence"
        self.rooms_key = f"{self.prefix}:rooms"
        self._aclients: list[redis.asyncio.Redis] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def key(self, room_id: int) -> str:
        return f"{self.prefix}:{room_id}"

    def shard(self, room_id: int) -> int:
        return redis_pools.shard_index(group_name(room_id), len(self.servers))

    def by_shard(self, room_ids: Iterable[int]) -> dict[int, list[int]]:
        shards: dict[int, list[int]] = {}
        for room_id in room_ids:
            shards.setdefault(self.shard(room_id), []).append(room_id)
        return shards

    def client(self, shard: int = 0) -> redis.Redis:
        return redis_pools.client(self.servers[shard], decode_responses=True)

    def aclient(self, shard: int = 0) -> redis.asyncio.Redis:
        # Connections belong to one event loop (tests run one per test).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._aclients = [
                redis_pools.async_client(server, decode_responses=True) for server in self.servers
            ]
            self._loop = loop
        return self._aclients[shard]

    def _keep(self, pipe, room_id: int, items: list[str], until: float) -> None:
        pipe.zadd(self.key(room_id), dict.fromkeys(items, until))
        # A room nobody refreshes any more vanishes as a whole.
        pipe.expire(self.key(room_id), int(settings.PRESENCE_TTL * 2) + 1)

    def _entries(self, pipe, room_ids: list[int], now: float) -> None:
        for room_id in room_ids:
            pipe.zrangebyscore(self.key(room_id), f"({now}", "+inf")

    def entries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        found = {}
        for shard, ids in self.by_shard(room_ids).items():
            pipe = self.client(shard).pipeline(transaction=False)
            self._entries(pipe, ids, now)
            found.update(zip(ids, pipe.execute(), strict=True))
        return found

    def clear(self) -> None:
        """Forget every entry under this prefix (tests start with nobody anywhere)."""
        for shard in range(len(self.servers)):
            client = self.client(shard)
            for key in client.scan_iter(f"{self.prefix}:*"):
                client.delete(key)

    def active(self, now: float) -> list[int]:
        pipe = self.client().pipeline(transaction=False)
        pipe.zremrangebyscore(self.rooms_key, "-inf", now)
        pipe.zrange(self.rooms_key, 0, -1)
        return [int(room_id) for room_id in pipe.execute()[1]]

    async def _write(self, local: dict[int, list[str]], until: float, now: float | None) -> None:
        """Keep `local`'s entries until `until` (dropping expired ones when `now` is
        given): one round trip per shard, the lobby's index in the first's."""
        shards = self.by_shard(local)
        shards.setdefault(0, [])
        for shard, ids in shards.items():
            async with self.aclient(shard).pipeline(transaction=False) as pipe:
                for room_id in ids:
                    self._keep(pipe, room_id, local[room_id], until)
                    if now is not None:
                        # Entries of a process that died stop being refreshed and drop out.
                        pipe.zremrangebyscore(self.key(room_id), "-inf", now)
                if shard == 0:
                    pipe.zadd(self.rooms_key, {str(room_id): until for room_id in local})
                await pipe.execute()

    async def aadd(self, room_id: int, item: str, until: float) -> None:
        await self._write({room_id: [item]}, until, None)

    async def aremove(self, room_id: int, item: str) -> None:
        await self.aclient(self.shard(room_id)).zrem(self.key(room_id), item)

    async def arefresh(self, local: dict[int, list[str]], until: float, now: float) -> None:
        await self._write(local, until, now)

    async def aentries(self, room_ids: Iterable[int], now: float) -> dict[int, list[str]]:
        found = {}
        for shard, ids in self.by_shard(room_ids).items():
            async with self.aclient(shard).pipeline(transaction=False) as pipe:
                self._entries(pipe, ids, now)
                found.update(zip(ids, await pipe.execute(), strict=True))
        return found


type Store = MemoryStore | RedisStore


def make_store() -> Store:
    """The backend settings.PRESENCE_BACKEND names (a dotted path to a class)."""
    return import_string(settings.PRESENCE_BACKEND)()
