"""Drawing what sockets are sent: each fragment rendered once per language, the same bytes
for every reader of that language.

rooms/events.py sends what is drawn here to a room's group; rooms/languages.py says how a
group push is drawn in each language and which drawing each socket is handed.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from . import history, retention
from .languages import per_language
from .models import Message, Room

# Group events; rooms/live/hub.py hands each to the group's sockets' feeds (DELIVER).
# A drawn message, in the room's order.
MESSAGE_EVENT = "room.message"
# Ready bytes that need no ordering (who is here, who is typing, the topic; the
# lobby's socket gets the lobby's cards this way too).
FRAGMENT_EVENT = "room.fragment"
# Close the sockets of an identity that ended, after telling their pages why.
IDENTITY_ENDED_EVENT = "identity.ended"
# The same for one room only: someone removed or banned from it (sent to their identity).
ROOM_LEFT_EVENT = "room.left"
# Ready bytes for one person's pages in one room (sent to their identity): a mute's reason.
ROOM_NOTICE_EVENT = "room.notice"


def group_name(room_id: int) -> str:
    return f"room.{room_id}"


def render_push(partial: str, **context) -> str:
    """An out-of-band fragment from templates/rooms/push.html, ready for htmx, in the active
    language: a socket's consumer and feed draw their own replies in the socket's language."""
    return render_to_string(f"rooms/push.html#{partial}", context).strip()


# The same for a whole group: drawn once in each language (rooms/languages.py).
render_group_push = per_language(render_push)


def sent_ack(key: str | None = None) -> str:
    """The sender's acknowledgement (its error line cleared), naming the message's key
    so the page can cross it off its "Not sent yet" list: the same bytes for a repeat."""
    return render_push("sent", key=key) if key else _keyless_ack(translation.get_language())


@cache
def _keyless_ack(language: str) -> str:
    return render_push("sent")


# Where a pushed message lands on a page (htmx's hx-swap-oob). The server decides, so the
# page needs no code of its own to order or de-duplicate messages:
# - a message new to the page goes after the newest one it shows (new messages come in
#   the room's order, so that is its place);
APPEND = "beforeend:#messages"
# - one the page may show replaces its copy; where the page has none (it is older than
#   the history shown), it lands in the hidden #offstage box instead, emptied at the end of
#   the same push. htmx reports an out-of-band target that is missing as an error, so the
#   second selector matches exactly when the first does not.
REPLACE = (
    "outerHTML:#messages > #message-{pk},body:not(:has(#messages > #message-{pk})) #offstage > *"
)
# - one new to the page but older than new ones it already got (a catch-up racing live
#   pushes, or a message posted while the page was away and changed since, which comes in
#   the order of changes) goes before the oldest of those.
BEFORE = "beforebegin:#message-{pk}"


class History(list):
    """A page of messages drawn for the list: each row prints as its drawing, and carries
    the day it starts (None when it is the same day as the row before, in the server's zone),
    so a template only loops and includes. `newest` is the last message's seq (0: none)."""

    newest: int = 0


class Row(SafeString):
    """One drawn message, and when the day it starts began (None: same day as the row before)."""

    day: datetime.datetime | None = None


def draw_history(messages: Sequence[Message]) -> History:
    rows = History()
    previous = None
    for message in messages:
        row = Row(draw_message(message))
        day = timezone.localtime(message.created).date()
        if day != previous:
            row.day = message.created
            previous = day
        rows.append(row)
    rows.newest = messages[-1].seq if messages else 0
    return rows


@dataclass(frozen=True)
class DrawnPage:
    """A page of history drawn for the list by rooms/_history.html, and where the pages
    beside it start (None: no more). `newest` is its last message's seq (0: none)."""

    html: SafeString
    older: int | None
    newer: int | None
    newest: int
    # When its first message was said (None: it has none): see newest_page.
    oldest: datetime.datetime | None = None

    @property
    def is_latest(self) -> bool:
        return self.newer is None


def draw_page(page: history.Page) -> DrawnPage:
    rows = draw_history(page.messages)
    html = render_to_string("rooms/_history.html", {"history": rows})
    oldest = page.messages[0].created if page.messages else None
    return DrawnPage(html, page.older, page.newer, rows.newest, oldest)


def newest_page(room: Room) -> DrawnPage:
    """A room's newest page, read and drawn once per process for each revision of the room:
    every change to its messages takes the next revision, so a page drawn for one revision
    stays right until the next, and a room page costs the room and the session only.

    Keyed by the room's creation too (a database made anew reuses ids) and by today's date
    (day separators say "Today"). Messages read after the room are never older than its
    revision: a page drawn from a moment later only shows what a catch-up would bring.
    """
    today = timezone.localdate()
    drawn = _newest_page(room, room.created, room.last_revision, today, translation.get_language())
    if retention.may_be_pruned(drawn.oldest):
        # Removing old messages takes no revision (rooms/retention.py), so a page drawn
        # before may show some that are gone: read afresh while it holds any that old.
        return draw_page(history.latest(room))
    return drawn


@lru_cache(maxsize=256)
def _newest_page(room: Room, created, revision: int, today, language: str) -> DrawnPage:
    return draw_page(history.latest(room))


def draw_message(message: Message, swap: str | None = None) -> str:
    """One message drawn by its partial, once per process: room pages, and a catch-up for
    many sockets (after a Redis restart, say), reuse what the live push already drew.
    `swap`: where it lands when pushed (see APPEND, REPLACE), None on a page."""
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
        message.continues,
        # The quote of what it replies to, and its reactions with who gave them.
        quoted(message.reply_to) if message.reply_to_id else None,
        tuple((r.text, r.author, r.author_key) for r in message.reaction_list),
        # Its files are not here: they never change once stored, and deleting the message
        # (which sets `deleted`, above) is the only way they go.
        bool(message.attachment_list),
        swap,
        # Its buttons' and marks' words.
        translation.get_language(),
    )
    return _draw(shown, message, swap)


