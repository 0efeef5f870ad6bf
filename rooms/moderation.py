"""Keeping a room civil: its owner and moderators (and site staff, everywhere) mute, ban and
clear out people, and appoint moderators. Every action is one function here, which checks
the actor's standing from the record, stores, writes the room's log (rooms/modlog.py) and
announces once committed (rooms/events.py).

Who may act on whom: staff outrank owners, owners outrank moderators, moderators outrank
everyone else, and nobody acts on their equal or on themselves, so moderators can't mute
each other or the owner.

What a mute or a ban stops is decided in one place, rooms/restrictions.py.
"""

import datetime
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from . import events, modlog, restrictions
from .editing import Refused, is_moderator, tombstone
from .identity import Identity, Shown
from .models import (
    MODERATION_REASON_MAX_LENGTH,
    Ban,
    Membership,
    ModerationAction,
    Mute,
    Room,
    validate_printable,
)
from .restrictions import address_cache_key, address_group, banned_refusal, muted_refusal
from .words import Words

Role = Membership.Role
Kind = ModerationAction.Kind

# Standing in a room, highest last.
NOBODY, MODERATOR, OWNER, STAFF = 0, 1, 2, 3
ROLE_RANK = {Role.MODERATOR: MODERATOR, Role.OWNER: OWNER}

# What the moderation page offers; any whole number of minutes up to MUTE_LONGEST is kept.
MUTE_CHOICES = ((10, Words("10 min")), (60, Words("1 hour")), (24 * 60, Words("1 day")))
MUTE_LONGEST = 30 * 24 * 60

# An identity key as rooms/identity.py makes them.
KEY = re.compile(r"user\.\d{1,18}|guest\.[A-Za-z0-9_-]{1,32}")

NOT_A_MODERATOR = Words("Only this room's moderators can do that.")
OWNERS_ONLY = Words("Only the room's owner can appoint or dismiss moderators.")
NOT_SEEN = Words("That person has not been in this room.")
NOT_YOURSELF = Words("You can't do that to yourself.")
OUTRANKED = Words("You can't do that to someone who moderates this room too.")
BAD_MINUTES = Words("Pick how long: a whole number of minutes, up to 30 days.")
NO_ADDRESS = Words(
    "Their address is not known (they have not opened the room in the last day), "
    "so only their account or session can be banned."
)


# Standing.


def standing(room: Room, me: Identity | None, user=None) -> int:
    """What `me` may do here: STAFF, OWNER, MODERATOR or NOBODY, read from the record now."""
    if me is not None and not me.guest and is_moderator(user):
        return STAFF
    if me is None:
        return NOBODY
    role = Membership.objects.filter(room=room, key=me.key).values_list("role", flat=True).first()
    return ROLE_RANK.get(role, NOBODY)


def can_moderate(room: Room, me: Identity | None, user=None) -> bool:
    return standing(room, me, user) >= MODERATOR


def standing_of(room: Room, key: str) -> int:
    """The standing of someone else, by their identity key."""
    if key.startswith("user."):
        staff = get_user_model().objects.filter(
            pk=int(key.removeprefix("user.")), is_staff=True, is_active=True
        )
        if staff.exists():
            return STAFF
    role = Membership.objects.filter(room=room, key=key).values_list("role", flat=True).first()
    return ROLE_RANK.get(role, NOBODY)


def check_target(room: Room, me: Identity, user, key: str, *, least: int = MODERATOR) -> int:
    """Raise Refused unless `me` stands at least at `least` here and above the person
    `key`, who has been in the room; returns `me`'s standing."""
    mine = standing(room, me, user)
    if mine < least:
        raise Refused(OWNERS_ONLY if least == OWNER else NOT_A_MODERATOR)
    if not isinstance(key, str) or not KEY.fullmatch(key) or not been_here(room, key):
        raise Refused(NOT_SEEN, status=404)
    if key == me.key:
        raise Refused(NOT_YOURSELF)
    if standing_of(room, key) >= mine:
        raise Refused(OUTRANKED)
    return mine


