"""What a room is for (its description) and what it is talking about now (its topic).

Anyone in the room may change either; socket and form both come through `change`.
"""

from django.core.exceptions import ValidationError

from . import limits
from .identity import Identity
from .models import Room
from .posting import RATE_LIMITED

FIELDS = ("topic", "description")


def change(room: Room, me: Identity, field: str, value: str) -> Room:
    """Validate and store one field; returns the room as stored now.

    Raises ValidationError on `field`; a rate-limit refusal has the code RATE_LIMITED.
    """
    if field not in FIELDS:
        raise ValueError(f"not a field anyone may change: {field}")
    if refusal := limits.check("about", person=me.key, address=me.address):
        raise ValidationError({field: ValidationError(refusal, code=RATE_LIMITED)})
    # One line: a topic is not a message.
    value = " ".join(value.split())
    fresh = Room.objects.get(pk=room.pk)
    setattr(fresh, field, value)
    fresh.clean_fields(exclude=[f.name for f in Room._meta.fields if f.name != field])
    fresh.save(update_fields=[field])
    return fresh
