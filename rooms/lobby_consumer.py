"""The lobby's socket: it only listens, and gets the cards of rooms that changed."""

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from . import lobby
from .broadcast import FRAGMENT_EVENT


class LobbyConsumer(AsyncWebsocketConsumer):
    # Channels joins these groups on connect and leaves them on disconnect.
    groups = [lobby.GROUP]

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Ready bytes: no hop to the database thread, as for room sockets.
        if message["type"] == FRAGMENT_EVENT:
            await self.send(message["html"])
        else:
            await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The lobby page sends nothing; whatever arrives is ignored."""
