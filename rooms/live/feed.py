"""Keep one socket's view of its room whole and in order, and send it its bytes.

Every change in a room (a new message, an edit, a deletion) takes the room's
next revision. Pushes from several server processes can overtake each other,
and a full channel can drop one; the feed holds early pushes for a moment, and
if a number is still missing it reads what changed after the last one it sent
from the database, so the socket gets every change once and in order.

A missing number may belong to a message that changed again since: the older
revision is gone from the record and the read brings the newer one, which is
all the page needs.

What a catch-up costs is bounded, whoever asks: a page at most
settings.CATCH_UP_BOUND changes behind gets them, a frame at a time, each
sent (to the socket's own pace) before the next is read; a page further behind
gets the room's newest page drawn fresh in place of its list, with older
history a click or scroll away. One catch-up runs per socket at a time, and a
socket asks at most CATCH_UPS times per CATCH_UP_WINDOW seconds.

Everything the socket is sent goes through its feed: the feed holds the
connection's own ASGI `send`, counts what waits for a slow reader (backlog.py)
and closes the connection itself when that is too much. It reads the record
with the plain functions below; nothing calls back into the consumer.
"""

import asyncio
import logging
import time
from collections import deque
from enum import Enum

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation

from .. import history
from ..broadcast import render_messages, render_newest
from ..models import Message, Room
from .backlog import AsgiSend, Sender

log = logging.getLogger(__name__)

# How long a push may wait for an overtaken one before the gap is read from the record.
GAP_WAIT = 1.0
# Changed messages per catch-up frame; a page that missed more gets several frames.
PAGE = 200
# A page asks once whenever its socket opens; more than this is not a page.
CATCH_UPS = 3
CATCH_UP_WINDOW = 10.0

# Application close code (4000-4999: browsers and htmx do not retry it): the identity
# the socket was opened under ended (logged out, renamed in another tab).
CLOSE_IDENTITY_ENDED = 4001


class Asked(Enum):
    STARTED = "started"
    RUNNING = "running"  # one is under way and brings the page up to date: not stacked
    TOO_OFTEN = "too often"


def newest_page(room: Room) -> tuple[int, str, int]:
    """The room's newest revision, its newest page drawn to replace a page's list, and the
    seq of that page's newest message."""
    # The revision first: the page read after it shows at least every change up to it,
    # and anything newer that it shows too is read again from there and replaces its copy.
    revision = Room.objects.values_list("last_revision", flat=True).get(pk=room.pk)
    page = history.latest(room)
    shown = page.messages[-1].seq if page.messages else 0
    return revision, render_newest(room, page, revision), shown


@database_sync_to_async
def read_changes(room: Room, after: int, limit: int) -> list[Message]:
    """What changed in the room after revision `after`, oldest change first."""
    return room.changes_after(after, limit)


@database_sync_to_async
def read_newest(room: Room, language: str) -> tuple[int, str, int]:
    with translation.override(language):
        return newest_page(room)


@database_sync_to_async
def read_last_revision(room: Room) -> int:
    return Room.objects.values_list("last_revision", flat=True).get(pk=room.pk)


