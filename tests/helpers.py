"""What many test modules share: sockets on the real ASGI stack, sessions, service
markers and the frame fuzzer's parts. Fixtures live in conftest.py; servers and
browsers in servers.py and pages.py."""

import json
import os

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rooms import identity
from rooms.models import Room

REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# CI's second pass sets this: a test that needs Redis or PostgreSQL must run, not skip.
REQUIRE_SERVICES = os.environ.get("PARLEY_REQUIRE_SERVICES") == "1"

needs_redis = pytest.mark.skipif(
    not (REDIS_URL or REQUIRE_SERVICES), reason="set REDIS_URL to run against Redis"
)
needs_services = pytest.mark.skipif(
    not ((REDIS_URL and DATABASE_URL.startswith("postgres")) or REQUIRE_SERVICES),
    reason="set REDIS_URL and a postgres DATABASE_URL to run the production shape",
)


def make_session(name: str | None, guest_key: str | None = None) -> str:
    session = SessionStore()
    if name is not None:
        identity.remember(session, name)
        if guest_key is not None:
            # A known key, so a test can store messages as this guest (key "guest.<it>").
            session[identity.GUEST_KEY] = guest_key
    session.create()
    return session.session_key


async def open_socket(
    slug: str,
    name: str | None = "ada",
    origin: str = "http://127.0.0.1:8000",
    guest_key: str | None = None,
) -> WebsocketCommunicator:
    """A socket on the real ASGI stack, the way a browser that joined opens it."""
    from config.asgi import application

    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode())]
    key = await database_sync_to_async(make_session)(name, guest_key)
    headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()))
    return WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)


def frame(text, **extra) -> str:
    return json.dumps({"message": text, **extra})


async def joined_socket(slug="django-girls", name="ada"):
    socket = await open_socket(slug, name)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def receive_message(socket) -> str:
    """The next message push, skipping the sender's own acknowledgement."""
    while True:
        push = await socket.receive_from()
        if 'id="composer-error"' not in push:
            return push


async def make_room(name="Django Girls") -> Room:
    return await database_sync_to_async(Room.objects.for_name)(name)


def socket_for(client, slug: str) -> WebsocketCommunicator:
    from config.asgi import application

    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return WebsocketCommunicator(
        application,
        f"/ws/rooms/{slug}/",
        headers=[
            (b"host", b"127.0.0.1"),
            (b"origin", b"http://127.0.0.1"),
            (b"cookie", cookie.encode()),
        ],
    )


async def joined(name: str, slug: str = "django-girls", like=None, guest_key=None):
    """A socket joined as `name`; `like`: another tab of that socket's person."""
    socket = await open_socket(slug, name, guest_key=guest_key)
    if like is not None:
        socket.scope["headers"] = like.scope["headers"]
    connected, _ = await socket.connect()
    assert connected
    return socket


# Text as JSON can carry it: any character, and now and then half of a UTF-16 pair
# (json.dumps writes it as a "\ud800" escape, which no UTF-8 reply can hold).
texts = st.text(st.characters() | st.characters(categories=["Cs"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)


def fuzzed(examples: int):
    """Hypothesis settings for examples that each open a socket on the real stack."""
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


async def answers_every_frame(slug: str, name: str, batch: list[str | bytes]) -> None:
    """Each frame gets an answer, never a closed socket (a crash closes it); then a normal
    message still works."""
    socket = await open_socket(slug, name)
    assert (await socket.connect())[0]
    for raw in batch:
        kind = "bytes" if isinstance(raw, bytes) else "text"
        await socket.send_input({"type": "websocket.receive", kind: raw})
        reply = await socket.receive_output(timeout=5)
        sendable(reply)
        while not await socket.receive_nothing(timeout=0.01):
            sendable(await socket.receive_output())
    await socket.send_to(frame("still alive"))
    while "still alive" not in await receive_message(socket):
        pass
    await socket.disconnect()


def sendable(reply: dict) -> None:
    """A reply a real server can put on the wire: a send (a crash closes instead), of text
    that encodes as UTF-8 (else uvicorn drops the socket, 1006, and daphne closes 1011)."""
    assert reply["type"] == "websocket.send", reply
    reply["text"].encode()
