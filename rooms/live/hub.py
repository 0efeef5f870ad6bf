"""One subscription per group per process, and a plain loop over its sockets' feeds.

An event sent to a group (a room, or everyone signed in as one person) reaches
each server process once, on the process's own channel, and the hub hands it to
every local feed in the group. What each kind of event does is one entry in
DELIVER below. There is no per-socket channel, queue, task switch or Redis
subscription in between, which is what a room of a thousand sockets costs most
otherwise.

Each delivery starts at once and usually finishes at once (the bytes are handed
to the socket); one that has to wait, for a socket that is slow to read, goes on
as a task of its own, so a slow reader never holds up the room.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from types import MappingProxyType
from typing import Any

from channels.layers import get_channel_layer

from ..broadcast import (
    FRAGMENT_EVENT,
    IDENTITY_ENDED_EVENT,
    MESSAGE_EVENT,
    ROOM_LEFT_EVENT,
    ROOM_NOTICE_EVENT,
)
from ..languages import Drawn, for_readers, process_wide
from .backlog import Sender
from .feed import RoomFeed

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, heard: Callable[[int, Drawn], None]) -> None:
        # Who-is-here fragments that reached this process's sockets, from any process.
        self.heard = heard
        self.layer = None
        # A group's senders in this process: rooms' feeds, a person's feeds, open lobbies.
        self.groups: dict[str, set[Sender]] = {}
        self.channel: str | None = None
        self.receiver: asyncio.Task | None = None
        self.waiting: set[asyncio.Task] = set()
        # Subscribing and unsubscribing take turns, so they never cross.
        self.lock = asyncio.Lock()

    async def join(self, group: str, feed: Sender) -> None:
        async with self.lock:
            if self.channel is None:
                self.layer = get_channel_layer()
                self.channel = await self.layer.new_channel()
                self.receiver = process_wide(
                    lambda: asyncio.get_running_loop().create_task(self.receive_forever())
                )
            if group not in self.groups:
                await self.layer.group_add(group, self.channel)
                self.groups[group] = set()
            self.groups[group].add(feed)

    async def leave(self, group: str, feed: Sender) -> None:
        async with self.lock:
            feeds = self.groups.get(group)
            if feeds is None:
                return
            feeds.discard(feed)
            if not feeds:
                del self.groups[group]
                await self.layer.group_discard(group, self.channel)

    async def close(self) -> None:
        """Stop listening: the receiver and every delivery still waiting on a socket."""
        tasks = [task for task in [self.receiver, *self.waiting] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for group in list(self.groups) if self.channel else ():
            try:
                await self.layer.group_discard(group, self.channel)
            except Exception:  # the layer may be gone first at shutdown; nothing to keep
                log.debug("could not leave group %s", group)
        self.groups.clear()
        self.channel = None

    async def receive_forever(self) -> None:
        while True:
            try:
                event = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The layer reconnects by itself; meanwhile the record fills any gap.
                log.warning("group events unavailable; retrying", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            self.forward(event)

    def forward(self, event: dict[str, Any]) -> None:
        feeds = self.groups.get(event.get("group"))
        if not feeds:
            return
        deliver = DELIVER.get(event["type"])
        if deliver is None:
            log.warning("no delivery for group event %r", event["type"])
            return
        # A copy: a socket may leave while the event is handed round.
        deliver(self, tuple(feeds), event)

    def start(self, delivery: Coroutine) -> None:
        task = asyncio.eager_task_factory(asyncio.get_running_loop(), delivery)
        if task.done():
            self.finished(task)
        else:
            self.waiting.add(task)
            task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Task) -> None:
        self.waiting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # One broken socket must not keep the news from the others.
            log.warning("a socket could not take an event", exc_info=task.exception())


def deliver_message(hub: Hub, feeds: tuple[RoomFeed, ...], event: dict[str, Any]) -> None:
    """A drawn message: each feed keeps its socket's messages whole and in order, in its
    language."""
    revision, html, appended = event["revision"], event["html"], event.get("appended")
    # One tuple for every feed that keeps it (the layer hands over a list).
    appended = tuple(appended) if appended else None
    if isinstance(html, str):  # one language: no choosing per socket
        for feed in feeds:
            hub.start(feed.push(revision, html, appended))
        return
    drawn = for_readers(html)
    for feed in feeds:
        hub.start(feed.push(revision, drawn(feed.language), appended))


def deliver_fragment(hub: Hub, feeds: tuple[Sender, ...], event: dict[str, Any]) -> None:
    """Ready bytes that need no ordering (who is here, who is typing, the topic)."""
    html = event["html"]
    if "presence" in event:
        hub.heard(feeds[0].room.pk, html)
    drawn = for_readers(html)
    for feed in feeds:
        hub.start(feed.send(drawn(feed.language)))


def deliver_identity_ended(hub: Hub, feeds: tuple[RoomFeed, ...], event: dict[str, Any]) -> None:
    """Logged out, or renamed in another tab: each socket of that identity is told who
    this browser is now, and closed."""
    html = event.get("html")
    drawn = for_readers(html) if html else lambda language: None
    for feed in feeds:
        hub.start(feed.end(drawn(feed.language)))


def deliver_room_left(hub: Hub, feeds: tuple[RoomFeed, ...], event: dict[str, Any]) -> None:
    """Removed or banned from one room: that person's sockets in it are told why and
    closed; their other rooms go on."""
    drawn = for_readers(event["html"])
    for feed in feeds:
        if feed.room.pk == event["room"]:
            hub.start(feed.end(drawn(feed.language)))


def deliver_room_notice(hub: Hub, feeds: tuple[RoomFeed, ...], event: dict[str, Any]) -> None:
    """Something for one person's pages in one room (muted there: why, and until when)."""
    drawn = for_readers(event["html"])
    for feed in feeds:
        if feed.room.pk == event["room"]:
            hub.start(feed.send(drawn(feed.language)))


# Group event type -> what this process does with it (rooms/broadcast.py sends them).
type Delivery = Callable[[Hub, tuple[Any, ...], dict[str, Any]], None]

DELIVER: Mapping[str, Delivery] = MappingProxyType(
    {
        MESSAGE_EVENT: deliver_message,
        FRAGMENT_EVENT: deliver_fragment,
        IDENTITY_ENDED_EVENT: deliver_identity_ended,
        ROOM_LEFT_EVENT: deliver_room_left,
        ROOM_NOTICE_EVENT: deliver_room_notice,
    }
)


async def send(event: dict[str, Any]) -> None:
    """Hand an event to its group in every process (through the channel layer; each
    process's hub passes it on to its own sockets)."""
    try:
        await get_channel_layer().group_send(event["group"], event)
    except Exception:
        # A stored change is not lost: readers fill the gap from the record when the
        # layer is back (recovery.py); extras (who is typing, the lobby's cards) show the
        # truth again on the next change or reload.
        log.warning("%s for %s was not sent", event["type"], event["group"])


async def send_fragment(group: str, html: Drawn) -> None:
    """Ready bytes for every socket in a group, as they are (one drawing per language)."""
    await send({"type": FRAGMENT_EVENT, "group": group, "html": html})
