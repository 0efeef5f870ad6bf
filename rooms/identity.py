"""Who a visitor is: a member's username, or a guest's name held in their session.

Identity comes from the session (and the account it is logged in to) only, never
from a URL or a frame, so no one can post under a name their session does not hold.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "parley_name"


@dataclass(frozen=True)
class Identity:
    name: str
    guest: bool
    # Who to count for rate limits and whose sockets to close when the identity ends.
    key: str


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


# The form field and socket query parameter that carry who a page was drawn for, so a
# page whose identity ended in another tab never sends under a name it does not show.
PAGE_FIELD = "identity"


def page_tag(me: Identity) -> str:
    """Who a page was drawn for: the name and its kind, hashed (nothing secret)."""
    from .models import author_tag

    return author_tag(me.name, me.guest)


def drawn_for(tag: str | None, me: Identity | None) -> bool:
    """Whether a page drawn for `tag` still belongs to this session's identity;
    a page that carries no tag (a script, an old page) takes the session's."""
    return tag is None or (me is not None and page_tag(me) == tag)
