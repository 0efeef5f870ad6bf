"""Reacting to a message: an emoji from the picker, or a few words of one's own.

A reaction is a change of the message it is under: stored under the room's lock,
it takes the room's next revision (Room.revise), so the message is drawn again
with its reactions, announced once committed, and a page that was away gets it on
catch-up like an edit. The same reaction again from the same person takes it back.
"""

import unicodedata

from django.core.exceptions import ValidationError

from . import events, limits, restrictions
from .editing import NOT_HERE, Refused
from .identity import Identity
from .models import NO_REACTION, Message, Reaction, Room
from .words import Words

# The picker's choices; any other short text is welcome too.
PICKER = ("👍", "👎", "😄", "🎉", "😕", "❤️", "🚀", "👀", "🙏", "🔥", "💯", "✅")

DELETED = Words("That message was deleted; it can't take reactions.")
EMPTY = NO_REACTION


def reaction_text(text: str) -> str:
    """A reaction as it is kept: one line, its blanks squeezed, in Unicode's composed
    form (so the same emoji typed two ways is one reaction)."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


def react(room: Room, me: Identity, pk: int, text: str) -> tuple[Message, bool]:
    """Add `me`'s reaction `text` to message `pk`, or take it back when they gave it.

    Returns the message, with its reactions as they are now, and True (a reaction always
    changes something). Raises Refused, or ValidationError on `reaction` (a rate-limit
    refusal has the code limits.RATE_LIMITED).
    """
    text = reaction_text(text)
    reaction = Reaction(text=text, author=me.name, author_key=me.key)
    if not text:
        raise ValidationError({"reaction": EMPTY})
    try:
        reaction.clean_fields(exclude={"message", "author", "author_key"})
    except ValidationError as invalid:
        raise ValidationError({"reaction": invalid.message_dict["text"]}) from None
    restrictions.enforce(room, me, "reaction")
    limits.enforce("reaction", "reaction", person=me.key, address=me.address)

    def toggle(message: Message) -> bool:
        if message.deleted is not None:
            raise Refused(DELETED, status=410)
        given = message.reaction_set.filter(author_key=me.key, text=text)
        if not given.delete()[0]:
            reaction.message = message
            reaction.save()
        return True

    try:
        message, changed = room.revise(pk, toggle)
    except Message.DoesNotExist:
        raise Refused(NOT_HERE, status=404) from None
    events.emit(events.Reacted(message))
    return message, changed
