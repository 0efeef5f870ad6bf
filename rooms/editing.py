"""Changing what was said: authors edit and delete their own messages; staff, and a room's
owner and moderators, delete any there (each such deletion goes in the room's log).

One path for sockets, plain forms and the admin alike: each change is stored under
the room's lock and announced once committed (rooms/events.py). Permissions are
decided here, on the server, from the identity and the account; the page only hides
the controls a viewer can't use.
"""

from django.contrib.auth import get_user_model

from . import events, limits, modlog, restrictions
from .identity import Identity
from .models import Membership, Message, Room
from .words import Words


class Refused(Exception):
    """A change this person may not make; the text is shown to them."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.status = status


NOT_HERE = Words("That message is not in this room.")
NOT_YOURS_TO_EDIT = Words("You can edit only your own messages.")
NOT_YOURS_TO_DELETE = Words("You can delete only your own messages.")


def is_moderator(user) -> bool:
    """Django staff, read from the record now: staff taken away yesterday can't moderate."""
    if user is None or not user.is_authenticated:
        return False
    return get_user_model().objects.filter(pk=user.pk, is_staff=True, is_active=True).exists()


def moderates_room(room_id: int, me: Identity | None) -> bool:
    """Whether `me` is the room's owner or one of its moderators (from the record now)."""
    roles = [Membership.Role.OWNER, Membership.Role.MODERATOR]
    return (
        me is not None
        and Membership.objects.filter(room_id=room_id, key=me.key, role__in=roles).exists()
    )


def can_edit(message: Message, me: Identity | None) -> bool:
    return me is not None and message.deleted is None and message.written_by(me.key)


def can_delete(message: Message, me: Identity | None, user=None) -> bool:
    if message.deleted is not None:
        return False
    if me is not None and message.written_by(me.key):
        return True
    return is_moderator(user) or moderates_room(message.room_id, me)


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

    restrictions.enforce(room, me, "body")
    limits.enforce("message", "body", person=me.key, address=me.address)
    return _revise(room, pk, rewrite, events.Edited)


def delete_message(room: Room, me: Identity | None, pk: int, user=None) -> tuple[Message, bool]:
    """Delete one's own message, or anyone's as staff or the room's owner or moderator
    (logged, rooms/modlog.py); the row stays as a tombstone.

    Returns the message and whether it changed (already deleted: nothing to do).
    """

    def erase(message: Message) -> bool:
        if me is not None and message.written_by(me.key):
            return message.erase()
        if not (is_moderator(user) or moderates_room(room.pk, me)):
            raise Refused(NOT_YOURS_TO_DELETE)
        if message.deleted is None and me is not None:
            modlog.deleted(message, me)  # in the same transaction, before the text goes
        return message.erase()

    return _revise(room, pk, erase, events.Deleted)


def moderate(message: Message, actor: Identity | None = None) -> tuple[Message, bool]:
    """Delete a message as staff (the admin decides who may); the row stays as a tombstone,
    and the room's log says who (`actor`) deleted it."""

    def erase(found: Message) -> bool:
        if actor is not None and found.deleted is None:
            modlog.deleted(found, actor)
        return found.erase()

    return _revise(message.room, message.pk, erase, events.Deleted)


def tombstone(room: Room, pk: int) -> tuple[Message, bool]:
    """Delete one message of the room for a moderation action that has checked who may
    (rooms/moderation.py remove_all): stored, and announced once committed."""
    return _revise(room, pk, Message.erase, events.Deleted)


def _revise(room: Room, pk: int, change, event: type[events.MessageChanged]):
    """Change one message under the room's lock; announce it once committed if it changed."""
    try:
        message, changed = room.revise(pk, change)
    except Message.DoesNotExist:
        raise Refused(NOT_HERE, status=404) from None
    if changed:
        events.emit(event(message))
        # Replies that quote it show its new text, or "Message deleted".
        for reply in message.replies_redrawn:
            events.emit(events.Edited(reply))
    return message, changed
