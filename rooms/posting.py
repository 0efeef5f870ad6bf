"""Saying something in a room: the one path every message takes, socket or form.

Each message is counted, validated and stored, and announced once stored
(rooms/events.py): whoever posts it only answers the one who sent it.
"""

import copy
import secrets
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from . import events, limits, restrictions
from .identity import Identity
from .models import NOT_REPLYABLE, Message, Room, store_messages
from .words import Words

KEY_TAKEN = Words("This message's key was already used for another message; please send it again.")


class Post(NamedTuple):
    """One post: where, who, what, the key the page made when it was written (or None),
    the id of the message of the room it replies to (or None), and whether files go with
    it (rooms/uploads.py: then it may have no text)."""

    room: Room
    me: Identity
    text: str
    key: str | None = None
    reply_to: int | None = None
    attached: bool = False


def new_key() -> str:
    """A fresh message key for a form drawn by the server (the page without JavaScript)."""
    return secrets.token_urlsafe(16)


def post_message(
    room: Room,
    me: Identity,
    text: str,
    key: str | None = None,
    reply_to: int | None = None,
    *,
    attached: bool = False,
) -> Message:
    """Count the message against its author's rate limit, then validate and store it.

    Raises ValidationError on `body`; a rate-limit refusal has the code limits.RATE_LIMITED.
    A key already stored in the room answers with that message (marked `repeated`,
    announced the first time and not again).
    """
    result = post_messages([Post(room, me, text, key, reply_to, attached)])[0]
    if isinstance(result, ValidationError):
        raise result
    return result


def post_messages(posts: list[Post] | list[tuple]) -> list[Message | ValidationError]:
    """Several people's messages at once: each is counted and validated on its own,
    and all that pass are stored in one transaction (one commit for the lot).

    A post whose key is already stored, or came earlier in the same batch, is answered
    with the first message and neither counted nor stored again. Each message stored
    is announced on commit, in the room's order.
    """
    posts = [Post(*post) for post in posts]
    stored = stored_with_keys({(room.pk, key) for room, _, _, key, *_ in posts if key})
    quoted = replied_to(posts)
    # Muted or banned: refused with the reason, and not counted against their limits.
    silenced = restrictions.refusals([(post.room, post.me) for post in posts])
    results: list[Message | ValidationError | None] = []
    first: dict[tuple[int, str], Message] = {}
    fresh: list[Message] = []
    for room, me, text, key, reply_to, attached in posts:
        try:
            if key and (room.pk, key) in stored:
                results.append(repeat_of(stored[room.pk, key], me, text))
            elif key and (room.pk, key) in first:
                results.append(None)  # the batch's first post with this key answers it, below
            elif refusal := silenced.get((room.pk, me.key)):
                raise ValidationError({"body": ValidationError(refusal, code="moderated")})
            else:
                limits.enforce("message", "body", person=me.key, address=me.address)
                if reply_to is not None and (room.pk, reply_to) not in quoted:
                    raise ValidationError({"body": ValidationError(NOT_REPLYABLE, code="reply")})
                message = room.new_message(
                    me.name,
                    text,
                    guest=me.guest,
                    author_key=me.key,
                    key=key,
                    reply_to=quoted.get((room.pk, reply_to)),
                    attached=attached,
                )
                if key:
                    first[room.pk, key] = message
                fresh.append(message)
                results.append(message)
        except ValidationError as error:
            results.append(error)
    raced = store_new(fresh)
    for message in fresh:
        if (message.room_id, message.key) not in raced:  # else another process stored it
            events.emit(events.Posted(message))
    for n, ((room, me, text, key, *_rest), result) in enumerate(zip(posts, results, strict=True)):
        ident = (room.pk, key)
        if ident in raced and (result is None or result is first.get(ident)):
            results[n] = repeat_of(raced[ident], me, text)
        elif result is None:
            results[n] = repeat_of(first[ident], me, text)
    return results


def store_new(messages: list[Message]) -> dict[tuple[int, str], Message]:
    """Store the batch; returns the messages another process stored meanwhile under a
    key of it (looked up before, not there yet), which are repeats and not stored again.

    That race is rare, so it costs nothing until it happens: the unique (room, key)
    constraint refuses the batch as a whole, nothing is stored, and it goes again
    without those.
    """
    raced: dict[tuple[int, str], Message] = {}
    while True:
        try:
            store_messages(messages)
            return raced
        except IntegrityError:
            found = stored_with_keys({(m.room_id, m.key) for m in messages if m.key})
            if not found:
                raise
            raced |= found
            messages = [m for m in messages if (m.room_id, m.key) not in found]


def replied_to(posts: list[Post]) -> dict[tuple[int, int], Message]:
    """The messages the batch's replies answer, by (room, id), read in one query: a
    reply is drawn with the start of its original (never read later, on the event loop)."""
    wanted = {(post.room.pk, post.reply_to) for post in posts if post.reply_to is not None}
    if not wanted:
        return {}
    found = Message.objects.select_related("room").filter(pk__in={pk for _, pk in wanted})
    return {(m.room_id, m.pk): m for m in found if (m.room_id, m.pk) in wanted}


def stored_with_keys(keys: set[tuple[int, str]]) -> dict[tuple[int, str], Message]:
    if not keys:
        return {}
    rooms = {room_id for room_id, _ in keys}
    # Unordered: the (room, key) unique index answers it, with no join for the default order.
    found = Message.objects.filter(room_id__in=rooms, key__in={key for _, key in keys}).order_by()
    return {(m.room_id, m.key): m for m in found if (m.room_id, m.key) in keys}


def repeat_of(message: Message, me: Identity, text: str) -> Message | ValidationError:
    """The answer to a key said again: the first message, if it is the same author's and
    the same text (or changed since). Other text under a used key (a form whose old key
    the browser restored on going back) is refused, so it is never dropped unseen."""
    same_text = message.edited or message.deleted or message.body == text.strip()
    if not (message.written_by(me.key) and same_text):
        return ValidationError({"body": ValidationError(KEY_TAKEN, code="key_taken")})
    repeated = copy.copy(message)
    repeated.repeated = True
    return repeated
