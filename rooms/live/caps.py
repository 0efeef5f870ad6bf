"""How many room sockets one session, and one client address, may hold open.

Each open socket costs the server buffers, a feed and a place in the room's
fan-out; a script opening thousands from one browser session or one address
should get a clear "no" rather than the server's memory. The counts are per
server process (settings SOCKETS_PER_SESSION and SOCKETS_PER_ADDRESS); with
several workers the proxy's per-address connection limit bounds the whole
(docs/deploy.md).
"""

from collections import Counter

from django.conf import settings

# An application close code: htmx does not reconnect after 4000-4999, which is
# right here, since a new socket would be refused the same way.
CLOSE_TOO_MANY = 4008


class Caps:
    """This process's open room sockets, counted per session and per address."""

    def __init__(self) -> None:
        self.open: Counter[tuple[str, str]] = Counter()

    def take(self, session: str, address: str) -> str | None:
        """Count a socket in, or say why it may not open (then nothing is counted)."""
        keys = (("session", session), ("address", address))
        if self.open[keys[0]] >= settings.SOCKETS_PER_SESSION:
            return "Too many open tabs in this browser; close one and reload."
        if self.open[keys[1]] >= settings.SOCKETS_PER_ADDRESS:
            return "Too many connections from your network; try again later."
        self.open.update(keys)
        return None

    def give_back(self, session: str, address: str) -> None:
        for key in (("session", session), ("address", address)):
            self.open[key] -= 1
            if self.open[key] <= 0:
                # Keep no entry per closed session or address: they would add up.
                del self.open[key]
