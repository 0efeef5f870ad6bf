"""Saying something in a room: the one path every message takes, socket or form."""

from django.core.exceptions import ValidationError

from . import limits
from .identity import Identity
from .models import Message, Room, store_messages

RATE_LIMITED = "rate"


def post_message(room: Room, me: Identity, text: str) -> Message:
    """Count the message against its author's rate limit, then validate and store it.

    Raises ValidationError on `body`; a rate-limit refusal has the code RATE_LIMITED.
    """
    result = post_messages([(room, me, text)])[0]
    if isinstance(result, ValidationError):
        raise result
    return result


def post_messages(posts: list[tuple[Room, Identity, str]]) -> list[Message | ValidationError]:
    """Several people's messages at once: each is counted and validated on its own,
    and all that pass are stored in one transaction (one commit for the lot)."""
    results: list[Message | ValidationError] = []
    for room, me, text in posts:
        try:
            if refusal := limits.check("message", person=me.key, address=me.address):
                raise ValidationError({"body": ValidationError(refusal, code=RATE_LIMITED)})
            results.append(room.new_message(me.name, text, guest=me.guest, key=me.key))
        except ValidationError as error:
            results.append(error)
    store_messages([result for result in results if isinstance(result, Message)])
    return results


def is_rate_limited(error: ValidationError) -> bool:
    return any(e.code == RATE_LIMITED for e in error.error_dict.get("body", []))
