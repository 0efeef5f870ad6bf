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

# Group events; rooms/live/hub.py hands each to the group's sockets' feeds (DELIVER).
# A drawn message, in the room's order.
MESSAGE_EVENT = "room.message"
# Ready bytes that need no ordering (who is here, who is typing, the topic; the
# lobby's socket gets the lobby's cards this way too).
FRAGMENT_EVENT = "room.fragment"
# Close the sockets of an identity that ended, after telling their pages why.
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


async def publish(message: Message) -> None:
    """Tell everyone in the message's room about it, new, edited or deleted: one render,
    one group send. The same element id replaces an older copy on the page."""
    try:
        event = message_event(message)
        await get_channel_layer().group_send(event["group"], event)
    except Exception:
        # The message is stored, so it is not lost: readers fill the gap from the
        # database when the layer is back (see rooms/live/recovery.py).
        log.warning("broadcast of message %s failed; readers will catch up", message.pk)


publish_sync = async_to_sync(publish)


async def send_fragment(group: str, html: str) -> None:
    """Send one rendered fragment to every socket in a group, as is."""
    try:
        event = {"type": FRAGMENT_EVENT, "group": group, "html": html}
        await get_channel_layer().group_send(group, event)
    except Exception:
        # Live extras only: the page shows the truth again on the next change or reload.
        log.warning("fragment for %s was not sent", group)


def end_identity(key: str, now=None, *, account_changed: bool = False) -> None:
    """Close every socket opened under an identity (logged out, renamed, or the account
    changed: a new password, deactivated), telling their pages first why, and who this
    browser is now (`now`, an Identity; None: nobody).
    Drawn once: every page of that identity gets the same bytes."""
    html = render_push("identity_ended", now=now, ended=True, account=account_changed)
    event = {"type": IDENTITY_ENDED_EVENT, "group": key, "html": html}
    async_to_sync(get_channel_layer().group_send)(key, event)
