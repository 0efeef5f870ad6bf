"""Render a fragment once and send the same bytes to every socket in a room."""

import logging
from collections.abc import Sequence
from functools import cache, lru_cache

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .models import Message

log = logging.getLogger(__name__)

# Handled by RoomConsumer.room_message: forward ready bytes to one socket.
MESSAGE_EVENT = "room.message"
# Handled by RoomConsumer.identity_ended: close a socket whose identity ended.
IDENTITY_ENDED_EVENT = "identity.ended"


def group_name(room_id: int) -> str:
    return f"room.{room_id}"


def render_push(partial: str, **context) -> str:
    """An out-of-band fragment from templates/rooms/push.html, ready for htmx."""
    return render_to_string(f"rooms/push.html#{partial}", context).strip()


@cache
def sent_ack() -> str:
    """The sender's acknowledgement (its error line cleared): the same bytes every time."""
    return render_push("sent")


def draw_message(message: Message) -> str:
    """One message drawn by its partial, once per process: a catch-up for many sockets
    (after a Redis restart, say) reuses what the live push already drew."""
    shown = (
        message.pk,
        message.seq,
        message.revision,
        message.author,
        message.guest,
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


async def publish(message: Message) -> None:
    """Tell everyone in the message's room about it, new, edited or deleted: one render,
    one group send. The same element id replaces an older copy on the page."""
    try:
        await get_channel_layer().group_send(
            group_name(message.room_id),
            {
                "type": MESSAGE_EVENT,
                "revision": message.revision,
                "html": render_messages([message]),
            },
        )
    except Exception:
        # The message is stored, so it is not lost: readers fill the gap from the
        # database when the layer is back (see rooms/recovery.py).
        log.warning("broadcast of message %s failed; readers will catch up", message.pk)


publish_sync = async_to_sync(publish)


def end_identity(key: str) -> None:
    """Close every socket opened under an identity (logged out, or renamed)."""
    async_to_sync(get_channel_layer().group_send)(key, {"type": IDENTITY_ENDED_EVENT})
