"""Posts from one server process's sockets, stored a batch per transaction.

Storing a message costs one commit, and a commit waits for the disk. While one
batch is being stored, the posts that arrive queue up and go together in the
next, so a busy room pays one commit per batch instead of one per message, and
a quiet one still stores each message at once.

`call` is how every change a socket asks for (a post, an edit, a topic) reaches the
domain from the event loop and is announced once it is committed.
"""

import asyncio

from channels.db import database_sync_to_async

from .. import events
from ..identity import Identity
from ..languages import process_wide
from ..models import Message, Room
from ..posting import Post, post_messages


class Outbox:
    def __init__(self) -> None:
        self.queued: list[tuple[Post, asyncio.Future]] = []
        self.storing: asyncio.Task | None = None

    async def post(self, room: Room, me: Identity, text: str, key: str | None = None) -> Message:
        """Store a message; raises ValidationError as posting.post_message does, and
        answers a key already stored with that message (marked `repeated`)."""
        return await self.submit(Post(room, me, text, key))

    def submit(self, post: Post) -> asyncio.Future[Message]:
        """Queue a message now, in the order of submission, and return what `post` would
        answer, to be awaited later: a socket that posts fast reads its next frame while
        this one is stored."""
        future = asyncio.get_running_loop().create_future()
        self.queued.append((post, future))
        if self.storing is None:
            self.storing = process_wide(
                lambda: asyncio.get_running_loop().create_task(self.store())
            )
        return future

    async def store(self) -> None:
        try:
            while self.queued:
                batch, self.queued = self.queued, []
                try:
                    # Stored in a database thread; each message stored is announced from
                    # here, on the loop, before its sender is answered (`call`).
                    results = await call(post_messages, [post for post, _ in batch])
                except Exception as error:
                    results = [error] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # the socket closed meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.storing = None

    async def close(self) -> None:
        """At shutdown: posts still queued are refused, not silently lost (each page
        keeps an unacknowledged message and sends it again)."""
        if self.storing is not None:
            self.storing.cancel()
        for _, future in self.queued:
            future.cancel()
        self.queued = []


def submit(post: Post) -> asyncio.Future[Message]:
    """Queue a message in this process's outbox (see Outbox.submit)."""
    from . import runtime

    live = runtime()
    live.start()
    return live.outbox.submit(post)


async def call(function, *args):
    """Run a domain function from the event loop (in a database thread, as
    database_sync_to_async does) and announce what it committed once it returns,
    before its caller answers: whoever changed something hears of it in order."""
    with events.held() as committed:
        try:
            return await database_sync_to_async(function)(*args)
        finally:
            # Stored, so announced even if the function failed afterwards. A batch's
            # announcements go out together, as its posters' would one by one.
            if committed:
                await asyncio.gather(*(events.announce(event) for event in committed))
