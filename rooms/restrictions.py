"""What a mute or a ban stops, decided in one place for every way of taking part.

Posting (forms, sockets, uploads), edits, reactions and topic changes call `enforce` (or
`refusals`, its batch form, for posting's batches) before storing anything: a muted or
banned person's change is refused on the field that path already reports, with the
reason, so what they typed stays in their box. The room page, its socket, uploads and
search ask `admit`, which also notes where a guest comes from, for a ban that includes
their address. Mutes and bans are made by rooms/moderation.py.

Pages ask on every view, and a room page costs one query when nothing changed: so `admit`
and `moderates` read the room's bans and roles from the cache (`room_state`), dropped
whenever a ban or a role is saved or deleted (on commit, whichever path changed it) and
kept at most STATE_KEPT seconds anyway. Changes themselves (`enforce`, and the checks of
rooms/moderation.py) read the record.
"""

import datetime
import hashlib
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import editing, limits
from .identity import Identity
from .models import Ban, Membership, Mute, Room

# editing imports this module; its functions are looked up when called.
from .words import Words

Role = Membership.Role
ROLES = [Role.OWNER, Role.MODERATOR]

BANNED = Words("You are banned from this room.")
# How long a guest's address is remembered for an address ban.
ADDRESS_KEPT = 24 * 60 * 60  # seconds
# How long a room's bans and roles are read from the cache at most (a fill racing a change
# could keep the old state): pages only; changes read the record.
STATE_KEPT = 30  # seconds


@dataclass
class RoomState:
    """A room's bans and who holds a role there (owner, moderator), as pages need them."""

    roles: dict[str, str] = field(default_factory=dict)
    bans: list[Ban] = field(default_factory=list)

    def ban_of(self, me: Identity) -> Ban | None:
        """The ban that keeps `me` out: of their key, or (a guest without a role) of the
        place they come from."""
        for ban in self.bans:
            if ban.key == me.key:
                return ban
        if not me.guest or me.key in self.roles:
            return None
        return next(
            (ban for ban in self.bans if ban.address and same_place(ban.address, me.address)), None
        )


def state_key(room_id: int) -> str:
    return f"moderation:state:{room_id}"


def room_state(room_id: int) -> RoomState:
    found = cache.get(state_key(room_id))
    if found is None:
        roles = Membership.objects.filter(room_id=room_id, role__in=ROLES).values_list(
            "key", "role"
        )
        found = RoomState(dict(roles), list(Ban.objects.filter(room_id=room_id)))
        cache.set(state_key(room_id), found, STATE_KEPT)
    return found


def forget_state(sender, instance, **kwargs) -> None:
    """A ban or a role changed: the room's cached state goes now and once committed (a
    page reading meanwhile may have cached the old one)."""
    forget_room(instance.room_id)


def forget_room(room_id: int) -> None:
    key = state_key(room_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


def until_text(when: datetime.datetime) -> str:
    local = timezone.localtime(when)
    day = "" if local.date() == timezone.localdate() else f"{local:%-d %b}, "
    return f"{day}{local:%H:%M} {local.tzname()}"


def muted_refusal(muted: Mute) -> str:
    until = until_text(muted.until)
    if muted.reason:
        return _("You are muted in this room until %(until)s. Reason: %(reason)s") % {
            "until": until,
            "reason": muted.reason,
        }
    return _("You are muted in this room until %(until)s.") % {"until": until}


def banned_refusal(ban: Ban) -> str:
    if ban.reason:
        return _("You are banned from this room. Reason: %(reason)s") % {"reason": ban.reason}
    return str(BANNED)


def enforce(room: Room, me: Identity, field: str) -> None:
    """Raise ValidationError on `field` (the one the path already reports, so what was
    typed stays in the box) when `me` is muted or banned in the room."""
    if refusal := refusals([(room, me)]).get((room.pk, me.key)):
        raise ValidationError({field: ValidationError(refusal, code="moderated")})


def refusals(people: list[tuple[Room, Identity]]) -> dict[tuple[int, str], str]:
    """For a batch of (room, person), why each one muted or banned there may not speak: a
    few queries for the whole batch (rooms/posting.py stores many posts at once)."""
    wanted = {(room.pk, me.key): me for room, me in people}
    if not wanted:
        return {}
    rooms = {room_id for room_id, _ in wanted}
    keys = {key for _, key in wanted}
    found: dict[tuple[int, str], str] = {}
    muted = Mute.objects.filter(room_id__in=rooms, key__in=keys, until__gt=timezone.now())
    for each in muted:
        if (each.room_id, each.key) in wanted:
            found[each.room_id, each.key] = muted_refusal(each)
    guests = [(room_id, me) for (room_id, _), me in wanted.items() if me.guest and me.address]
    bans = Ban.objects.filter(room_id__in=rooms).filter(
        Q(key__in=keys) | Q(address__isnull=False) if guests else Q(key__in=keys)
    )
    for each in bans:
        if (each.room_id, each.key) in wanted:
            found[each.room_id, each.key] = banned_refusal(each)
        elif each.address:
            for room_id, me in guests:
                caught = room_id == each.room_id and same_place(each.address, me.address)
                if caught and (room_id, me.key) not in found and not holds_role(room_id, me.key):
                    found[room_id, me.key] = banned_refusal(each)
    return found


def same_place(address: str, other: str | None) -> bool:
    """Whether two addresses are one client's, counted as rate limits count them (an IPv6
    /64 is one home or office)."""
    return other is not None and limits.network(address) == limits.network(other)


def holds_role(room_id: int, key: str) -> bool:
    """Owners and moderators (a guest may be one) are never caught by an address ban."""
    return Membership.objects.filter(room_id=room_id, key=key, role__in=ROLES).exists()


def moderates(room: Room, me: Identity | None, user=None) -> bool:
    """Whether the page should show `me` the room's moderation (its owner, a moderator, or
    staff); from the cached state: the actions themselves check the record."""
    if me is None:
        return False
    if me.guest:
        return me.key in room_state(room.pk).roles
    # A member's role is read from the record: one given in the admin or by a script (another
    # process, whose cache is not this one's without Redis) shows on their next page.
    has_role = Membership.objects.filter(room=room, key=me.key, role__in=ROLES).exists()
    return has_role or editing.is_moderator(user)


@dataclass(frozen=True)
class Admission:
    """Whether someone may come into a room: the ban that keeps them out (None: come in),
    and the group their guest socket there listens to for address bans (None: no such)."""

    ban: Ban | None
    address_group: str | None = None

    @property
    def refusal(self) -> str:
        return banned_refusal(self.ban) if self.ban else ""


def admit(room: Room, me: Identity | None, user=None) -> Admission:
    """Whether `me` may open the room (its page, socket, search); for a guest, notes the
    address they come from, for a ban that includes it."""
    if me is None:
        return Admission(None)
    state = room_state(room.pk)
    if me.key in state.roles:
        return Admission(None)
    found = state.ban_of(me)
    if found is not None and not (not me.guest and editing.is_moderator(user)):
        return Admission(found)
    if not me.guest or not me.address:
        return Admission(None)
    cache.set(address_cache_key(room.pk, me.key), me.address, ADDRESS_KEPT)
    return Admission(None, address_group(room.pk, me.address))


def address_cache_key(room_id: int, key: str) -> str:
    return f"moderation:address:{room_id}:{key}"


def address_group(room_id: int, address: str) -> str:
    """The group of a room's guest sockets from one place (a hash: group names take only
    letters, digits, dots, dashes and underscores)."""
    place = hashlib.blake2s(limits.network(address).encode(), digest_size=8).hexdigest()
    return f"guests.{room_id}.{place}"
