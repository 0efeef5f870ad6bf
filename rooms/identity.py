"""Who a visitor is: a member's username, or a guest's name held in their session.

Identity comes from the session (and the account it is logged in to) only, never
from a URL or a frame, so no one can post under a name their session does not hold.

Guests' names are not unique, so a guest is known by a key made at random when they
pick a name and kept in their session: messages store it, and only its holder may
edit or delete them. Picking another name makes a new key, a new identity.
"""

import secrets
from dataclasses import dataclass, field

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import Q

from .models import MemberName, author_tag, guest_mark
from .names import name_keys

SESSION_KEY = "parley_name"
# The guest's key, made with the name it belongs to.
GUEST_KEY = "parley_guest"


class Shown:
    """What pages draw of someone, from their key: the tag their own page's style picks out
    (rooms/models.py author_tag) and, for a guest, the mark that tells same names apart."""

    key: str
    guest: bool

    @property
    def tag(self) -> str:
        return author_tag(self.key)

    @property
    def mark(self) -> str:
        return guest_mark(self.key) if self.guest else ""


@dataclass(frozen=True)
class Identity(Shown):
    name: str
    guest: bool
    # Who wrote a message, whom to count for rate limits and whose sockets to close
    # when the identity ends: "guest.<token>" or "user.<pk>".
    key: str
    # Where they act from now (the client address), for the per-address rate limits;
    # not part of who they are. Set by the page or socket the identity acts through.
    address: str | None = field(default=None, compare=False)


def member_key(pk: int) -> str:
    return f"user.{pk}"


def identify(session: SessionBase, user=None) -> Identity | None:
    if user is not None and user.is_authenticated:
        return Identity(user.get_username(), guest=False, key=member_key(user.pk))
    name = session.get(SESSION_KEY)
    if not name:
        return None
    if not session.get(GUEST_KEY):
        # Named before guests had keys: the key is made now, once, and kept.
        session[GUEST_KEY] = new_guest_key()
        session.save()
    return Identity(name, guest=True, key=f"guest.{session[GUEST_KEY]}")


def remember(session: SessionBase, name: str) -> None:
    if session.get(SESSION_KEY) != name or not session.get(GUEST_KEY):
        # A new identity gets a new session key, so an old cookie can't carry it over,
        # and a new guest key, so the old name's messages stay the old identity's.
        session.cycle_key()
        session[GUEST_KEY] = new_guest_key()
    session[SESSION_KEY] = name


def new_guest_key() -> str:
    # Channel-layer group names allow letters, digits, "-", "_" and ".": token_hex fits.
    return secrets.token_hex(12)


def is_member_name(name: str) -> bool:
    """Members' usernames are theirs: guests can't take them, nor anything that looks the same
    (any letter case, fullwidth, decomposed or look-alike letters)."""
    folded, mapped = name_keys(name)
    return MemberName.objects.filter(Q(folded=folded) | Q(mapped=mapped)).exists()


# The form field and socket query parameter that carry who a page was drawn for, so a
# page whose identity ended in another tab never sends under a name it does not show.
PAGE_FIELD = "identity"


def page_tag(me: Identity) -> str:
    """Who a page was drawn for: its key, hashed (nothing secret)."""
    return me.tag


def drawn_for(tag: str | None, me: Identity | None) -> bool:
    """Whether a page drawn for `tag` still belongs to this session's identity;
    a page that carries no tag (a script, an old page) takes the session's."""
    return tag is None or (me is not None and page_tag(me) == tag)
