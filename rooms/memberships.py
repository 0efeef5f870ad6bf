"""Belonging to a room: making a private room, coming in, being removed.

Each change is one function here, for pages, sockets, the admin and scripts alike; who
may do it is decided here from the record, never by the page. A person removed from a
room has their sockets there closed once the removal is committed (rooms/events.py).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from . import access, events, limits, modlog
from .editing import Refused
from .identity import Identity
from .models import ROOM_NAME_MAX_LENGTH, Membership, ModerationAction, Room, private_slug
from .words import Words

Role = Membership.Role

MEMBERS_ONLY = Words("Sign in to make a private room: guests can't own rooms.")
OWNERS_ONLY = Words("Only the room's owner can do that.")
NOT_A_MEMBER = Words("That person is not in this room.")
OWNER_STAYS = Words("The owner can't be removed from their own room.")
REMOVED = Words("You were removed from this room, so this page no longer sends.")


def create_private_room(me: Identity, user, name: str) -> Room:
    """A new private room named `name`, owned by the member `me` (a signed-in `user`).

    Raises Refused for a guest, ValidationError on `room_name` for a bad name, and on
    `room_name` with the rate-limit code when making rooms too fast.
    """
    if me.guest or user is None or not user.is_authenticated:
        raise Refused(MEMBERS_ONLY)
    limits.enforce("room", "room_name", person=me.key, address=me.address)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"room_name": _("Give the room a name.")})
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "room_name": _("Use at most %(most)s characters for the name.")
                % {"most": ROOM_NAME_MAX_LENGTH}
            }
        )
    try:
        slug = private_slug(name)
    except ValidationError as error:
        raise ValidationError({"room_name": error.messages}) from None
    with transaction.atomic():
        room = Room.objects.create(slug=slug, name=name, kind=Room.Kind.PRIVATE)
        Membership.objects.create(room=room, key=me.key, user=user, name=me.name, role=Role.OWNER)
    return room


def join(room: Room, me: Identity, user=None, role: str = Role.MEMBER) -> Membership:
    """`me` belongs to `room` from now on (again: nothing changes). `user` is their
    account when they are signed in; a guest belongs by their guest key alone."""
    account = user if user is not None and user.is_authenticated else None
    try:
        with transaction.atomic():
            found, _created = Membership.objects.get_or_create(
                room=room, key=me.key, defaults={"user": account, "name": me.name, "role": role}
            )
    except IntegrityError:  # joined at the same moment from another tab
        found = Membership.objects.get(room=room, key=me.key)
    return found


def is_owner(room: Room, me: Identity | None) -> bool:
    return access.role(room, me) == Role.OWNER


def remove(room: Room, me: Identity, key: str) -> Membership:
    """The owner removes someone from their room: the person's open sockets in it close
    at once, and nothing of it reaches them after (they are no longer let in).

    Raises Refused when `me` is not the owner, the person is not in the room, or is its owner.
    """
    if not is_owner(room, me):
        raise Refused(OWNERS_ONLY)
    found = Membership.objects.filter(room=room, key=key).first()
    if found is None:
        raise Refused(NOT_A_MEMBER, status=404)
    if found.role == Role.OWNER:
        raise Refused(OWNER_STAYS)
    with transaction.atomic():  # the log and the record never disagree
        modlog.record(room, me, ModerationAction.Kind.REMOVE, key)
        found.delete()
        events.leave_room(room.pk, key, REMOVED)
    return found


def members(room: Room) -> list[Membership]:
    return list(room.memberships.order_by("joined", "pk"))
