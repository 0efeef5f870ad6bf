"""My rooms, and how far I have read each: the sidebar's list and unread counts, and the
read position a room's unread divider starts from.

A member's rooms are their memberships (entering an open room makes one); a guest's open
rooms are a short list in their session (private rooms they were invited to are
memberships too). How far someone has read is the seq of the last message they were shown:
stored per member and room (ReadPosition), so it follows a member across devices, and in
the session for a guest. It only moves forward; moving it tells that person's other pages
(rooms/events.py `Read`), which clear the room's count.
"""

from dataclasses import dataclass

from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import events, memberships
from .editing import Refused
from .identity import Identity
from .models import Membership, Message, ReadPosition, Room
from .sidebar import MARKS_DRAWN, mention_tags
from .templatetags.chat import mention_tag
from .words import Words

# A guest's open rooms, newest first, and how far they read each ({room id: seq}).
GUEST_ROOMS = "parley_rooms"
GUEST_READ = "parley_read"
# A guest's list stays small: their most recently entered rooms.
GUEST_KEPT = 50
# Only this many messages back are read for a count (it reads "99+" long before).
COUNTED_BACK = 1000

OWNER_STAYS = Words("You own this room: it can't be left, only given away or deleted.")


@dataclass(frozen=True)
class Entry:
    """One of my rooms as the sidebar shows it."""

    room: Room
    unread: int
    mentioned: bool
    # The room of the page it is drawn on: no count there, marked as the current page.
    current: bool = False
    # Whether its Leave button is offered (not to a private room's owner).
    leavable: bool = True
    # A conversation's other people as this person sees them (its stored name is the
    # starter's view); empty for any other room.
    people: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return ", ".join(self.people) if self.people else self.room.name

    @property
    def marks(self) -> range:
        return range(min(self.unread, MARKS_DRAWN))

    @property
    def said(self) -> str:
        """The count in words, as the marks read: "3 unread", "99+ unread"."""
        count = self.unread if self.unread < MARKS_DRAWN else f"{MARKS_DRAWN - 1}+"
        return _("%(count)s unread") % {"count": count}


def guest_slugs(session: SessionBase | None) -> list[str]:
    slugs = session.get(GUEST_ROOMS, []) if session is not None else []
    return [slug for slug in slugs if isinstance(slug, str)] if isinstance(slugs, list) else []


def enter(room: Room, me: Identity, user=None, session: SessionBase | None = None) -> None:
    """`me` came into `room`: it is one of their rooms from now on. Members of an open room
    get a membership (private rooms and conversations have theirs already); a guest's open
    room goes first in their session's list."""
    if not room.is_open:
        return
    if not me.guest:
        memberships.join(room, me, user)
    elif session is not None:
        slugs = guest_slugs(session)
        if slugs[:1] != [room.slug]:
            session[GUEST_ROOMS] = [room.slug, *(s for s in slugs if s != room.slug)][:GUEST_KEPT]


def leave(room: Room, me: Identity, session: SessionBase | None = None) -> None:
    """`me` takes `room` off their list. In an open room that is all (they may come back
    in); leaving a private room or conversation ends their place in it, and their pages
    there stop. Raises Refused for a private room's owner."""
    found = Membership.objects.filter(room=room, key=me.key).first()
    if not room.is_open and found is not None and found.role == Membership.Role.OWNER:
        raise Refused(OWNER_STAYS)
    if session is not None and room.slug in (slugs := guest_slugs(session)):
        session[GUEST_ROOMS] = [slug for slug in slugs if slug != room.slug]
    if found is not None and not (room.is_open and found.role == Membership.Role.OWNER):
        found.delete()
        if not room.is_open:
            events.leave_room(
                room.pk, me.key, _("You left this room, so this page no longer sends.")
            )


def position(room: Room, me: Identity, user=None, session: SessionBase | None = None) -> int:
    """The seq of the last message of `room` that `me` was shown (0: none)."""
    if me.guest:
        return guest_positions(session).get(room.pk, 0)
    if user is None or not user.is_authenticated:
        return 0
    found = ReadPosition.objects.filter(room=room, user=user).values_list("seq", flat=True)
    return found.first() or 0


def guest_positions(session: SessionBase | None) -> dict[int, int]:
    stored = session.get(GUEST_READ, {}) if session is not None else {}
    if not isinstance(stored, dict):
        return {}
    return {
        int(room): seq
        for room, seq in stored.items()
        if str(room).isdigit() and isinstance(seq, int)
    }