def been_here(room: Room, key: str) -> bool:
    return (
        room.messages.filter(author_key=key).exists()
        or Membership.objects.filter(room=room, key=key).exists()
        or Ban.objects.filter(room=room, key=key).exists()
        or Mute.objects.filter(room=room, key=key).exists()
    )


def clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > MODERATION_REASON_MAX_LENGTH:
        raise ValidationError(
            {
                "reason": gettext("Keep the reason under %(most)s characters.")
                % {"most": MODERATION_REASON_MAX_LENGTH}
            }
        )
    try:
        validate_printable(reason)
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    return reason


# Muting.


def mute(room: Room, me: Identity, user, target_key: str, minutes: int, reason: str = "") -> Mute:
    """`target_key` may read the room but not say anything in it for `minutes`; their
    open pages are told at once. Muting again replaces the time and reason.

    Raises Refused, or ValidationError on `minutes` or `reason`.
    """
    check_target(room, me, user, target_key)
    if not isinstance(minutes, int) or not 0 < minutes <= MUTE_LONGEST:
        raise ValidationError({"minutes": BAD_MINUTES})
    reason = clean_reason(reason)
    until = timezone.now() + datetime.timedelta(minutes=minutes)
    with transaction.atomic():
        muted, _created = Mute.objects.update_or_create(
            room=room, key=target_key, defaults={"until": until, "by": me.name, "reason": reason}
        )
        modlog.record(room, me, Kind.MUTE, target_key, f"for {duration(minutes)}. {reason}")
    # Their composer says so now, not at their next try.
    events.tell_in_room(room.pk, target_key, muted_refusal(muted))
    return muted


def unmute(room: Room, me: Identity, user, target_key: str) -> bool:
    """Lift a mute early; False when there was none."""
    check_target(room, me, user, target_key)
    with transaction.atomic():
        lifted = Mute.objects.filter(room=room, key=target_key).delete()[0] > 0
        if lifted:
            modlog.record(room, me, Kind.UNMUTE, target_key)
    if lifted:
        events.tell_in_room(room.pk, target_key, "")
    return lifted


def duration(minutes: int) -> str:
    # Kept in the log as text: in the language of the moderator who acted.
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(hours)s hour", "%(hours)s hours", hours) % {"hours": hours}
    return gettext("%(minutes)s min") % {"minutes": minutes}


# Banning.


def ban(
    room: Room, me: Identity, user, target_key: str, also_address: bool = False, reason: str = ""
) -> Ban:
    """`target_key` may not come into the room again: a member by account, a guest by their
    session and, with `also_address`, any guest from the address they came from. Their
    sockets in the room close at once (and, for an address ban, every guest's from there).

    Raises Refused, or ValidationError on `reason` or `address` (no known address).
    """
    check_target(room, me, user, target_key)
    reason = clean_reason(reason)
    address = None
    if also_address:
        address = cache.get(address_cache_key(room.pk, target_key))
        if address is None:
            raise ValidationError({"address": NO_ADDRESS})
    with transaction.atomic():
        banned, _created = Ban.objects.update_or_create(
            room=room,
            key=target_key,
            defaults={"address": address, "by": me.name, "reason": reason},
        )
        Mute.objects.filter(room=room, key=target_key).delete()  # a ban says more
        detail = (gettext("with their address.") + f" {reason}").strip() if address else reason
        modlog.record(room, me, Kind.BAN, target_key, detail)
        told = banned_refusal(banned)
        events.leave_room(room.pk, target_key, told)
        if address:
            events.leave_room(room.pk, address_group(room.pk, address), told)
    return banned


def unban(room: Room, me: Identity, user, target_key: str) -> bool:
    """Let someone come in again; False when they were not banned."""
    check_target(room, me, user, target_key)
    with transaction.atomic():
        lifted = Ban.objects.filter(room=room, key=target_key).delete()[0] > 0
        if lifted:
            modlog.record(room, me, Kind.UNBAN, target_key)
    return lifted


# Clearing out.


