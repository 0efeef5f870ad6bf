"""Keep one socket's view of its room whole and in order.

Every change in a room (a new message, an edit, a deletion) takes the room's
next revision. Pushes from several server processes can overtake each other,
and a full channel can drop one; the feed holds early pushes for a moment, and
if a number is still missing it reads what changed after the last one it sent
from the database, so the socket gets every change once and in order.

A missing number may belong to a message that changed again since: the older
revision is gone from the record and the read brings the newer one, which is
all the page needs.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from .broadcast import render_messages
from .models import Message

# How long a push may wait for an overtaken one before the gap is read from the record.
GAP_WAIT = 1.0
# Changed messages per catch-up frame; a page that missed more gets several frames.
PAGE = 200


class RoomFeed:
    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        read_after: Callable[[int, int], Awaitable[Sequence[Message]]],
    ):
        self.send = send
        self.read_after = read_after
        # Every change up to this revision has been sent (or was on the page already);
        # None until start(): pushes that arrive before then wait in `early`.
        self.seen: int | None = None
        self.early: dict[int, str] = {}
        self.lock = asyncio.Lock()
        self.gap_timer: asyncio.TimerHandle | None = None
        self.fill_task: asyncio.Task | None = None
        # What `seen` was at the last check, if the socket was behind the record then.
        self.behind_at: int | None = None

    @property
    def held(self) -> int:
        """Pushes held back: early ones, or every one while a send waits on the socket."""
        return len(self.early)

    async def start(self, seen: int) -> None:
        """Begin with the room's newest revision as read once the socket listened."""
        async with self.lock:
            self.seen = seen
            self.early = {rev: html for rev, html in self.early.items() if rev > seen}
            await self._send_early()
        self._wait_for_gap()

    async def push(self, revision: int, html: str) -> None:
        """A live push: send it now if it is next, else hold it until the gap closes."""
        if self.seen is not None and revision <= self.seen:
            return
        self.early[revision] = html
        # Before start, or while a catch-up reads the record, whoever holds the lock
        # sends it when done: the push never waits, so neither does the room.
        if self.seen is not None and not self.lock.locked():
            async with self.lock:
                await self._send_early()
        self._wait_for_gap()

    def _wait_for_gap(self) -> None:
        if self.early and self.gap_timer is None and self.seen is not None:
            self.gap_timer = asyncio.get_running_loop().call_later(GAP_WAIT, self._fill_later)

    async def catch_up(self, after: int) -> None:
        """Send every change after revision `after` from the record, however many there are."""
        async with self.lock:
            await self._read_from(after)
        self._wait_for_gap()

    async def fill(self) -> None:
        """Read whatever changed after the last revision sent (a gap, or a lost layer)."""
        async with self.lock:
            await self._read_from(self.seen)
        self._wait_for_gap()

    async def _read_from(self, after: int) -> None:
        while True:
            batch = await self.read_after(after, PAGE)
            if not batch:
                break
            await self.send(render_messages(batch))
            after = batch[-1].revision
            self.seen = max(self.seen, after)
            if len(batch) < PAGE:
                break
        self.early = {rev: html for rev, html in self.early.items() if rev > self.seen}
        await self._send_early()

    async def _send_early(self) -> None:
        while self.seen + 1 in self.early:
            self.seen += 1
            await self.send(self.early.pop(self.seen))

    def _fill_later(self) -> None:
        self.gap_timer = None
        if self.early:
            self._start_fill()

    def check(self, newest: int) -> None:
        """The room's newest revision, read now: fill if nothing moved since the last check."""
        if self.seen is None:
            return
        behind = newest > self.seen
        if behind and self.behind_at == self.seen:
            self._start_fill()
        self.behind_at = self.seen if behind else None

    def _start_fill(self) -> None:
        if self.fill_task is None or self.fill_task.done():
            self.fill_task = asyncio.get_running_loop().create_task(self.fill())

    def close(self) -> None:
        if self.gap_timer is not None:
            self.gap_timer.cancel()
        if self.fill_task is not None:
            self.fill_task.cancel()
