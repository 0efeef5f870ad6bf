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
"""

import time
from collections import deque
from collections.abc import Awaitable, Callable

from django.conf import settings

# "Try again later": htmx's ws extension reconnects after 1006, 1011, 1012 and 1013.
TOO_FAR_BEHIND = 1013
TOO_FAR_BEHIND_REASON = "Too far behind; reconnecting."

# Seconds between looks at sockets with nothing more sent to them (rooms/live/process.py).
CHECK_EVERY = 1.0


class Backlog:
    """One socket's waiting sends; calls `drop(why)` once when they pass a bound."""

    def __init__(self, drop: Callable[[str], None], held: Callable[[], int] = lambda: 0):
        self.drop = drop
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
        if self.bytes > settings.SOCKET_BACKLOG_BYTES:
            return self.give_up(f"{self.bytes} characters waiting")
        if events > settings.SOCKET_BACKLOG_EVENTS:
            return self.give_up(f"{events} events waiting")
        return False

    def check(self, now: float) -> None:
        """The periodic look: a send waiting too long, or pushes piling up behind it."""
        if self.dropped:
            return
        if self.started and now - self.started[0] > settings.SOCKET_BACKLOG_SECONDS:
            self.give_up(f"waiting {now - self.started[0]:.0f} s")
        else:
            self.too_much()

    def give_up(self, why: str) -> bool:
        if not self.dropped:
            self.dropped = True
            self.drop(why)
        return True
