"""Which rooms a person may see: the one place that decides it for every listing."""

from django.db.models import QuerySet

from .identity import Identity
from .models import Room


def visible_rooms(me: Identity | None) -> QuerySet[Room]:
    """The rooms `me` (None: someone who has not joined) can read and search. Every room
    is open to everyone for now; private rooms will narrow this, and only this."""
    return Room.objects.all()
