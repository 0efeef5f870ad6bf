"""Changing what was said: authors edit and delete their own messages, staff delete any.

One path for sockets, plain forms and the admin alike: each change is stored under
the room's lock and announced once committed (rooms/events.py). Permissions are
decided here, on the server, from the identity and the account; the page only hides
the controls a viewer can't use.
"""

from django.contrib.auth import get_user_model
from django.db.models import prefetch_related_objects

from . import events, limits
from .identity import Identity
from .models import Message, Room


class Refused(Exception):
    """A change this person may not make; the text is shown to them."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.status = status


NOT_HERE = "That message is not in this room."
NOT_YOURS_TO_EDIT = "You can edit only your own messages."
NOT_YOURS_TO_DELETE = "You can delete only your own messages."


def is_moderator(user) -> bool:
    """Django staff, read from the record now: staff taken away yesterday can't moderate."""
    if user is None or not user.is_authenticated:
        return False
    return get_user_model().objects.filter(pk=user.pk, is_staff=True, is_active=True).exists()


def can_edit(message: Message, me: Identity | None) -> bool:
    return me is not None and message.deleted is None and message.written_by(me.key)


def can_delete(message: Message, me: Identity | None, user=None) -> bool:
    if message.deleted is not None:
        return False
    if me is not None and message.written_by(me.key):
        return True
    return is_moderator(user)


def edit_message(room: Room, me: Identity, pk: int, text: str) -> tuple[Message, bool]:
    """New text for one's own message: counted and checked like a new message.

    Returns the message and whether it changed (same text: nothing stored, nothing
    announced). Raises Refused, or ValidationError on `body` (limits.RATE_LIMITED when
    over the limit).
    """

    def rewrite(message: Message) -> bool:
        if not message.written_by(me.key):
            raise Refused(NOT_YOURS_TO_EDIT)
        return message.rewrite(text)

    limits.enforce("message", "body", person=me.key, address=me.address)
    return _revise(room, pk, rewrite, events.Edited)


def delete_message(room: Room, me: Identity | None, pk: int, user=None) -> tuple[Message, bool]:
    """Delete one's own message, or anyone's as a moderator; the row stays as a tombstone.

    Returns the message and whether it changed (already deleted: nothing to do).
    """

    def erase(message: Message) -> bool:
        mine = me is not None and message.written_by(me.key)
        if not mine and not is_moderator(user):
            raise Refused(NOT_YOURS_TO_DELETE)
        return message.erase()

    return _revise(room, pk, erase, events.Deleted)


def moderate(message: Message) -> tuple[Message, bool]:
    """Delete a message as staff (the admin decides who may); the row stays as a tombstone."""
    return _revise(message.room, message.pk, Message.erase, events.Deleted)


def _revise(room: Room, pk: int, change, event: type[events.MessageChanged]):
    """Change one message under the room's lock; announce it once committed if it changed."""
    try:
        message, changed = room.revise(pk, change)
    except Message.DoesNotExist:
        raise Refused(NOT_HERE, status=404) from None
    if changed:
        if message.deleted is None:
            # Redrawn with its files, maybe on the event loop, where nothing can be read.
            prefetch_related_objects([message], "attachments")
        events.emit(event(message))
    return message, changed
