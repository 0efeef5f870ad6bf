"""The room socket: identity from the session, frames in, fragments out."""

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from . import identity
from .broadcast import group_name, publish, render_push
from .models import Room

log = logging.getLogger(__name__)

# Application close codes (4000-4999): browsers and htmx do not retry these.
CLOSE_NOT_JOINED = 4003
CLOSE_NO_ROOM = 4004


class FrameError(ValueError):
    """A frame that is not what the composer sends."""


def parse_frame(text: str) -> str:
    """The message text from an htmx ws-send frame: a JSON object with `message`."""
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError("That message could not be read; please try again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        raise FrameError("That message could not be read; please try again.")
    return data["message"]


class RoomConsumer(AsyncWebsocketConsumer):
    room: Room | None = None
    author: str | None = None
    group: str | None = None

    async def connect(self) -> None:
        self.author, self.room = await self.load(self.scope["url_route"]["kwargs"]["slug"])
        # Accept before refusing: a refused handshake makes browsers retry forever,
        # an application close code tells htmx to stop.
        await self.accept()
        if self.author is None:
            await self.close(code=CLOSE_NOT_JOINED, reason="Join the room first.")
            return
        if self.room is None:
            await self.close(code=CLOSE_NO_ROOM, reason="No such room.")
            return
        self.group = group_name(self.room.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)

    @database_sync_to_async
    def load(self, slug: str) -> tuple[str | None, Room | None]:
        # The session loads lazily from the database: touch it off the event loop.
        author = identity.display_name(self.scope["session"])
        return author, Room.objects.filter(slug=slug).first()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.group is None:
            return
        try:
            if text_data is None:
                raise FrameError("Send text, not binary data.")
            text = parse_frame(text_data)
            message = await database_sync_to_async(self.room.post)(self.author, text)
        except FrameError as error:
            await self.send(render_push("error", error=str(error)))
        except ValidationError as error:
            field_errors = getattr(error, "message_dict", {}).get("body") or error.messages
            await self.send(render_push("error", error=" ".join(field_errors), text=text))
        else:
            await publish(message)
            await self.send(render_push("sent"))

    async def room_fragment(self, event: dict) -> None:
        await self.send(event["html"])
