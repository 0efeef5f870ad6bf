"""Invitations into a private room: a link that carries a signed token.

The token names the invitation (a random nonce) and its expiry, signed with the site's
secret, so it can be neither guessed nor stretched; the row behind it can be revoked,
and an invitation for one person is spent by the first who comes in with it. The link
itself changes nothing: opening it shows what it is for, and the person's own "Join"
(a POST) lets them in.
"""

import datetime

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import limits, memberships
from .editing import Refused
from .identity import Identity
from .models import Invite, Membership, Room
from .words import Words

SALT = "parley.invite"
# The lifetimes an owner picks from, in days.
LIFETIMES = (1, 7, 30)

NOT_VALID = Words("This invitation link is not valid. Ask for a new one.")
EXPIRED = Words("This invitation has expired. Ask the room's owner for a new one.")
REVOKED = Words("This invitation was withdrawn by the room's owner.")
USED = Words("This invitation was for one person and has been used. Ask for a new one.")
MEMBERS_ONLY = Words("This invitation is for members: sign in or sign up to join.")


class InviteRefused(Refused):
    """An invitation that lets nobody in (any more); the text says why."""


def create(
    room: Room, me: Identity, *, days: int, single_use: bool = False, guests: bool = False
) -> Invite:
    """A new invitation into `room`, from its owner. Raises Refused for anyone else, and
    ValidationError on `days` for a lifetime not offered or when inviting too fast."""
    if not memberships.is_owner(room, me):
        raise Refused(memberships.OWNERS_ONLY)
    if days not in LIFETIMES:
        days_offered = ", ".join(map(str, LIFETIMES))
        raise Refused(
            _("Pick how long the link works: %(days)s days.") % {"days": days_offered}, 400
        )
    limits.enforce("room", "days", person=me.key, address=me.address)
    expires = timezone.now() + datetime.timedelta(days=days)
    return Invite.objects.create(
        room=room, created_by=me.name, expires=expires, single_use=single_use, guests=guests
    )


def token(invite: Invite) -> str:
    """The invitation's part of its link: its nonce and expiry, signed (the same token
    each time it is shown)."""
    return signing.Signer(salt=SALT).sign_object(
        {"n": invite.nonce, "e": int(invite.expires.timestamp())}
    )


def find(value: str) -> Invite:
    """The invitation a link's token names, if it still lets people in; raises
    InviteRefused with the reason otherwise."""
    try:
        signed = signing.Signer(salt=SALT).unsign_object(value)
        nonce, expires = signed["n"], signed["e"]
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise InviteRefused(NOT_VALID, status=404) from None
    invite = Invite.objects.select_related("room").filter(nonce=nonce).first()
    if invite is None:
        raise InviteRefused(NOT_VALID, status=404)
    now = timezone.now().timestamp()
    if now >= expires or now >= invite.expires.timestamp():
        raise InviteRefused(EXPIRED, status=410)
    if invite.revoked is not None:
        raise InviteRefused(REVOKED, status=410)
    if invite.single_use and invite.uses:
        raise InviteRefused(USED, status=410)
    return invite


def accept(value: str, me: Identity, user=None) -> Room:
    """`me` comes into the invitation's room (already in: nothing changes). Raises
    InviteRefused when the invitation lets nobody in, or not guests and `me` is one."""
    invite = find(value)
    room = invite.room
    if Membership.objects.filter(room=room, key=me.key).exists():
        return room
    if me.guest and not invite.guests:
        raise InviteRefused(MEMBERS_ONLY)
    with transaction.atomic():
        # Counted under the row's lock: two people racing for a single-use link, one wins.
        spent = Invite.objects.filter(pk=invite.pk, revoked__isnull=True)
        if invite.single_use:
            spent = spent.filter(uses=0)
        if not spent.update(uses=F("uses") + 1):
            raise InviteRefused(USED if invite.single_use else REVOKED, status=410)
        memberships.join(room, me, user)
    return room


def revoke(room: Room, me: Identity, pk: int) -> Invite:
    """The owner withdraws an invitation: its link lets nobody else in."""
    if not memberships.is_owner(room, me):
        raise Refused(memberships.OWNERS_ONLY)
    invite = room.invites.filter(pk=pk).first()
    if invite is None:
        raise Refused(_("That invitation is not this room's."), status=404)
    if invite.revoked is None:
        invite.revoked = timezone.now()
        invite.save(update_fields=["revoked"])
    return invite


def active(room: Room) -> list[Invite]:
    """The room's invitations that still let people in, newest first."""
    now = timezone.now()
    live = room.invites.filter(revoked__isnull=True, expires__gt=now)
    return [invite for invite in live if not (invite.single_use and invite.uses)]