def remove_all(room: Room, me: Identity, user, target_key: str) -> int:
    """Every message of `target_key` in the room becomes a tombstone, each at a revision of
    its own, all under the room's lock in one transaction, and each is pushed to everyone
    once it is committed. Returns how many went."""
    check_target(room, me, user, target_key)
    with transaction.atomic():
        # Held to the end: nothing of theirs is posted between the reading and the erasing.
        Room.objects.select_for_update().only("pk").get(pk=room.pk)
        said = room.messages.filter(author_key=target_key, deleted__isnull=True)
        pks = list(said.order_by("seq").values_list("pk", flat=True))
        gone = sum(1 for pk in pks if tombstone(room, pk)[1])
        modlog.record(room, me, Kind.REMOVE_ALL, target_key, f"{gone} message(s)")
    return gone


# Moderators.


def appoint(room: Room, me: Identity, user, target_key: str) -> Membership:
    """The owner (or staff) makes someone a moderator of the room."""
    check_target(room, me, user, target_key, least=OWNER)
    name = modlog.name_in(room, target_key)
    account = int(target_key.removeprefix("user.")) if target_key.startswith("user.") else None
    with transaction.atomic():
        found, made = Membership.objects.get_or_create(
            room=room,
            key=target_key,
            defaults={"user_id": account, "name": name, "role": Role.MODERATOR},
        )
        if not made:
            found.role = Role.MODERATOR
            found.save(update_fields=["role"])
        modlog.record(room, me, Kind.APPOINT, target_key)
    return found


def dismiss(room: Room, me: Identity, user, target_key: str) -> bool:
    """The owner (or staff) takes moderation back; in an open room the row, which only gave
    the role, goes; in a private room the person stays a member. False: not a moderator."""
    check_target(room, me, user, target_key, least=OWNER)
    with transaction.atomic():
        found = Membership.objects.filter(room=room, key=target_key, role=Role.MODERATOR)
        # In an open room the row only gave the role; in a private one they stay a member.
        changed = found.delete()[0] > 0 if room.is_open else found.update(role=Role.MEMBER) > 0
        restrictions.forget_room(room.pk)  # an update sends no signal
        if changed:
            modlog.record(room, me, Kind.DISMISS, target_key)
    return changed


# What the moderation page lists.


@dataclass
class Person(Shown):
    """Someone who spoke in the room lately, as the page lists them (Shown: their mark)."""

    key: str
    name: str
    guest: bool
    last_said: datetime.datetime | None
    standing: int = NOBODY


def recent_people(room: Room, limit: int = 50, scanned: int = 500) -> list[Person]:
    """Who spoke lately (among the room's last `scanned` messages), newest first."""
    people: dict[str, Person] = {}
    recent = room.messages.exclude(author_key="").order_by("-seq")[:scanned]
    for key, name, guest, created in recent.values_list("author_key", "author", "guest", "created"):
        if key not in people:
            people[key] = Person(key, name, guest, created)
            if len(people) >= limit:
                break
    roles = dict(Membership.objects.filter(room=room, key__in=people).values_list("key", "role"))
    for person in people.values():
        person.standing = ROLE_RANK.get(roles.get(person.key), NOBODY)
    return list(people.values())


def moderators(room: Room) -> list[Membership]:
    return list(
        room.memberships.filter(role__in=[Role.OWNER, Role.MODERATOR]).order_by("-role", "joined")
    )


def current_mutes(room: Room) -> list[Mute]:
    return list(room.mutes.filter(until__gt=timezone.now()).order_by("until"))


def current_bans(room: Room) -> list[Ban]:
    return list(room.bans.order_by("-created"))


LOG_PAGE = 50


def log_page(room: Room, before: int | None = None) -> list[ModerationAction]:
    """The room's log, newest first, LOG_PAGE at a time and one more (is there an older
    page?); `before`: the last one the page before showed."""
    found = room.moderation_actions.order_by("-created", "-pk")
    if before is not None:
        found = found.filter(pk__lt=before)
    return list(found[: LOG_PAGE + 1])
