"""Direct messages: a conversation among a fixed set of members, in a room of its own.

A conversation is a room of kind DIRECT whose people are its memberships, made all at
once. Its `direct_key` is those people's identity keys, sorted and hashed, so starting
the same conversation again (in any order, by any of them) finds the same room. What
happens inside it is what happens in every room: the same posting, delivery, limits and
pages; rooms/access.py keeps everyone else out (a 404, a refused socket).
"""

import hashlib

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils.translation import ngettext

from . import limits, memberships
from .editing import Refused
from .identity import Identity, member_key
from .models import ROOM_NAME_MAX_LENGTH, Membership, Room, private_slug
from .names import name_keys
from .words import Words

# Besides the person starting it: a conversation, not a room (a private room has no cap).
MOST_PEOPLE = 8

# How many conversations the home page lists, newest first.
ON_THE_HOME_PAGE = 10

MEMBERS_ONLY = Words("Sign in to message someone: conversations are between members.")
NOBODY = Words("Name at least one other member.")
TOO_MANY = Words("A conversation has at most %(most)s other people; name fewer.", most=MOST_PEOPLE)

# Where the names are typed: the field that carries every error about them.
FIELD = "people"


def names_in(text: str) -> list[str]:
    """The names typed in one box, separated by commas (or spaces: usernames have none)."""
    return [name for name in text.replace(",", " ").split() if name]


def conversation_key(keys: list[str]) -> str:
    """One key for a set of people, whatever the order they were named in."""
    return hashlib.sha256("\n".join(sorted(set(keys))).encode()).hexdigest()


def start_conversation(me: Identity | None, user, usernames: list[str]) -> Room:
    """The conversation between the member `me` (signed in as `user`) and the members
    named: found when it exists, else made, with a membership for each of them.

    Raises Refused for a guest (or nobody); ValidationError on `people` for names that
    are no active account, for nobody but oneself, for too many people, and (with the
    rate-limit code) for starting conversations too fast.
    """
    if me is None or me.guest or user is None or not user.is_authenticated:
        raise Refused(MEMBERS_ONLY)
    # Every try counts, found or not: an answer naming the unknown names would otherwise
    # let anyone test thousands of usernames a minute.
    limits.enforce("room", FIELD, person=me.key, address=me.address)
    others = accounts_named(usernames, besides=user)
    people = [user, *others]
    key = conversation_key([member_key(person.pk) for person in people])
    if (room := find(key)) is not None:
        # Starting it again brings back whoever left it (rooms/reading.py leave): it is
        # the conversation of exactly these people, whoever took it off their list.
        memberships.join(room, me, user)
        return room
    name = conversation_name([person.get_username() for person in others])
    try:
        with transaction.atomic():
            room = Room.objects.create(
                slug=conversation_slug(name), name=name, kind=Room.Kind.DIRECT, direct_key=key
            )
            Membership.objects.bulk_create(
                Membership(room=room, key=member_key(person.pk), user=person, name=name_of(person))
                for person in people
            )
    except IntegrityError:
        # Started at the same moment by another of them (or in another tab): theirs stands.
        if (room := find(key)) is None:
            raise
    return room


def find(key: str) -> Room | None:
    return Room.objects.filter(direct_key=key).first()


def accounts_named(usernames: list[str], *, besides) -> list:
    """The active accounts the names stand for, each once, in the order named, leaving out
    `besides` (one's own name in the list changes nothing). A name finds its account
    whatever its letter case. Raises ValidationError on `people`."""
    wanted: dict[str, str] = {}  # a name's folded form -> the name as typed
    for name in usernames:
        wanted.setdefault(name_keys(name)[0], name)
    if len(wanted) > MOST_PEOPLE + 1:  # checked before any lookup: one may be one's own
        raise ValidationError({FIELD: TOO_MANY})
    found = {}
    accounts = get_user_model().objects.filter(is_active=True)
    by_folded = accounts.filter(parley_name__folded__in=wanted).annotate(
        folded=F("parley_name__folded")
    )
    for account in by_folded:
        found[account.folded] = account
    missing = [folded for folded in wanted if folded not in found]
    if missing:
        # Accounts whose name is held by no look-alike row (made before that rule): by
        # the name exactly as typed.
        exact = accounts.filter(username__in=[wanted[folded] for folded in missing])
        by_name = {account.get_username(): account for account in exact}
        for folded in missing:
            if (account := by_name.get(wanted[folded])) is not None:
                found[folded] = account
    unknown = [wanted[folded] for folded in wanted if folded not in found]
    if unknown:
        listed = ", ".join(unknown)
        raise ValidationError(
            {
                FIELD: ngettext(
                    "No member goes by this name: %(names)s. Check the spelling.",
                    "No member goes by these names: %(names)s. Check the spelling.",
                    len(unknown),
                )
                % {"names": listed}
            }
        )
    others = [found[folded] for folded in wanted if found[folded].pk != besides.pk]
    others = list({account.pk: account for account in others}.values())
    if not others:
        raise ValidationError({FIELD: NOBODY})
    if len(others) > MOST_PEOPLE:
        raise ValidationError({FIELD: TOO_MANY})
    return others


def name_of(user) -> str:
    return user.get_username()


def conversation_name(names: list[str]) -> str:
    """The room's name: the others' names, as the one who started it named them; cut to
    fit (each person's page shows the people besides themselves anyway, see `people`)."""
    name = ", ".join(names)
    if len(name) > ROOM_NAME_MAX_LENGTH:
        name = name[: ROOM_NAME_MAX_LENGTH - 1].rstrip(", ") + "…"
    return name


def conversation_slug(name: str) -> str:
    """An address nobody guesses (private_slug); names of letters a slug can't hold
    (every one of them non-Latin, say) make none, so those get a plain one."""
    try:
        return private_slug(name)
    except ValidationError:
        return private_slug("conversation")


def people(room: Room, me: Identity | None) -> list[str] | None:
    """A conversation's other people as `me` sees them (["ada", "bob"]); None for a room
    that is no conversation. Uses the memberships conversations_of prefetched (`others`)."""
    if room.kind != Room.Kind.DIRECT:
        return None
    if hasattr(room, "others"):
        return [found.name for found in room.others]
    key = me.key if me is not None else ""
    return list(room.memberships.exclude(key=key).values_list("name", flat=True))


def conversations_of(me: Identity | None, limit: int | None = None) -> list[Room]:
    """The conversations `me` is in, the one with the newest activity first (a new one,
    with nothing said yet, counts from when it was made). Each room carries `people`:
    the others' names, for the page."""
    if me is None or me.guest:
        return []
    mine = Membership.objects.filter(key=me.key).values("room_id")
    others = Membership.objects.filter(~Q(key=me.key)).order_by("joined", "pk")
    rooms = (
        Room.objects.filter(kind=Room.Kind.DIRECT, pk__in=mine)
        .order_by(Coalesce("last_activity", "created").desc(), "-pk")
        .prefetch_related(Prefetch("memberships", queryset=others, to_attr="others"))
    )
    found = list(rooms[:limit] if limit is not None else rooms)
    for room in found:
        room.people = people(room, me)
    return found
