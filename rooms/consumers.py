"""The room socket: identity from the session, frames in, fragments out.

Whenever its socket opens, the page sends the room's last revision it saw and
gets every message posted, edited or deleted since; live pushes go from the
process's hub to the socket's RoomFeed, which keeps them whole and in order and
sends them (rooms/live/). The consumer opens and closes the feed and answers
frames; it is never called back.
"""

import asyncio
import json
import logging
import re
import uuid
from collections import deque
from dataclasses import replace
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.utils import translation

from . import (
    about,
    access,
    editing,
    events,
    history,
    identity,
    limits,
    reacting,
    reading,
    restrictions,
    typists,
)
from .broadcast import group_name, render_push, sent_ack
from .languages import socket_language
from .live import outbox, runtime
from .live.backlog import SERVER_SEND
from .live.caps import CLOSE_TOO_MANY
from .live.feed import CLOSE_IDENTITY_ENDED, Asked, RoomFeed
from .memberships import REMOVED
from .models import BAD_MESSAGE_KEY, MESSAGE_KEY, NOT_REPLYABLE, Room, record_number
from .posting import Post
from .words import Words

log = logging.getLogger(__name__)

# Application close codes (4000-4999): browsers and htmx do not retry these.
# CLOSE_IDENTITY_ENDED (4001) is the feed's: it closes a socket whose identity ended.
CLOSE_NOT_JOINED = 4003
CLOSE_NO_ROOM = 4004
# Banned from the room (rooms/moderation.py): the page is told why and stops, as for 4001.
CLOSE_BANNED = 4005
# "Internal error": htmx's ws extension reconnects, and the page sends again what was not
# acknowledged, under the same keys.
CLOSE_FAILED = 1011
# "Try again later": the database is out (restarting, say); htmx reconnects on this too.
CLOSE_TRY_LATER = 1013
# PostgreSQL is down or restarting, or every pooled connection is busy past the wait.
DATABASE_DOWN = (OperationalError, InterfaceError)

# Messages of one socket waiting to be stored and answered; at this many, it reads no
# more frames until the oldest is answered.
IN_FLIGHT = 32

UNREADABLE = Words("That message could not be read; please try again.")
CATCH_UP_TOO_OFTEN = Words(
    "Slow down: this page asked to catch up too often. Reload it if it is stuck."
)
NOT_STORED_NOW = Words("Not sent: messages cannot be stored right now. Retry in a moment.")
BROKEN_CHARACTER = Words("That message has a broken character in it; please type it again.")
# Half of a UTF-16 pair, as JSON's "\\ud800" escape gives: no UTF-8 can carry it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class FrameError(ValueError):
    """A frame that is not what the page sends; the text is shown to the sender."""


def parse_frame(text: str | None) -> dict[str, Any]:
    """An htmx ws-send frame: a JSON object of the form's fields."""
    if text is None:
        raise FrameError(Words("Send text, not binary data."))
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: nested deeper than the parser goes ("[" * 30000); no page sends that.
        raise FrameError(UNREADABLE) from None
    if not isinstance(frame, dict):
        raise FrameError(UNREADABLE)
    if has_lone_surrogate(frame):
        # Refused before anything is stored or echoed: the reply could not be sent.
        raise FrameError(BROKEN_CHARACTER)
    return frame


def has_lone_surrogate(frame: Any) -> bool:
    """Whether any string in a parsed frame, key or value at any depth, holds a lone
    surrogate. A loop, not recursion: the frame may be nested almost as deep as the
    parser allows."""
    pending = [frame]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def frame_text(frame: dict[str, Any]) -> str:
    if not isinstance(frame.get("message"), str):
        raise FrameError(UNREADABLE)
    return frame["message"]


def frame_key(frame: dict[str, Any]) -> str | None:
    """The key the page made for a message when it was written; none from older clients."""
    value = frame.get("key")
    if value is None or value == "":
        return None
    if isinstance(value, str) and MESSAGE_KEY.fullmatch(value):
        return value
    raise FrameError(BAD_MESSAGE_KEY)


def frame_reply_to(frame: dict[str, Any]) -> int | None:
    """The message a new one replies to (its id, as the composer's field sends it)."""
    value = frame.get("reply_to")
    if value is None or value == "":
        return None
    if (pk := record_number(value)) is None:
        raise FrameError(NOT_REPLYABLE)
    return pk


def frame_cursor(frame: dict[str, Any]) -> int:
    """The room's last revision the page has seen."""
    if (revision := record_number(frame["after"])) is None:
        raise FrameError(Words("The page is out of date; please reload it."))
    return revision


def frame_newest(frame: dict[str, Any]) -> int | None:
    """The newest message the page shows (its seq), sent with the cursor; None if it does
    not say (then new messages are added after whatever it shows)."""
    value = frame.get("newest")
    return history.cursor(value) if isinstance(value, str) else None


