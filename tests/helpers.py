"""What many test modules share: sockets on the real ASGI stack, sessions, service
markers and the frame fuzzer's parts. Fixtures live in conftest.py; servers and
browsers in servers.py and pages.py."""

import html
import json
import os
import re
import secrets
from importlib import import_module

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rooms import identity
from rooms.models import Room

REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# CI's second pass sets this: a test that needs Redis or PostgreSQL must run, not skip.
REQUIRE_SERVICES = os.environ.get("PARLEY_REQUIRE_SERVICES") == "1"

# The markers declared in pyproject.toml; conftest.py skips what the environment lacks
# (or fails it, on CI's services pass), and `pytest -m redis` picks exactly these tests.
needs_redis = pytest.mark.redis
needs_postgres = pytest.mark.postgres


def box_text(page: str, box: str = "message-input") -> str | None:
    """What a page or a pushed fragment puts in a textarea (the message box by default),
    as the browser reads it (HTML drops one newline right after the opening tag)."""
    found = re.search(rf'<textarea id="{box}"[^>]*>\n?(.*?)</textarea>', page, re.DOTALL)
    return html.unescape(found[1]) if found else None


def make_session(name: str | None, guest_key: str | None = None) -> str:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
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


async def next_is(socket, marker: str) -> str:
    """The next frame `socket` receives carries `marker`, and only it: proof that nothing
    came before it.

    Cause the marker after the action that must send this socket nothing: a message said
    in its room by someone else, or a frame of its own whose answer is known. What reaches
    one socket arrives in order: group events through one channel per process, a room's
    changes through the socket's feed in revision order (a missing one read from the record
    first), a frame's replies before the next frame is read (a message's once it is stored,
    in the order the messages came). So whatever the action sent
    it comes first, even a change stored but never pushed, which the once-a-second check
    would only bring later: the marker's revision comes after it, and a read from the
    record brings the two in one frame, so a marker message must come alone. A short
    wait for silence proves none of this; that check runs every second or two."""
    received = await socket.receive_from(timeout=5)
    assert marker in received, f"before {marker!r} came: {received[:400]!r}"
    assert received.count("data-seq=") <= 1, f"{marker!r} came with more: {received!r}"
    return received


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


# The frame fuzzer's parts.

