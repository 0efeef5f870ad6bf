"""Render a fragment once and send the same bytes to every socket in a room."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

from .models import Message

# The consumer method that forwards a ready fragment to its socket.
EVENT_TYPE = "room.fragment"


def group_name(room_id: int) -> str:
    return f"room.{room_id}"


def render_push(partial: str, **context) -> str:
    """An out-of-band fragment from templates/rooms/push.html, ready for htmx."""
    return render_to_string(f"rooms/push.html#{partial}", context).strip()


async def publish(message: Message) -> None:
    """Tell everyone in the message's room about it."""
    html = render_push("message", message=message)
    await get_channel_layer().group_send(
        group_name(message.room_id), {"type": EVENT_TYPE, "html": html}
    )


publish_sync = async_to_sync(publish)
