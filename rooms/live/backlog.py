"""A bound on what the server holds for a socket whose reader is slow or gone.

A send to a socket finishes at once while the connection takes the bytes. Once
the client stops reading, the kernel's and the server's buffers fill and every
send waits. Left alone, such a socket is never dropped: the server's keep-alive
ping waits behind the same full buffer, so its timeout never starts, and the
room's news piles up for it.

Each socket counts its sends that are waiting (bytes and events, with the pushes
its feed holds back) and how long the oldest has waited. Past a bound the socket
is closed with 1013, "try again later", which htmx's ws extension reconnects on;
the page then asks for what it missed from the last change it shows, as after
any reconnect. The bounds are settings: SOCKET_BACKLOG_BYTES, _EVENTS, _SECONDS.

A Sender is one socket as the live layer sees it: its frames, sent straight down
its connection within those bounds. A room's feed is one; so is an open lobby.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# "Try again later": htmx's ws extension reconnects after 1006, 1011, 1012 and 1013.
TOO_FAR_BEHIND = 1013
TOO_FAR_BEHIND_REASON = "Too far behind; reconnecting."

# Seconds between looks at sockets with nothing more sent to them (rooms/live/process.py).
CHECK_EVERY = 1.0


class Backlog:
    """One socket's waiting sends; calls `drop(why)` once when they pass a bound."""

    def __init__(self, drop: Callable[[str], None], held: Callable[[], int] = lambda: 0):
        self.drop = drop
        # The bounds, read once: they are checked on every frame to the socket, and each
        # read of a setting is a call through Django's lazy settings object.
        self.max_bytes = settings.SOCKET_BACKLOG_BYTES
        self.max_events = settings.SOCKET_BACKLOG_EVENTS
        self.max_seconds = settings.SOCKET_BACKLOG_SECONDS
        # Events held back elsewhere for this socket (its feed's out-of-order pushes).
        self.held = held
        self.bytes = 0
        # When each send still in progress began, oldest first: the connection takes
        # bytes in order, so the first to finish is the oldest.
        self.started: deque[float] = deque()
        self.dropped = False

    async def send(self, send: Callable[[str], Awaitable[None]], text: str) -> None:
        if self.dropped:
            return
        size = len(text)
        self.bytes += size
        self.started.append(time.monotonic())
        try:
            if self.too_much():
                return
            await send(text)
        except OSError:
            # The connection went; after a drop that is expected, not news.
            if not self.dropped:
                raise
        finally:
            self.bytes -= size
            self.started.popleft()

    def too_much(self) -> bool:
        events = len(self.started) + self.held()
        if self.bytes > self.max_bytes:
            return self.give_up(f"{self.bytes} characters waiting")
        if events > self.max_events:
            return self.give_up(f"{events} events waiting")
        return False

    def check(self, now: float) -> None:
        """The periodic look: a send waiting too long, or pushes piling up behind it."""
        if self.dropped:
            return
        if self.started and now - self.started[0] > self.max_seconds:
            self.give_up(f"waiting {now - self.started[0]:.0f} s")
        else:
            self.too_much()

    def give_up(self, why: str) -> bool:
        if not self.dropped:
            self.dropped = True
            self.drop(why)
        return True


# Where a socket's scope keeps the server's own `send` (see with_server_send).
SERVER_SEND = "parley.server_send"


def with_server_send(app):
    """Keep the server's own `send` in each socket's scope, for its Sender.

    Channels' session middleware wraps `send` to save the session with an HTTP
    response; on a socket it only looks at the session on every message, which for a
    room's pushes, one per socket per change, was a tenth of a delivery's CPU. A
    socket's session never changes while it is open, so its pushes go past it.
    """

    async def application(scope, receive, send):
        # Set on the server's own scope, not a copy: one dict less for every open socket.
        # Nothing above this reads it back.
        scope[SERVER_SEND] = send
        return await app(scope, receive, send)

    return application


type AsgiSend = Callable[[dict[str, Any]], Awaitable[None]]


class Sender:
    """One socket's frames, sent down its connection within what a slow reader may hold;
    past that, closed with 1013 (its page reconnects and catches up)."""

    def __init__(
        self,
        asgi_send: AsgiSend,
        held: Callable[[], int] = lambda: 0,
        conn: str = "",
        language: str | None = None,
    ):
        # The connection's own ASGI send: what reaches the socket, and its close.
        self.asgi_send = asgi_send
        # What its page reads (rooms/languages.py): the drawing of group pushes it is handed.
        self.language = language or settings.LANGUAGE_CODE
        self.backlog = Backlog(self.fall_behind, held=held)
        self.conn = conn  # to follow the socket through the logs
        self.closed = False
        self.dropping: asyncio.Task | None = None

    async def send(self, text: str) -> None:
        """One frame to the socket, within what a slow reader may hold."""
        if not self.closed:
            await self.backlog.send(self._to_socket, text)

    async def _to_socket(self, text: str) -> None:
        await self.asgi_send({"type": "websocket.send", "text": text})

    async def close_socket(self, code: int, reason: str) -> None:
        with contextlib.suppress(OSError):  # gone already: nothing left to close
            await self.asgi_send({"type": "websocket.close", "code": code, "reason": reason})

    def fall_behind(self, why: str) -> None:
        """Too much waits for this socket: take nothing more for it and close it."""
        log.info("ws.dropped", extra={**self.about(), "why": why})
        self.close()
        self.dropping = asyncio.get_running_loop().create_task(
            self.close_socket(TOO_FAR_BEHIND, TOO_FAR_BEHIND_REASON)
        )

    def about(self) -> dict[str, str]:
        """What the logs say of this socket."""
        return {"conn": self.conn}

    def close(self) -> None:
        self.closed = True
