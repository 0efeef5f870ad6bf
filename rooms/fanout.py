"""One subscription per group per process, and a plain loop over its sockets.

An event sent to a group (a room, or everyone signed in as one person) reaches
each server process once, on the process's own channel, and the hub hands it to
every local socket in the group by calling the socket's handler for the event
type, as Channels would (``room.message`` -> ``room_message``). There is no
per-socket channel, queue, task switch or Redis subscription in between, which
is what a room of a thousand sockets costs most otherwise.

Each handler starts at once and usually finishes at once (the bytes are handed
to the socket); one that has to wait, for a socket that is slow to read, goes on
as a task of its own, so a slow reader never holds up the room.
"""

import asyncio
import logging
from collections.abc import Coroutine

from channels.layers import get_channel_layer

from .loops import per_loop

log = logging.getLogger(__name__)


class Hub:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.groups: dict[str, set] = {}
        self.channel: str | None = None
        self.receiver: asyncio.Task | None = None
        self.waiting: set[asyncio.Task] = set()
        # Subscribing and unsubscribing take turns, so they never cross.
        self.lock = asyncio.Lock()

    async def join(self, group: str, socket) -> None:
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.receiver = asyncio.get_running_loop().create_task(self.receive_forever())
            if group not in self.groups:
                await self.layer.group_add(group, self.channel)
                self.groups[group] = set()
            self.groups[group].add(socket)

    async def leave(self, group: str, socket) -> None:
        async with self.lock:
            sockets = self.groups.get(group)
            if sockets is None:
                return
            sockets.discard(socket)
            if not sockets:
                del self.groups[group]
                await self.layer.group_discard(group, self.channel)

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

    def forward(self, event: dict) -> None:
        handler = event["type"].replace(".", "_")
        for socket in list(self.groups.get(event.get("group"), ())):
            self.start(getattr(socket, handler)(event))

    def start(self, handling: Coroutine) -> None:
        task = asyncio.eager_task_factory(asyncio.get_running_loop(), handling)
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


# This process's hub.
hub = per_loop(Hub)