def frame_message_id(frame: dict[str, Any], key: str) -> int:
    """Which message an edit or delete frame is about: its id, as a form sends it."""
    if (pk := record_number(frame[key])) is None:
        raise FrameError(UNREADABLE)
    return pk


class Consumer(AsyncWebsocketConsumer):
    """A socket consumer whose frames are handled on the event loop as they come, in the
    language its page was drawn in."""

    @cached_property
    def language(self) -> str:
        """Read once, when the socket opens, as the page's language was chosen."""
        return socket_language(self.scope)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections before every message, in the
        # database thread: one thread hop per frame, waiting behind whatever that thread
        # is storing. Every database call here goes through database_sync_to_async, which
        # closes them itself, before and after.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        # What this socket alone is told (refusals, acknowledgements, and the tasks that
        # answer it) reads as its page does; group pushes draw every language themselves.
        with translation.override(self.language):
            await handler(message)


class RoomConsumer(Consumer):
    # Group events come through this process's hub (rooms/live/hub.py) to the socket's
    # feed, not through a channel of the socket's own: no Redis subscription or queue
    # per socket.
    channel_layer_alias = None

    room: Room | None = None
    me: identity.Identity | None = None
    group: str | None = None
    feed: RoomFeed | None = None
    typing: typists.Throttle | None = None
    # This socket's posts not answered yet, oldest first, and the task answering them.
    unanswered: deque | None = None
    in_flight: asyncio.Semaphore | None = None
    answering: asyncio.Task | None = None
    # Whether and how this person may be here (rooms/restrictions.py admit).
    admission: restrictions.Admission | None = None
    # The rooms of this person's sidebar (ids), and how far this socket said its page was read.
    sidebar: tuple[int, ...] = ()
    read_up_to = 0

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        try:
            self.me, self.room = await self.load(slug)
        except DATABASE_DOWN:
            # Not a failed handshake (an error page, and a traceback per retry): the page
            # shows it is reconnecting, and tries again.
            extra = {"room": slug, "conn": self.conn_id, "code": CLOSE_TRY_LATER}
            log.warning("ws.refused", extra=extra)
            await self.accept()
            await self.close(code=CLOSE_TRY_LATER)
            return
        if not identity.drawn_for(self.page_tag(), self.me):
            # The page was drawn for a name this browser no longer has (logged out or
            # renamed in another tab while it was away): it learns who it is now and
            # stops, rather than posting under a name it does not show.
            await self.accept()
            refused = {"room": slug, "conn": self.conn_id, "code": CLOSE_IDENTITY_ENDED}
            log.info("ws.refused", extra=refused)
            await self.send(render_push("identity_ended", now=self.me, ended=True))
            await self.close(code=CLOSE_IDENTITY_ENDED, reason="Your name changed in another tab.")
            return
        if self.me is None or self.room is None:
            # Accept before refusing: a refused handshake makes browsers retry forever,
            # an application close code tells htmx to stop.
            await self.accept()
            code, reason = (
                (CLOSE_NOT_JOINED, "Join the room first.")
                if self.me is None
                else (CLOSE_NO_ROOM, "No such room.")
            )
            log.info("ws.refused", extra={"room": slug, "conn": self.conn_id, "code": code})
            await self.close(code=code, reason=reason)
            return
        if self.admission.ban is not None:
            await self.accept()
            log.info("ws.refused", extra={"room": slug, "conn": self.conn_id, "code": CLOSE_BANNED})
            told = self.admission.refusal
            await self.send(render_push("identity_ended", ended=True, reason=told))
            await self.close(code=CLOSE_BANNED, reason=restrictions.BANNED)
            return
        live = runtime()
        live.start()
        # Counted per session and per client address; given back on disconnect.
        self.place = (self.scope["session"].session_key or "", self.me.address or "")
        if refusal := live.caps.take(*self.place):
            await self.accept()
            extra = {"room": slug, "conn": self.conn_id, "code": CLOSE_TOO_MANY}
            log.info("ws.refused", extra=extra)
            await self.close(code=CLOSE_TOO_MANY, reason=refusal)
            return
        self.group = group_name(self.room.pk)
        # The feed sends straight down the connection (the server's ASGI send), past this
        # consumer and Channels' middleware (backlog.with_server_send); a consumer run on its own,
        # without the routing's wrapper, sends through its middleware.
        send = self.scope.get(SERVER_SEND, self.base_send)
        self.feed = RoomFeed(self.room, send, conn=self.conn_id, language=self.language)
        seen = await live.open(self.feed, self.me, self.sidebar)
        if self.admission.address_group:
            # A ban that includes this guest's address closes this socket too.
            await live.hub.join(self.admission.address_group, self.feed)
        self.typing = typists.Throttle()
        await self.accept()
        await self.feed.start(seen)
        await live.presence.arrive(self.room.pk, self.me, self.conn_id)
        log.info("ws.open", extra={"room": slug, "conn": self.conn_id})

    def page_tag(self) -> str | None:
        """Who the page was drawn for (rooms/identity.py page_tag), from the socket's URL."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return query.get(identity.PAGE_FIELD, [None])[-1]

    @cached_property
    def conn_id(self) -> str:
        """A short id to follow one socket through the logs."""
        return uuid.uuid4().hex[:12]

    @database_sync_to_async
    def still_in(self) -> bool:
        return access.can_see(self.room, self.me)

    @database_sync_to_async
    def load(self, slug: str) -> tuple[identity.Identity | None, Room | None]:
        # The session and the user load lazily from the database: touch them off the loop.
        me = identity.identify(self.scope["session"], self.scope.get("user"))
        if me is not None:
            me = replace(me, address=limits.socket_address(self.scope))
        room = Room.objects.filter(slug=slug).first()
        if room is not None and not room.is_open and not access.can_see(room, me):
            room = None  # a private room this person is not in: no such room, for them
        if room is not None:
            self.admission = restrictions.admit(room, me, self.scope.get("user"))
        if room is not None and me is not None:
            self.sidebar = tuple(reading.listened_rooms(me, self.scope["session"], room))
        return me, room

    async def disconnect(self, code: int) -> None:
        live = runtime()
        if self.answering is not None:
            # Stored or not, the page keeps what was not acknowledged and sends it again;
            # the outbox answers nobody for a post whose socket has gone.
            self.answering.cancel()
            for stored, *_ in self.unanswered:
                stored.cancel()
        if self.feed is not None:
            log.info("ws.close", extra={"room": self.room.slug, "conn": self.conn_id, "code": code})
            await live.close(self.feed, self.me)
            if self.admission.address_group:
                await live.hub.leave(self.admission.address_group, self.feed)
            live.caps.give_back(*self.place)
            await live.presence.leave(self.room.pk, self.conn_id)
        live.trimmer.socket_closed()

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        """Every frame to the page goes through its feed, within what a slow reader may
        hold (rooms/live/backlog.py)."""
        if self.feed is None:
            await super().send(text_data, bytes_data, close)
        else:
            await self.feed.send(text_data)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is None:
            return
        kind = None
        try:
            frame = parse_frame(text_data)
            # A frame's kind is the first field of the table it carries; none: a message.
            kind = next((kind for kind in FRAME_KINDS if kind in frame), None)
            await FRAME_KINDS.get(kind, RoomConsumer.on_message)(self, frame)
        except FrameError as error:
            await self.send(render_push("error", error=str(error)))
        except DATABASE_DOWN:
            # An edit, a topic, a reaction: refused and said so; the socket stays open. A
            # read position is no one's action (the page sends it again as it reads on).
            log.warning("a change could not be stored", exc_info=True)
            if kind != "read":
                await self.send(render_push("error", error=NOT_STORED_NOW))

    # Each handler: read the frame, call the domain, answer this socket. Everyone else
    # hears of a change from rooms/events.py, once it is stored.

    async def on_catch_up(self, frame: dict[str, Any]) -> None:
        cursor, newest = frame_cursor(frame), frame_newest(frame)
        if not self.room.is_open and not await self.still_in():
            # Removed while this socket was open, and the word of it never came (a lost
            # group message): what the room said since is not theirs to catch up on.
            await self.feed.end(render_push("identity_ended", ended=True, reason=REMOVED))
            return
        if self.feed.ask(cursor, newest) is Asked.TOO_OFTEN:
            raise FrameError(CATCH_UP_TOO_OFTEN)

    async def on_read(self, frame: dict[str, Any]) -> None:
        """The page was read up to a message (its seq): the room's count clears on this
        person's other pages. Nothing is answered."""
        if (seq := record_number(frame["read"])) is None:
            raise FrameError(UNREADABLE)
        if seq <= self.read_up_to:
            return
        self.read_up_to = seq
        session = self.scope["session"]
        user = self.scope.get("user")
        await outbox.call(reading.mark_read, self.room, self.me, user, seq, session)
        if self.me.guest and session.modified:
            await database_sync_to_async(session.save)()

    async def on_typing(self, frame: dict[str, Any]) -> None:
        # A live cue, not a change: nothing is stored, and a refused one is just not shown.
        me = self.me
        if self.typing.allow() and (
            await limits.acheck("typing", person=me.key, address=me.address) is None
        ):
            await events.typing(self.room, me)

    async def on_about(self, frame: dict[str, Any]) -> None:
        field = next(f for f in about.FIELDS if f in frame)
        if not isinstance(value := frame[field], str):
            raise FrameError(UNREADABLE)
        try:
            await outbox.call(about.change, self.room, self.me, field, value)
        except ValidationError as error:
            reasons = " ".join(error.message_dict.get(field, error.messages))
            await self.send(render_push("about_error", error=reasons))
            return
        await self.send(render_push("about_error", error=""))

    async def on_edit(self, frame: dict[str, Any]) -> None:
        pk, text = frame_message_id(frame, "edit"), frame_text(frame)
        await self.change(editing.edit_message, self.room, self.me, pk, text)

    async def on_remove(self, frame: dict[str, Any]) -> None:
        pk = frame_message_id(frame, "remove")
        await self.change(editing.delete_message, self.room, self.me, pk, self.scope.get("user"))

    async def on_react(self, frame: dict[str, Any]) -> None:
        pk, text = frame_message_id(frame, "react"), frame.get("reaction")
        if not isinstance(text, str):
            raise FrameError(reacting.EMPTY)
        await self.change(reacting.react, self.room, self.me, pk, text)

    async def change(self, domain_function, *args) -> None:
        """Edit or delete through the domain; a refusal is told to this socket alone."""
        try:
            message, changed = await outbox.call(domain_function, *args)
        except ValidationError as error:
            reason = " ".join(error.message_dict.get("body", error.messages))
            await self.send(render_push("error", error=reason))
            return
        except editing.Refused as error:
            await self.send(render_push("error", error=str(error)))
            return
        if not changed:
            # Nobody else hears of it: this page alone closes its form.
            await self.send(render_push("unchanged", message=message))
        await self.send(sent_ack())

    async def on_message(self, frame: dict[str, Any]) -> None:
        text = frame_text(frame)
        try:
            key, reply_to = frame_key(frame), frame_reply_to(frame)
        except FrameError as error:
            # The refused text goes back into the box: nothing typed is lost.
            await self.send(render_push("error", error=str(error), text=text))
            return
        if self.unanswered is None:  # made by the first message: most sockets only read
            self.unanswered, self.in_flight = deque(), asyncio.Semaphore(IN_FLIGHT)
        # At IN_FLIGHT unanswered, this waits for the oldest: what one socket holds is bounded.
        await self.in_flight.acquire()
        # Queued now, in this socket's order, batched with other sockets' posts
        # (rooms/live/outbox.py), and answered in that order by `answer`: the socket reads
        # its next frame meanwhile, so a fast sender is not held to one commit a message.
        post = Post(self.room, self.me, text, key, reply_to)
        self.unanswered.append((outbox.submit(post), text, key))
        if self.answering is None or self.answering.done():
            self.answering = asyncio.get_running_loop().create_task(self.answer())

    async def answer(self) -> None:
        """Answer this socket's posts in the order they came, each once it is stored."""
        while self.unanswered:
            stored, text, key = self.unanswered[0]
            try:
                await stored
            except ValidationError as error:
                # Nothing typed is lost: a page that sent a key keeps the text in its
                # "Not sent yet" list and matches this refusal by the key; for an older
                # client the refused text goes back into the box.
                reasons = " ".join(error.message_dict.get("body", error.messages))
                await self.send(
                    render_push("error", error=reasons, key=key, text=None if key else text)
                )
            except DATABASE_DOWN:
                log.warning("a post could not be stored", exc_info=True)
                # The database is out: refused like an invalid message, so the page keeps
                # the text in "Not sent yet" with the reason and a Retry, and the socket
                # stays open for the room's live messages. Sent again under its key, it
                # is stored once, even if this one was committed after all.
                await self.send(
                    render_push("error", error=NOT_STORED_NOW, key=key, text=None if key else text)
                )
            except Exception:
                log.warning("a post could not be stored", exc_info=True)
                # The page reconnects and sends what was not acknowledged again; a frame
                # waiting for room in `in_flight` is let through, not left hanging.
                for stored, *_ in self.unanswered:
                    stored.cancel()
                    self.in_flight.release()
                self.unanswered.clear()
                await self.close(code=CLOSE_FAILED)
                return
            else:
                # A repeated key gets the very acknowledgement the first one got.
                await self.send(sent_ack(key))
            self.unanswered.popleft()
            self.in_flight.release()


# What a frame asks for, by the first of these fields it carries ("remove", not
# "delete": htmx reads form values through an object whose delete() method hides a
# field of that name). A frame with none of them is a message.
FRAME_KINDS = {
    "after": RoomConsumer.on_catch_up,
    "typing": RoomConsumer.on_typing,
    "read": RoomConsumer.on_read,
    **dict.fromkeys(about.FIELDS, RoomConsumer.on_about),
    "edit": RoomConsumer.on_edit,
    "remove": RoomConsumer.on_remove,
    "react": RoomConsumer.on_react,
}