def quoted(message: Message) -> tuple:
    return (message.pk, message.author, message.body, message.deleted)


@lru_cache(maxsize=4096)
def _draw(shown: tuple, message: Message, swap: str | None) -> str:
    # Keyed by everything the partial shows, so a changed message is drawn anew.
    return render_to_string("rooms/_message.html", {"message": message, "swap": swap})


def is_changed(message: Message) -> bool:
    """Whether a message is a change to one posted before, not a new one: one just revised,
    or one read back edited, deleted or reacted to (a new message has none of those)."""
    return bool(message.revised or message.edited or message.deleted or message.reaction_list)


def render_messages(
    messages: Sequence[Message],
    shown: int | None = None,
    landed: list[tuple[int, int]] | None = None,
) -> str:
    """Messages of one room in revision order, each with where it lands, and the page's new
    cursor (the last revision).

    `shown` is the seq of the newest message the page said it shows (None: not known, as for
    a live push that goes to every page alike: then a new message is added and a changed one
    replaces its copy). `landed` are (seq, id) of the messages new to the page that it was
    sent since: on it now, and newer than any other it lacks. Those this draws as new are
    added to it, so a catch-up in several frames keeps the page in order.
    """
    landed = [] if landed is None else landed
    on_page = {seq for seq, _ in landed}
    parts: list[tuple[str, list[str]]] = []  # (wrapper swap or "", drawings), in order
    newest = None
    for message in messages:
        seq = message.seq
        # Shown already, or (when the page never said) a change to one it may show.
        if seq in on_page or (seq <= shown if shown is not None else is_changed(message)):
            where = REPLACE
        else:
            # New to the page: after its newest, unless it already got newer ones (a message
            # posted while it was away and changed since comes in the room's order of changes).
            later = min((entry for entry in landed if entry[0] > seq), default=None)
            where = BEFORE.format(pk=later[1]) if later else APPEND
            if not later:
                newest = seq
            landed.append((seq, message.pk))
            on_page.add(seq)
        if where == REPLACE:
            parts.append(("", [draw_message(message, REPLACE.format(pk=message.pk))]))
        elif parts and parts[-1][0] == where:
            parts[-1][1].append(draw_message(message))
        else:
            parts.append((where, [draw_message(message)]))
    landing = [
        {"swap": where, "drawn": mark_safe("".join(drawn))}  # noqa: S308 -- drawn by templates
        for where, drawn in parts
    ]
    replaced = any(not part["swap"] for part in landing)
    # Whoever just posted has stopped typing: their cue goes as their message comes.
    typed = sorted({m.author_tag for m in messages if m.author_tag and not is_changed(m)})
    context = {"landing": landing, "cursor": messages[-1].revision, "newest": newest}
    return render_push("messages", offstage=replaced, typed=typed, **context)


def render_newest(room, page, cursor: int) -> str:
    """The room's newest page drawn fresh, to replace the whole list of a page too far behind."""
    history = draw_history(page.messages)
    return render_push("newest", room=room, page=page, history=history, cursor=cursor)


_messages_per_language = per_language(render_messages)


def message_event(message: Message) -> dict:
    """A room event: the message drawn in each language and its revision, which keeps every
    socket in order; a new message also names its seq and id (where a catch-up lands older
    ones)."""
    group = group_name(message.room_id)
    html = _messages_per_language([message])
    appended = None if is_changed(message) else (message.seq, message.pk)
    return {
        "type": MESSAGE_EVENT,
        "group": group,
        "revision": message.revision,
        "html": html,
        "appended": appended,
    }