# Text as JSON can carry it: any character, and now and then half of a UTF-16 pair
# (json.dumps writes it as a "\ud800" escape, which no UTF-8 reply can hold).
texts = st.text(st.characters() | st.characters(categories=["Cs"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
# What a person types: mostly fine, sometimes refused (blank, too long, control characters).
typed = st.one_of(
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40),
    st.sampled_from(["", "   ", "\u200b", "bell\x07", "x" * 2001, "new\nline", "\u202eevil"]),
    texts,
)
# Numbers as a form sends them (digits in a string), and what a form never sends.
digits = st.integers(0, 10**20).map(str)
not_digits = st.one_of(
    json_values, st.sampled_from(["", "-1", "+1", " 1", "1.0", "1e3", "\u0661", "0x1f"])
)
message_keys = json_values | st.sampled_from(["k" * 16, "key_2-" * 4, "Z" * 64, "short"])
# What the page's form sends along with every frame (htmx's headers, the page's identity).
alongside = {
    "HEADERS": st.fixed_dictionaries(
        {"HX-Request": st.just("true"), "HX-Trigger": st.sampled_from(["composer", "typing"])}
    )
    | json_values,
    "identity": st.text(max_size=20) | json_values,
    "csrfmiddlewaretoken": st.text(max_size=64),
}


def room_frames(ids: list[int]) -> st.SearchStrategy[str | bytes]:
    """Frames for the room socket: each kind it reads (rooms/consumers.py), with good and
    bad values, aimed at the messages `ids` (and their neighbours); frames that mix
    kinds; and frames that are not what any page sends."""
    aimed = st.sampled_from(sorted({n + d for n in ids for d in (-1, 0, 1) if n + d > 0}))
    message_ids = aimed.map(str) | aimed.map(str) | digits | not_digits
    kinds = {
        "message": st.fixed_dictionaries(
            {"message": typed | json_values}, optional={"key": message_keys}
        ),
        "after": st.fixed_dictionaries({"after": digits | not_digits}),
        "typing": st.fixed_dictionaries({"typing": st.just("1") | json_values}),
        "topic": st.fixed_dictionaries({"topic": typed | json_values}),
        "description": st.fixed_dictionaries({"description": typed | json_values}),
        "edit": st.fixed_dictionaries(
            {"edit": message_ids}, optional={"message": typed | json_values}
        ),
        "remove": st.fixed_dictionaries({"remove": message_ids}),
        # Not a kind: htmx hides a form field named "delete" (the consumer's comment).
        "delete": st.fixed_dictionaries({"delete": message_ids}),
    }
    one_kind = (
        st.sampled_from(sorted(kinds))
        .flatmap(lambda kind: st.tuples(kinds[kind], st.fixed_dictionaries({}, optional=alongside)))
        .map(lambda parts: {**parts[1], **parts[0]})
    )
    mixed = st.fixed_dictionaries(
        {},
        optional={
            "message": typed,
            "after": digits,
            "typing": st.just("1"),
            "topic": typed,
            "edit": message_ids,
            "remove": message_ids,
            "identity": st.text(max_size=20),
        },
    )
    return st.one_of(
        one_kind.map(json.dumps),
        one_kind.map(json.dumps),
        one_kind.map(json.dumps),
        mixed.map(json.dumps),
        st.builds(nested, st.integers(500, 30000), st.sampled_from(["list", "dict"])),
        st.text(max_size=300),
        st.binary(max_size=300),
        json_values.map(json.dumps),
    )


def nested(depth: int, kind: str) -> str:
    """An array or object nested deeper than any parser recurses."""
    return "[" * depth + "]" * depth if kind == "list" else '{"a":' * depth + "1" + "}" * depth


def fuzzed(examples: int):
    """Hypothesis settings for examples that each open a socket on the real stack."""
    return hypothesis_settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# What the socket answers a frame with, on that socket, before it reads the next one: the
# composer's error line (empty: the acknowledgement), or the about form's line. A typing
# cue and a catch-up promise nothing to the sender: cues are for the others, and come at
# most once per 2 s per socket (the rest are dropped, unanswered); a catch-up is sent in
# the background, at the socket's pace, and may be empty.
COMPOSER_LINE = 'id="composer-error"'
ABOUT_LINE = 'id="about-error"'


def promised_answer(raw: str | bytes) -> str | None:
    """The answer `raw` must get (COMPOSER_LINE or ABOUT_LINE), or None: no promise."""
    if isinstance(raw, bytes):
        return COMPOSER_LINE
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return COMPOSER_LINE
    if not isinstance(frame, dict) or holds_lone_surrogate(frame):
        return COMPOSER_LINE
    # The kinds in the order the socket tells them apart.
    if "after" in frame:
        cursor = frame["after"]
        well_formed = isinstance(cursor, str) and cursor.isascii() and cursor.isdigit()
        return None if well_formed and len(cursor) < 19 else COMPOSER_LINE
    if "typing" in frame:
        return None
    for field in ("topic", "description"):
        if field in frame:
            return ABOUT_LINE if isinstance(frame[field], str) else COMPOSER_LINE
    return COMPOSER_LINE


def holds_lone_surrogate(value) -> bool:
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if any("\ud800" <= c <= "\udfff" for c in value):
                return True
        elif isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
    return False


async def answers_every_frame(
    slug: str, name: str, batch: list[str | bytes], guest_key: str | None = None
) -> list[list[str]]:
    """Each frame gets the answer its kind promises (promised_answer) and never a closed
    socket (a crash closes it); then a normal message still works. Returns what came
    back for each frame.

    Each frame is followed by a marker (a message under a fresh key, answered by that
    key): the socket answers a frame it refuses as it reads it, and its messages in the
    order they came, so every direct answer to a frame comes before the marker's, and
    nothing is credited to the wrong frame. Pushes to the whole room (a posted message,
    a topic) may arrive after it."""
    socket = await open_socket(slug, name, guest_key=guest_key)
    assert (await socket.connect())[0]
    end = secrets.token_hex(8)
    answers = []
    for number, raw in enumerate(batch):
        kind = "bytes" if isinstance(raw, bytes) else "text"
        await socket.send_input({"type": "websocket.receive", kind: raw})
        marker = secrets.token_hex(16)
        await socket.send_to(json.dumps({"message": f"end of frame {number} {end}", "key": marker}))
        replies = []
        while True:
            reply = await socket.receive_output(timeout=5)
            sendable(reply)
            if f'data-key="{marker}"' in reply["text"]:
                break
            replies.append(reply["text"])
        if (promised := promised_answer(raw)) is not None:
            assert any(promised in reply for reply in replies), (raw, replies)
        answers.append(replies)
    await socket.send_to(frame("still alive"))
    while "still alive" not in await receive_message(socket):
        pass
    await socket.disconnect()
    return answers


def sendable(reply: dict) -> None:
    """A reply a real server can put on the wire: a send (a crash closes instead), of text
    that encodes as UTF-8 (else uvicorn drops the socket, 1006, and daphne closes 1011)."""
    assert reply["type"] == "websocket.send", reply
    reply["text"].encode()
