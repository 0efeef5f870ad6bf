"""Notice when Redis has lost the channel layer's state, and put it back.

The Redis layer keeps group membership in Redis itself. A Redis restart forgets
it, and every socket would silently stop hearing its room. Each server process
keeps a marker key in Redis; when the marker is gone, every socket of this
process rejoins its room and fills what it missed from the database.
"""

import asyncio
import logging
import secrets

from channels.layers import get_channel_layer
from django.conf import settings

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds
REJOIN_EVENT = "room.rejoin"

_channels: set[str] = set()
_task: asyncio.Task | None = None


def watch(channel_name: str) -> None:
    """Rejoin this consumer's room (via its channel) if Redis loses its state."""
    global _task
    if not settings.REDIS_URL:
        return
    _channels.add(channel_name)
    if _task is None or _task.done() or _task.get_loop() is not asyncio.get_running_loop():
        _task = asyncio.get_running_loop().create_task(_watch_marker())


def unwatch(channel_name: str) -> None:
    _channels.discard(channel_name)


async def _watch_marker() -> None:
    import redis.asyncio as redis

    client = redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    marker = f"parley:process:{secrets.token_hex(8)}"
    ttl = int(CHECK_EVERY * 30)
    await client.set(marker, 1, ex=ttl)
    try:
        while _channels:
            await asyncio.sleep(CHECK_EVERY)
            try:
                if await client.set(marker, 1, ex=ttl, xx=True):
                    continue
                await client.set(marker, 1, ex=ttl)
            except (redis.RedisError, OSError):
                continue  # Redis is down; keep checking until it is back.
            log.warning("channel layer state lost (Redis restarted?); rejoining %d sockets",
                        len(_channels))
            await rejoin_all()
    finally:
        await client.aclose()


async def rejoin_all() -> None:
    layer = get_channel_layer()
    for channel_name in list(_channels):
        await layer.send(channel_name, {"type": REJOIN_EVENT})
