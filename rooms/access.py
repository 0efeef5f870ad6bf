"""Who may see a room and what they may do in it: the one place that decides it, for
pages, sockets, files, search, transcripts and the lobby alike.

Open rooms are open to anyone who has joined (a guest name or an account). Private rooms
and conversations are their members' only: to anyone else they do not exist (a 404, a
refused socket), so nothing tells an outsider that one is there.
"""

from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from .identity import Identity
from .models import Membership, Room


def can_see(room: Room, me: Identity | None) -> bool:
    """Whether `me` (None: someone who has not joined) may read the room and take part."""
    if room.is_open:
        return me is not None
    return me is not None and Membership.objects.filter(room=room, key=me.key).exists()


def role(room: Room, me: Identity | None) -> str | None:
    """`me`'s role in the room (Membership.Role), None for someone without one."""
    if me is None:
        return None
    return Membership.objects.filter(room=room, key=me.key).values_list("role", flat=True).first()


def visible_rooms(me: Identity | None) -> QuerySet[Room]:
    """The rooms `me` can read and search: every open room, and the private rooms and
    conversations they belong to."""
    if me is None:
        return Room.objects.open()
    mine = Membership.objects.filter(key=me.key).values("room_id")
    return Room.objects.filter(Q(kind=Room.Kind.OPEN) | Q(pk__in=mine))


def room_or_404(slug: str, me: Identity | None) -> Room:
    """The room at `slug` as `me` may find it: a private room or conversation they are
    not in is not there (Http404), exactly like a room that does not exist. An open room
    is found by anyone; whether they joined is the page's to answer (the join form)."""
    room = get_object_or_404(Room, slug=slug)
    hidden_from(room, me)
    return room


def hidden_from(room: Room, me: Identity | None) -> None:
    """Raise Http404 when the room is private and `me` is not in it."""
    if not room.is_open and not can_see(room, me):
        raise Http404("No such room.")
