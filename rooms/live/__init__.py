"""Live delivery: what reaches open sockets, owned by one runtime per process.

hub.py       one subscription per group per process; hands each event to the
             group's feeds (a table from event type to delivery)
feed.py      one socket's feed: its room's changes whole and in order, read
             from the record when a push is missing; the socket's only sender
backlog.py   a socket's sends (Sender: a room's feed, an open lobby), and what a
             slow reader may hold before its socket is closed
recovery.py  the once-a-second check against the rooms' newest revisions
outbox.py    posts from this process's sockets, stored a batch per commit
presence.py  who is here (stores.py: in memory or in Redis)
lobby.py     the lobby's live cards, to open lobbies through the hub
caps.py      sockets per session and per address
memory.py    memory freed by closed sockets given back to the system
process.py   Live: the one object holding all of the above for this process,
             with one start and one stop
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .process import Live


def runtime() -> "Live":
    """This process's live runtime: made with the app (rooms/apps.py), started by the
    first socket, stopped at server shutdown (config/asgi.py) and after each test."""
    from django.apps import apps

    return apps.get_app_config("rooms").live
