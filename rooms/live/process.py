"""One object per server process owning everything live: state and background loops.

Live holds the hub, the outbox, every open socket's feed, presence, the lobby's
updates and the per-socket bounds, and runs the process's periodic work:

    presence   pushes who is here (coalesced) and refreshes this process's entries
    lobby      pushes the cards of rooms that changed
    recovery   once a second, fills sockets that missed their room's last change
    backlogs   once a second, closes sockets whose reader stopped reading

plus the hub's receiver (a task waiting on the channel layer, made by the first
socket that listens). The first socket starts it; server shutdown (the ASGI
lifespan, config/asgi.py) and tests stop it. State belongs to one event loop:
a start from another loop (each test has its own) begins afresh.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..broadcast import group_name
from ..identity import Identity
from ..languages import process_wide
from ..lobby import GROUP as LOBBY_GROUP
from ..sidebar import unread_group
from . import backlog, recovery
from .backlog import Sender
from .caps import Caps
from .feed import RoomFeed, read_last_revision
from .hub import Hub
from .lobby import LobbyUpdates
from .memory import Trimmer
from .outbox import Outbox
from .presence import Presence
from .stores import Store, make_store

log = logging.getLogger(__name__)


class Live:
    def __init__(self) -> None:
        self._store: Store | None = None
        # Pages read who is here from request threads; the store is made once.
        self._store_lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: list[asyncio.Task] = []
        self._fresh()

    def _fresh(self) -> None:
        """Everything that belongs to one event loop, empty."""
        # Every open room socket's feed in this process, and every open lobby's socket.
        self.feeds: set[RoomFeed] = set()
        # The sidebar groups each open room socket listens to (its person's other rooms).
        self.sidebars: dict[RoomFeed, tuple[str, ...]] = {}
        self.lobbies: set[Sender] = set()
        self.lobby = LobbyUpdates()
        self.presence = Presence(lambda: self.store, self.lobby.touch)
        self.hub = Hub(heard=self.presence.hear)
        self.outbox = Outbox()
        self.caps = Caps()
        self.trimmer = Trimmer()

    @property
    def store(self) -> Store:
        """The presence store settings.PRESENCE_BACKEND names, made on first use."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    self._store = make_store()
        return self._store

    @property
    def running(self) -> bool:
        return self.loop is not None

    def start(self) -> None:
        """Start the background loops on the running event loop (once; cheap after)."""
        loop = asyncio.get_running_loop()
        if self.loop is loop:
            return
        # Fresh state for this loop; one left running on a loop that is gone (a test's)
        # is forgotten, its tasks went with that loop.
        self._forget()
        self.loop = loop
        self.tasks = process_wide(
            lambda: [
                loop.create_task(every(self.presence.every, self.presence.tick), name="presence"),
                loop.create_task(every(self.lobby.every, self.lobby.tick), name="lobby"),
                loop.create_task(
                    every(lambda: recovery.CHECK_EVERY, lambda: recovery.check(self.feeds)),
                    name="recovery",
                ),
                loop.create_task(
                    every(lambda: backlog.CHECK_EVERY, self.check_backlogs), name="backlogs"
                ),
            ]
        )

    async def stop(self) -> None:
        """Stop every loop and forget this process's live state (server shutdown, tests)."""
        if self.loop is not None and self.loop is asyncio.get_running_loop():
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for sender in [*self.feeds, *self.lobbies]:
                sender.close()
            await self.hub.close()
            await self.outbox.close()
            log.info("live.stopped")
        self._forget()
        # Made again from the settings when next used (a memory store starts empty).
        self._store = None

    def _forget(self) -> None:
        self.loop = None
        self.tasks = []
        self._fresh()

    # A room socket's life.

    async def open(self, feed: RoomFeed, me: Identity, sidebar: Iterable[int] = ()) -> int:
        """Listen for the feed's room and its person, and for the new messages of the
        rooms in its person's sidebar (`sidebar`: their ids); returns the room's newest
        revision, read after listening, so a change in between is either counted or pushed."""
        self.feeds.add(feed)
        await self.hub.join(group_name(feed.room.pk), feed)
        await self.hub.join(me.key, feed)
        groups = self.sidebars[feed] = tuple(unread_group(room_id) for room_id in sidebar)
        for group in groups:
            await self.hub.join(group, feed)
        return await read_last_revision(feed.room)

    async def close(self, feed: RoomFeed, me: Identity) -> None:
        feed.close()
        self.feeds.discard(feed)
        await self.hub.leave(group_name(feed.room.pk), feed)
        await self.hub.leave(me.key, feed)
        for group in self.sidebars.pop(feed, ()):
            await self.hub.leave(group, feed)

    # A lobby's socket: the cards of rooms that changed, through the hub as well.

    async def open_lobby(self, sender: Sender) -> None:
        self.lobbies.add(sender)
        await self.hub.join(LOBBY_GROUP, sender)

    async def close_lobby(self, sender: Sender) -> None:
        sender.close()
        self.lobbies.discard(sender)
        await self.hub.leave(LOBBY_GROUP, sender)

    async def check_backlogs(self) -> None:
        now = time.monotonic()
        for sender in [*self.feeds, *self.lobbies]:
            sender.backlog.check(now)


async def every(seconds: Callable[[], float], work: Callable[[], Awaitable[Any]]) -> None:
    """Run `work` every `seconds()` (read each time: settings may change in tests)."""
    while True:
        await asyncio.sleep(seconds())
        try:
            await work()
        except Exception:
            # Each piece logs what it knows; this keeps the loop alive whatever it missed.
            log.warning("live: periodic work failed; trying again", exc_info=True)


async def lifespan(scope: dict[str, Any], receive: Callable, send: Callable) -> None:
    """The ASGI lifespan protocol (uvicorn sends it; daphne does not): stop the runtime
    when the server shuts down, after its connections have closed."""
    from . import runtime

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await runtime().stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