class RoomFeed(Sender):
    """A room socket's sender that keeps the room's changes whole and in order."""

    def __init__(
        self, room: Room, asgi_send: AsgiSend, conn: str = "", language: str | None = None
    ):
        super().__init__(asgi_send, held=lambda: len(self.early), conn=conn, language=language)
        self.room = room
        # Frames for the socket before it is accepted and started (a who-is-here push
        # can come that soon): sent first thing by start(). None once started.
        self.unstarted: list[str] | None = []
        # The newest revision known to exist in the room (from start, pushes and checks).
        self.newest = 0
        self.catching_up: asyncio.Task | None = None
        self.asked: deque[float] = deque(maxlen=CATCH_UPS)
        # Every change up to this revision has been sent (or was on the page already);
        # None until start(): pushes that arrive before then wait in `early`.
        self.seen: int | None = None
        self.early: dict[int, tuple[str, tuple[int, int] | None]] = {}
        # Where messages land on the page (rooms/broadcast.py render_messages): the seq of
        # the newest message it shows (None until it says), and the new messages pushed to it
        # after that one, (seq, id), oldest first (at most PAGE; made by the first push: an
        # idle socket keeps none).
        self.shown: int | None = None
        self.pushed: deque[tuple[int, int]] | tuple[()] = ()
        self.lock = asyncio.Lock()
        self.gap_timer: asyncio.TimerHandle | None = None
        self.fill_task: asyncio.Task | None = None
        # What `seen` was at the last check, if the socket was behind the record then.
        self.behind_at: int | None = None

    def about(self) -> dict[str, str]:
        return {"room": self.room.slug, "conn": self.conn}

    async def send(self, text: str) -> None:
        if self.unstarted is not None:
            self.unstarted.append(text)
        elif not self.closed:  # as Sender.send, without one more call on every delivery
            await self.backlog.send(self._to_socket, text)

    async def end(self, html: str | None) -> None:
        """The identity this socket was opened under ended: say who the browser is now
        (`html`), then close, so the page stops posting under a name it does not show."""
        if html:
            await self.send(html)
        await self.close_socket(CLOSE_IDENTITY_ENDED, "You left; reload the page.")

    async def start(self, seen: int) -> None:
        """Begin with the room's newest revision as read once the socket listened."""
        unstarted, self.unstarted = self.unstarted or [], None
        for text in unstarted:
            await self.send(text)
        async with self.lock:
            self.seen = seen
            self.newest = max(self.newest, seen)
            self.early = {rev: html for rev, html in self.early.items() if rev > seen}
            await self._send_early()
        self._wait_for_gap()

    async def push(self, revision: int, html: str, appended: tuple[int, int] | None = None) -> None:
        """A live push: send it now if it is next, else hold it until the gap closes.
        `appended`: (seq, id) of a new message, added after the newest on the page."""
        if self.closed:
            return
        self.newest = max(self.newest, revision)
        if self.seen is not None and revision <= self.seen:
            return
        self.early[revision] = (html, appended)
        # Before start, or while a catch-up reads the record, whoever holds the lock
        # sends it when done: the push never waits, so neither does the room.
        if self.seen is not None and not self.lock.locked():
            async with self.lock:
                await self._send_early()
        self._wait_for_gap()

    def _wait_for_gap(self) -> None:
        if self.early and self.gap_timer is None and self.seen is not None:
            self.gap_timer = asyncio.get_running_loop().call_later(GAP_WAIT, self._fill_later)

    def ask(self, after: int, shown: int | None = None) -> Asked:
        """A page asks for what changed after revision `after`: caught up in the background,
        so the socket's other frames go on, one catch-up at a time. `shown`: the seq of the
        newest message on the page, if it says (where what it lacks lands)."""
        if self.catching_up is not None and not self.catching_up.done():
            return Asked.RUNNING
        now = time.monotonic()
        if (
            settings.RATE_LIMITS
            and len(self.asked) == CATCH_UPS
            and now - self.asked[0] < CATCH_UP_WINDOW
        ):
            return Asked.TOO_OFTEN
        self.asked.append(now)
        self.catching_up = asyncio.get_running_loop().create_task(self.catch_up(after, shown))
        self.catching_up.add_done_callback(_log_failure)
        return Asked.STARTED

    async def catch_up(self, after: int, shown: int | None = None) -> None:
        """Send what changed after revision `after` from the record: every change, or the
        newest page in place of the list when the page is further behind than the bound."""
        async with self.lock:
            if shown is not None:
                # Pushed before the page said: on it, and newer than anything it lacks.
                self.shown = shown
                kept = [p for p in self.pushed if p[0] > shown]
                self.pushed = deque(kept, maxlen=PAGE) if kept else ()
            if self.newest - after > settings.CATCH_UP_BOUND:
                after, html, self.shown = await read_newest(self.room, self.language)
                self.pushed = ()  # the list is replaced whole
                await self.send(html)
                self.seen = max(self.seen, after)
            await self._read_from(after)
        self._wait_for_gap()

    async def fill(self) -> None:
        """Read whatever changed after the last revision sent (a gap, or a lost layer).

        Not bounded: this is the server's own catching up with pushes that came late or
        not at all, a frame at a time at the socket's pace; the bound is for what a page
        asks for."""
        async with self.lock:
            await self._read_from(self.seen)
        self._wait_for_gap()

    async def _read_from(self, after: int) -> None:
        # New messages the page got since it last said where it is, these frames' included.
        landed = list(self.pushed)
        while True:
            # Each frame is sent, at the socket's pace, before the next is read.
            batch = await read_changes(self.room, after, PAGE)
            if not batch:
                break
            # Drawn in the socket's language: a fill may start from any task.
            with translation.override(self.language):
                html = render_messages(batch, self.shown, landed)
            await self.send(html)
            after = batch[-1].revision
            self.seen = max(self.seen, after)
            if len(batch) < PAGE:
                break
        if self.shown is None:
            self.pushed = deque(landed, maxlen=PAGE) if landed else ()
        elif landed:
            # Every message up to the newest is on the page now, in order.
            self.shown = max(self.shown, max(seq for seq, _ in landed))
            self.pushed = ()
        self.early = {rev: html for rev, html in self.early.items() if rev > self.seen}
        await self._send_early()

    async def _send_early(self) -> None:
        while self.seen + 1 in self.early:
            self.seen += 1
            html, appended = self.early.pop(self.seen)
            await self.send(html)
            if appended is not None:
                # Added after the newest on the page; a catch-up racing it (the page said
                # where it was before this arrived) lands what it lacks before it.
                if not self.pushed:
                    self.pushed = deque(maxlen=PAGE)
                self.pushed.append(appended)
                if self.shown is not None:
                    self.shown = max(self.shown, appended[0])

    def _fill_later(self) -> None:
        self.gap_timer = None
        if self.early:
            self._start_fill()

    def check(self, newest: int) -> None:
        """The room's newest revision, read now: fill if nothing moved since the last check."""
        if self.seen is None or self.closed:
            return
        self.newest = max(self.newest, newest)
        behind = newest > self.seen
        if behind and self.behind_at == self.seen:
            self._start_fill()
        self.behind_at = self.seen if behind else None

    def _start_fill(self) -> None:
        if self.fill_task is None or self.fill_task.done():
            self.fill_task = asyncio.get_running_loop().create_task(self.fill())

    def close(self) -> None:
        super().close()
        if self.gap_timer is not None:
            self.gap_timer.cancel()
        if self.fill_task is not None:
            self.fill_task.cancel()
        if self.catching_up is not None:
            self.catching_up.cancel()


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning(
            "catch-up failed; the once-a-second check fills the page", exc_info=task.exception()
        )
