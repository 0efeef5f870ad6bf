"""A safety net under live delivery.

Pushes can be lost on the way: a Redis restart, a subscriber connection that
Redis dropped, a publish that failed. The record cannot lose them. Every second,
each server process compares what its sockets have been sent with the newest
change (revision) of their rooms, and a socket that stayed behind for a whole
check reads the rest from the database. One small query per process per second,
whatever the number of sockets.
"""

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from .delivery import RoomFeed
from .models import Room

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds

_feeds: dict[RoomFeed, int] = {}  # each open socket's feed, and its room id
_task: asyncio.Task | None = None


def watch(feed: RoomFeed, room_id: int) -> None:
    global _task
    if not settings.LIVE_RECHECK:
        return  # switched off: nothing is watched and the check never starts
    _feeds[feed] = room_id
    if _task is None or _task.done() or _task.get_loop() is not asyncio.get_running_loop():
        _task = asyncio.get_running_loop().create_task(_check_forever())


def unwatch(feed: RoomFeed) -> None:
    _feeds.pop(feed, None)


@database_sync_to_async
def newest_revisions(room_ids: set[int]) -> dict[int, int]:
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_revision"))


async def _check_forever() -> None:
    while _feeds:
        await asyncio.sleep(CHECK_EVERY)
        try:
            newest = await newest_revisions(set(_feeds.values()))
        except Exception:
            log.warning("could not read the rooms' newest revisions; trying again")
            continue
        for feed, room_id in list(_feeds.items()):
            feed.check(newest.get(room_id, 0))
