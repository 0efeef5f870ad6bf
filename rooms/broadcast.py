"""Drawing what sockets are sent: each fragment rendered once, the same bytes for everyone.

rooms/events.py sends what is drawn here to a room's group.
"""

from collections.abc import Sequence
from functools import cache, lru_cache

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .models import Message

# Group events; rooms/fanout.py hands each to the group's sockets' handlers.
# RoomConsumer.room_message: a drawn message, in the room's order.
MESSAGE_EVENT = "room.message"
# RoomConsumer.room_fragment (and the lobby's socket): ready bytes that need no
# ordering (who is here, who is typing, the topic, the lobby's cards).
FRAGMENT_EVENT = "room.fragment"
# RoomConsumer.identity_ended: close a socket whose identity ended.
IDENTITY_ENDED_EVENT = "identity.ended"


def group_name(room_id: int) -> str:
    return f"room.{room_id}"


def render_push(partial: str, **context) -> str:
    """An out-of-band fragment from templates/rooms/push.html, ready for htmx."""
    return render_to_string(f"rooms/push.html#{partial}", context).strip()


def sent_ack(key: str | None = None) -> str:
    """The sender's acknowledgement (its error line cleared), naming the message's key
    so the page can cross it off its "Not sent yet" list: the same bytes for a repeat."""
    return render_push("sent", key=key) if key else _keyless_ack()


@cache
def _keyless_ack() -> str:
    return render_push("sent")


def draw_message(message: Message) -> str:
    """One message drawn by its partial, once per process: room pages, and a catch-up for
    many sockets (after a Redis restart, say), reuse what the live push already drew."""
    shown = (
        message.pk,
        message.room_id,
        message.seq,
        message.created,
        message.revision,
        message.author,
        message.guest,
        # Its tag (own-message styling) and a guest's mark are drawn from it.
        message.author_key,
        message.body,
        message.edited,
        message.deleted,
    )
    return _draw(shown, message)


@lru_cache(maxsize=4096)
def _draw(shown: tuple, message: Message) -> str:
    # Keyed by everything the partial shows, so a changed message is drawn anew.
    return render_to_string("rooms/_message.html", {"message": message})


def render_messages(messages: Sequence[Message]) -> str:
    """Messages of one room in revision order, and the page's new cursor (the last revision)."""
    drawn = mark_safe("".join(draw_message(message) for message in messages))  # noqa: S308
    return render_push("messages", drawn=drawn, cursor=messages[-1].revision)


def message_event(message: Message) -> dict:
    """A room event: the drawn message and its revision, which keeps every socket in order."""
    group = group_name(message.room_id)
    html = render_messages([message])
    return {"type": MESSAGE_EVENT, "group": group, "revision": message.revision, "html": html}
