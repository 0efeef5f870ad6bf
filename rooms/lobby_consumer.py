"""The lobby's socket: it only listens, and gets the cards of rooms that changed."""

from .consumers import Consumer
from .live import runtime
from .live.backlog import SERVER_SEND, Sender


class LobbyConsumer(Consumer):
    # The cards come through this process's hub (rooms/live/hub.py), as a room's changes
    # do: one subscription per process, however many lobbies are open.
    channel_layer_alias = None

    sender: Sender | None = None

    async def connect(self) -> None:
        # Accepted first: a card pushed before then could not be sent, and the page was
        # drawn with every card a moment ago.
        await self.accept()
        live = runtime()
        live.start()
        self.sender = Sender(
            self.scope.get(SERVER_SEND, self.base_send), conn="lobby", language=self.language
        )
        await live.open_lobby(self.sender)

    async def disconnect(self, code: int) -> None:
        if self.sender is not None:
            await runtime().close_lobby(self.sender)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """The lobby page sends nothing; whatever arrives is ignored."""
