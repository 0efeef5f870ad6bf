"""Saying something in a room: the one path every message takes, socket or form."""

from django.core.exceptions import ValidationError

from . import limits
from .identity import Identity
from .models import Message, Room

RATE_LIMITED = "rate"


def post_message(room: Room, me: Identity, text: str) -> Message:
    """Count the message against its author's rate limit, then validate and store it.

    Raises ValidationError on `body`; a rate-limit refusal has the code RATE_LIMITED.
    """
    if not limits.allow("message", me.key):
        raise ValidationError(
            {"body": ValidationError(limits.refusal("message"), code=RATE_LIMITED)}
        )
    return room.post(me.name, text, guest=me.guest)


def is_rate_limited(error: ValidationError) -> bool:
    return any(e.code == RATE_LIMITED for e in error.error_dict.get("body", []))
