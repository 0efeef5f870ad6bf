"""What a room is for (its description) and what it is talking about now (its topic).

Anyone in the room may change either; socket and form both come through `change`,
which stores the change and announces it once committed (rooms/events.py).
"""

from . import events, limits, restrictions
from .identity import Identity
from .models import Room

FIELDS = ("topic", "description")


def change(room: Room, me: Identity, field: str, value: str) -> Room:
    """Validate and store one field; returns the room as stored now.

    Raises ValidationError on `field`; a rate-limit refusal has the code limits.RATE_LIMITED.
    """
    if field not in FIELDS:
        raise ValueError(f"not a field anyone may change: {field}")
    restrictions.enforce(room, me, field)
    limits.enforce("about", field, person=me.key, address=me.address)
    # One line: a topic is not a message.
    value = " ".join(value.split())
    fresh = Room.objects.get(pk=room.pk)
    setattr(fresh, field, value)
    fresh.clean_fields(exclude=[f.name for f in Room._meta.fields if f.name != field])
    fresh.save(update_fields=[field])
    events.emit(events.AboutChanged(fresh, field))
    return fresh
