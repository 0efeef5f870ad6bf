"""Connections to the Redis servers in settings.REDIS_SHARDS, for the cache and presence.

Each server is a channels-redis `hosts` entry: a URL, or a Sentinel service whose pool
asks the Sentinels where the primary is whenever it connects, so a failover is followed
without a restart. One pool per server and options per process (per event loop for
asyncio): a pool per request or per backend would connect anew each time.
"""

import threading

import redis
import redis.asyncio
import redis.sentinel
from channels_redis.utils import _consistent_hash, create_pool
from django.conf import settings

_pools: dict[str, redis.ConnectionPool] = {}
_lock = threading.Lock()


def make_pool(server: dict, **options) -> redis.ConnectionPool:
    """A new blocking pool for a `hosts` entry (channels-redis makes the asyncio ones)."""
    server = {**server, **options}
    if "address" in server:
        return redis.ConnectionPool.from_url(server.pop("address"), **server)
    sentinel = redis.sentinel.Sentinel(
        server.pop("sentinels"), sentinel_kwargs=server.pop("sentinel_kwargs", None)
    )
    return redis.sentinel.SentinelConnectionPool(server.pop("master_name"), sentinel, **server)


def pool(server: dict, **options) -> redis.ConnectionPool:
    """This process's blocking pool for a server and options, made on first use."""
    key = repr(sorted({**server, **options}.items()))
    with _lock:
        if key not in _pools:
            _pools[key] = make_pool(server, **options)
        return _pools[key]


def client(server: dict, **options) -> redis.Redis:
    return redis.Redis(connection_pool=pool(server, **options))


def async_client(server: dict, **options) -> redis.asyncio.Redis:
    """A client on a pool of its own: asyncio connections belong to the loop that made
    them, so the caller keeps it for as long as its loop runs."""
    return redis.asyncio.Redis(connection_pool=create_pool({**server, **options}))


def shard_index(group: str, shards: int) -> int:
    """Which of `shards` servers carries a channel-layer group: the layer's own rule, so
    that what is kept for a room (its presence) sits on the server carrying its pushes."""
    prefix = settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "asgi")
    return _consistent_hash(f"{prefix}__group__{group}", shards)


async def ping(server: dict, timeout: float) -> None:
    """Ask a server (its primary, through Sentinel) to answer, then close what was opened."""
    pool = create_pool({**server, "socket_connect_timeout": timeout})
    try:
        await redis.asyncio.Redis(connection_pool=pool).ping()
    finally:
        await pool.disconnect()
        for sentinel in getattr(getattr(pool, "sentinel_manager", None), "sentinels", []):
            await sentinel.aclose()
