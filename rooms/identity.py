"""Who a visitor is: the display name held in their session.

The name comes from the session only, never from a URL or a frame, so no one
can post under a name their session does not hold.
"""

from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "parley_name"


def display_name(session: SessionBase) -> str | None:
    return session.get(SESSION_KEY) or None


def remember(session: SessionBase, name: str) -> None:
    if session.get(SESSION_KEY) != name:
        # A new identity gets a new session key, so an old cookie can't carry it over.
        session.cycle_key()
    session[SESSION_KEY] = name