def mark_read(
    room: Room, me: Identity, user=None, seq: int = 0, session: SessionBase | None = None
) -> bool:
    """`me` has been shown `room`'s messages up to `seq`. Only ever moves forward, and never
    past the room's newest message; returns whether it moved. Once it has, the count of
    `room` clears on that person's other pages (members on every device: stored per
    account; a guest's in their session)."""
    if seq > room.last_seq:
        # Past what `room` knew of (a socket's room is read when it opens): ask the record.
        newest = Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).first()
        seq = min(seq, newest or 0)
    if seq <= 0:
        return False
    if me.guest:
        if session is None:
            return False
        read = session.get(GUEST_READ)
        read = dict(read) if isinstance(read, dict) else {}
        if read.get(str(room.pk), 0) >= seq:
            return False
        read[str(room.pk)] = seq
        session[GUEST_READ] = read
        moved = True
    else:
        if user is None or not user.is_authenticated:
            return False
        moved = move_forward(room, user, seq)
    if moved:
        events.emit(events.Read(room.pk, me.key))
    return moved


def move_forward(room: Room, user, seq: int) -> bool:
    ahead = ReadPosition.objects.filter(room=room, user=user, seq__lt=seq)
    if ahead.update(seq=seq, updated=timezone.now()):
        return True
    try:
        with transaction.atomic():
            ReadPosition.objects.create(room=room, user=user, seq=seq)
    except IntegrityError:
        # There already, at `seq` or beyond, or stored by another page this moment.
        return bool(ahead.update(seq=seq, updated=timezone.now()))
    return True


def my_room_list(me: Identity, session: SessionBase | None = None) -> list[Room]:
    """The rooms on `me`'s list, by name: one query."""
    mine = Membership.objects.filter(key=me.key).values("room_id")
    listed = Q(pk__in=mine) | Q(kind=Room.Kind.OPEN, slug__in=guest_slugs(session))
    return list(Room.objects.filter(listed).order_by("name", "pk"))


def listened_rooms(me: Identity, session: SessionBase | None, current: Room) -> list[int]:
    """The rooms whose new messages a page of `current` shows in its sidebar (not its own)."""
    return [room.pk for room in my_room_list(me, session) if room.pk != current.pk]


def my_rooms(
    me: Identity, user=None, session: SessionBase | None = None, current: Room | None = None
) -> list[Entry]:
    """`me`'s rooms with their unread counts and whether any unread message mentions them,
    in a few queries however many rooms there are (the list, the positions, the counts, the
    messages that may mention them)."""
    rooms = my_room_list(me, session)
    counted = [room for room in rooms if current is None or room.pk != current.pk]
    if not counted:
        # The page's own room alone: it shows no count, so none is read.
        people = conversation_people(me, rooms)
        return [
            Entry(room, 0, False, current=True, leavable=False, people=people.get(room.pk, ()))
            for room in rooms
        ]
    if me.guest:
        read = guest_positions(session)
    elif user is not None and user.is_authenticated:
        stored = ReadPosition.objects.filter(user=user, room__in=counted)
        read = dict(stored.values_list("room_id", "seq"))
    else:
        read = {}
    unread = Q()
    for room in counted:
        # A room never read counts from its last COUNTED_BACK messages: "99+" either way.
        after = max(read.get(room.pk, 0), room.last_seq - COUNTED_BACK)
        unread |= Q(room_id=room.pk, seq__gt=after)
    others = Message.objects.filter(unread, deleted__isnull=True).exclude(author_key=me.key)
    counts = dict(
        others.order_by().values("room_id").annotate(n=Count("pk")).values_list("room_id", "n")
    )
    mentioned = mentioned_in(others, me)
    owned = owned_private(me, rooms)
    people = conversation_people(me, rooms)
    return [
        Entry(
            room=room,
            unread=0 if current and room.pk == current.pk else counts.get(room.pk, 0),
            mentioned=room.pk in mentioned and not (current and room.pk == current.pk),
            current=bool(current and room.pk == current.pk),
            leavable=room.pk not in owned,
            people=people.get(room.pk, ()),
        )
        for room in rooms
    ]


def conversation_people(me: Identity, rooms: list[Room]) -> dict[int, tuple[str, ...]]:
    """The other people of each conversation among `rooms`: asked only when there are any."""
    direct = [room.pk for room in rooms if room.kind == Room.Kind.DIRECT]
    if not direct:
        return {}
    found: dict[int, list[str]] = {}
    others = Membership.objects.filter(room__in=direct).exclude(key=me.key).order_by("name")
    for room_id, name in others.values_list("room_id", "name"):
        found.setdefault(room_id, []).append(name)
    return {room_id: tuple(names) for room_id, names in found.items()}


def owned_private(me: Identity, rooms: list[Room]) -> set[int]:
    """The private rooms among `rooms` that `me` owns (no Leave there): asked only when
    there are any."""
    private = [room.pk for room in rooms if not room.is_open]
    if not private:
        return set()
    owned = Membership.objects.filter(key=me.key, role=Membership.Role.OWNER, room__in=private)
    return set(owned.values_list("room_id", flat=True))


def mentioned_in(unread, me: Identity) -> set[int]:
    """The rooms where an unread message mentions `me`: the database finds the messages
    that hold "@<name>", the mention rule (chat.py) decides."""
    tag = mention_tag(me.name)
    maybe = unread.filter(body__icontains=f"@{me.name}").order_by().values_list("room_id", "body")
    return {room_id for room_id, body in maybe if tag in mention_tags(body)}
