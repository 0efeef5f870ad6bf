"""A safety net under live delivery.

Pushes can be lost on the way: a Redis restart, a subscriber connection that
Redis dropped, a publish that failed. The record cannot lose them. Every second,
each server process compares what its sockets have been sent with the newest
change (revision) of their rooms, and a socket that stayed behind for a whole
check reads the rest from the database. One small query per process per second,
whatever the number of sockets. The runtime (rooms/live/process.py) runs it.
"""

import logging
from collections.abc import Collection

from channels.db import database_sync_to_async
from django.conf import settings

from ..models import Room
from .feed import RoomFeed

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds


@database_sync_to_async
def newest_revisions(room_ids: set[int]) -> dict[int, int]:
    return dict(Room.objects.filter(pk__in=room_ids).values_list("pk", "last_revision"))


async def check(feeds: Collection[RoomFeed]) -> None:
    """Tell each open socket's feed its room's newest revision, read now."""
    if not feeds or not settings.LIVE_RECHECK:
        return  # LIVE_RECHECK off: tests of the live path, with no net under them
    try:
        newest = await newest_revisions({feed.room.pk for feed in feeds})
    except Exception:
        log.warning("could not read the rooms' newest revisions; trying again")
        return
    for feed in list(feeds):
        feed.check(newest.get(feed.room.pk, 0))
