"""Who a visitor is: a member's username, or a guest's name held in their session.

Identity comes from the session (and the account it is logged in to) only, never
from a URL or a frame, so no one can post under a name their session does not hold.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "parley_name"


@dataclass(frozen=True)
class Identity:
    name: str
    guest: bool
    # Who to count for rate limits and whose sockets to close when the identity ends.
    key: str
    # Where they act from now (the client address), for the per-address rate limits;
    # not part of who they are. Set by the page or socket the identity acts through.
    address: str | None = field(default=None, compare=False)


def identify(session: SessionBase, user=None) -> Identity | None:
    if user is not None and user.is_authenticated:
        return Identity(user.get_username(), guest=False, key=f"user.{user.pk}")
    name = session.get(SESSION_KEY)
    if not name:
        return None
    if session.session_key is None:
        session.save()
    return Identity(name, guest=True, key=f"session.{session.session_key}")


def remember(session: SessionBase, name: str) -> None:
    if session.get(SESSION_KEY) != name:
        # A new identity gets a new session key, so an old cookie can't carry it over.
        session.cycle_key()
    session[SESSION_KEY] = name


def is_member_name(name: str) -> bool:
    """Members' usernames are theirs: guests can't take them (in any letter case)."""
    return get_user_model().objects.filter(username__iexact=name).exists()
