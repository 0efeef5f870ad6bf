"""The room socket on the real ASGI stack (in-memory layer, or Redis when REDIS_URL is set)."""

import asyncio
import json
import re

import pytest
import websockets
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from rooms.broadcast import MESSAGE_EVENT
from rooms.live.feed import GAP_WAIT
from rooms.live.recovery import CHECK_EVERY
from rooms.models import Message, Room

from .helpers import (
    box_text,
    frame,
    joined_socket,
    make_room,
    next_is,
    open_socket,
    receive_message,
    sendable,
)
from .servers import join

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]


async def stored() -> list[tuple[str, str]]:
    return await database_sync_to_async(
        lambda: list(Message.objects.values_list("author", "body"))
    )()


async def test_two_sockets_both_receive_a_message_stored_first():
    await make_room()
    ada, bob = await joined_socket(name="ada"), await joined_socket(name="bob")
    await ada.send_to(frame("hello, room"))
    # The sender also hears that its message went through (its error line cleared).
    ada_frames = sorted([await ada.receive_from(), await ada.receive_from()])
    assert ada_frames[0].startswith('<div hx-swap-oob="beforeend:#messages">')
    assert ada_frames[1].startswith('<p id="composer-error"')
    push = await bob.receive_from()
    assert push == ada_frames[0]
    assert "hello, room" in push and ">ada<" in push
    assert await stored() == [("ada", "hello, room")]
    # Nothing more for bob: ada's next message (revision 2) is the next thing he gets.
    await ada.send_to(frame("marker"))
    await next_is(bob, "marker")
    await ada.disconnect()
    await bob.disconnect()


async def test_every_socket_gets_identical_bytes():
    await make_room()
    sockets = [await joined_socket(name=f"user{n}") for n in range(3)]
    await sockets[0].send_to(frame("same for all"))
    pushes = {await socket.receive_from() for socket in sockets[1:]}
    assert len(pushes) == 1
    assert pushes <= {await sockets[0].receive_from(), await sockets[0].receive_from()}
    for socket in sockets:
        await socket.disconnect()


async def test_rooms_are_isolated():
    await make_room("Django Girls")
    await make_room("Other")
    here, there = await joined_socket("django-girls"), await joined_socket("other")
    await here.send_to(frame("only here"))
    assert "only here" in await receive_message(here)
    # Published before the marker, through this process's one channel for every room:
    # had it leaked to the other room, it would come first.
    bob = await joined_socket("other", name="bob")
    await bob.send_to(frame("marker"))
    await next_is(there, "marker")
    await here.disconnect()
    await there.disconnect()
    await bob.disconnect()


async def test_author_comes_from_the_session_not_the_frame():
    await make_room()
    ada = await joined_socket(name="ada")
    await ada.send_to(frame("it's me", author="mallory", username="mallory"))
    push = await receive_message(ada)
    assert ">ada<" in push and "mallory" not in push
    assert await stored() == [("ada", "it's me")]
    await ada.disconnect()


async def test_socket_without_a_joined_session_is_accepted_then_closed_4003(server):
    """On a real server, as a browser meets it: the handshake succeeds (a refused one
    makes browsers retry forever), then the close code and its reason arrive. Before the
    room is even looked up: an unknown room gets the same."""
    join(server.url, "Joined First", "ada")  # the room exists; this socket has no session
    for slug in ("joined-first", "anything"):
        async with websockets.connect(
            server.url.replace("http", "ws") + f"/ws/rooms/{slug}/", origin=server.url
        ) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4003, "Join the room first.")


async def test_socket_for_an_unknown_room_is_closed_4004():
    socket = await open_socket("nowhere")
    await socket.connect()
    assert (await socket.receive_output())["code"] == 4004


UNREADABLE = "could not be read"
BROKEN = "broken character"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("not json", UNREADABLE),
        ("[1, 2]", UNREADABLE),
        ('{"message": 5}', UNREADABLE),
        ("{}", UNREADABLE),
        (frame("   "), "Write something before sending."),
        (frame("x" * 2001), "at most 2000 characters"),
        (frame("bell\x07"), "control characters"),
        # Half of a UTF-16 pair, in any key or value: no UTF-8 reply could echo it.
        ('{"message": "a\\ud800b"}', BROKEN),
        ('{"\\udfff": "x", "message": "the key is broken"}', BROKEN),
        ('{"message": "a header is broken", "HEADERS": {"HX-Trigger": ["\\udbff"]}}', BROKEN),
        ('{"edit": "1", "message": "\\udc00"}', BROKEN),
        ('{"topic": "\\ud800"}', BROKEN),
        # Nested deeper than the parser goes.
        pytest.param("[" * 30000 + "]" * 30000, UNREADABLE, id="deep-list"),
        pytest.param('{"a":' * 30000 + "1" + "}" * 30000, UNREADABLE, id="deep-object"),
    ],
)
async def test_invalid_frames_get_an_error_on_that_socket_alone_and_the_room_keeps_working(
    raw, error
):
    await make_room()
    ada, bob = await joined_socket(name="ada"), await joined_socket(name="bob")
    await ada.send_to(raw)
    reply = await ada.receive_output(timeout=5)
    sendable(reply)
    assert 'id="composer-error"' in reply["text"] and 'hx-swap-oob="true"' in reply["text"]
    assert error in reply["text"].replace("&#x27;", "'")
    # Same socket, next frame: still works for everyone. For bob it is the next thing at
    # all: an error sent to the room, or anything the bad frame stored (an earlier
    # revision), would reach him before it.
    await ada.send_to(frame("after the error"))
    assert "after the error" in await receive_message(ada)
    await next_is(bob, "after the error")
    assert await stored() == [("ada", "after the error")]
    await ada.disconnect()
    await bob.disconnect()


async def test_refused_text_comes_back_in_the_box():
    await make_room()
    ada = await joined_socket()
    await ada.send_to(frame("x" * 2001))
    reply = await ada.receive_from()
    assert box_text(reply) == "x" * 2001


async def test_binary_frames_get_an_error_fragment():
    await make_room()
    ada = await joined_socket()
    await ada.send_to(bytes_data=b"\x00\xff")
    assert "Send text" in await ada.receive_from()
    await ada.disconnect()


def test_the_layer_matches_the_environment():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "channels_redis.pubsub.RedisPubSubChannelLayer"
        assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["socket_timeout"] is None
    else:
        assert backend == "channels.layers.InMemoryChannelLayer"


# Delivery: catch-up after reconnect, gaps, order.

SEQ = re.compile(r'data-seq="(\d+)"')


def seqs(push: str) -> list[int]:
    return [int(n) for n in SEQ.findall(push)]


async def post_quietly(room: Room, count: int, start: int = 0) -> None:
    """Store messages without broadcasting them, as if their pushes were lost."""

    def post_all():
        for n in range(count):
            room.post("bob", f"missed {start + n}")

    await database_sync_to_async(post_all)()


async def test_a_page_that_reconnects_gets_exactly_what_it_missed_in_order():
    room = await make_room()
    await post_quietly(room, 5)
    ada = await joined_socket()
    await ada.send_to(json.dumps({"after": "2"}))
    push = await ada.receive_from()
    assert seqs(push) == [3, 4, 5]
    assert 'id="cursor"' in push and 'value="5"' in push
    # Up to date, it asks again and gets nothing. A catch-up runs beside the socket's
    # frames: the next frame's answer shows the ask was read, and bob's message then
    # waits for any catch-up still running, so whatever either one sent comes first.
    await ada.send_to(json.dumps({"after": "5"}))
    await ada.send_to("not json")
    await next_is(ada, "could not be read")
    bob = await joined_socket(name="bob")
    await bob.send_to(frame("marker"))
    assert seqs(await next_is(ada, "marker")) == [6]
    await ada.disconnect()
    await bob.disconnect()


async def test_a_page_as_far_behind_as_the_bound_gets_every_change():
    room = await make_room()
    await post_quietly(room, 1000)
    ada = await joined_socket()
    await ada.send_to(json.dumps({"after": "0", "HEADERS": {"HX-Request": "true"}}))
    received = []
    while len(received) < 1000:
        received += seqs(await ada.receive_from())
    assert received == list(range(1, 1001))
    # Nothing more: a message from bob, held while the catch-up runs, comes next.
    bob = await joined_socket(name="bob")
    await bob.send_to(frame("marker"))
    assert seqs(await next_is(ada, "marker")) == [1001]
    await ada.disconnect()
    await bob.disconnect()


async def post_many(room: Room, count: int) -> None:
    """Store `count` messages at once, without broadcasting them."""
    from rooms.models import store_messages

    def post_all():
        store_messages([room.new_message("bob", f"missed {n}") for n in range(1, count + 1)])

    await database_sync_to_async(post_all)()


NEWEST_PAGE = '<div id="messages" hx-swap-oob="innerHTML" data-newest>'


async def test_a_page_further_behind_than_the_bound_gets_the_newest_page_drawn_fresh(settings):
    settings.CATCH_UP_BOUND = 60
    room = await make_room()
    await post_many(room, 130)
    ada = await joined_socket()
    await ada.send_to(json.dumps({"after": "0"}))
    push = await ada.receive_from()
    # One fragment: the list replaced by the newest page, its loader, the room's revision.
    assert push.startswith(NEWEST_PAGE)
    assert seqs(push) == list(range(81, 131))
    assert re.findall(r"missed \d+", push) == [f"missed {n}" for n in range(81, 131)]
    older = re.search(r'<a id="older" [^>]*>', push).group(0)
    assert 'href="/rooms/django-girls/?before=81"' in older and 'hx-swap-oob="true"' in older
    assert '<input type="hidden" id="cursor" name="after" value="130" hx-swap-oob="true">' in push
    # Live pushes go on from there; nothing else was sent first.
    bob = await joined_socket(name="bob")
    await bob.send_to(frame("after the fresh page"))
    push = await ada.receive_from()
    assert seqs(push) == [131] and "after the fresh page" in push and 'value="131"' in push
    # Nor after it: bob's next message is the next thing ada gets.
    await bob.send_to(frame("marker"))
    assert seqs(await next_is(ada, "marker")) == [132]
    await ada.disconnect()
    await bob.disconnect()


async def test_a_page_a_little_behind_still_gets_exactly_what_it_missed(settings):
    settings.CATCH_UP_BOUND = 60
    room = await make_room()
    await post_many(room, 130)
    ada = await joined_socket()
    await ada.send_to(json.dumps({"after": "100"}))
    push = await ada.receive_from()
    assert NEWEST_PAGE not in push
    assert seqs(push) == list(range(101, 131))
    assert 'value="130"' in push
    # Nothing more: a message from bob, held while the catch-up runs, comes next.
    bob = await joined_socket(name="bob")
    await bob.send_to(frame("marker"))
    assert seqs(await next_is(ada, "marker")) == [131]
    await ada.disconnect()
    await bob.disconnect()


async def test_a_repeated_catch_up_while_one_runs_is_not_stacked(monkeypatch):
    """A socket's feed, its record read held open: the repeats while it runs are dropped."""
    from rooms.live import feed as feeds
    from rooms.live.feed import Asked, RoomFeed

    room = await make_room()
    await post_many(room, 300)
    reading = asyncio.Event()
    sent: list[str] = []

    async def send(message: dict) -> None:
        sent.append(message["text"])

    async def read_changes(room: Room, revision: int, limit: int):
        await reading.wait()
        return await database_sync_to_async(room.changes_after)(revision, limit)

    monkeypatch.setattr(feeds, "read_changes", read_changes)
    feed = RoomFeed(room, send)
    await feed.start(300)
    assert feed.ask(0) is Asked.STARTED
    assert [feed.ask(0) for _ in range(20)] == [Asked.RUNNING] * 20
    reading.set()
    await feed.catching_up
    assert [seqs(html) for html in sent] == [list(range(1, 201)), list(range(201, 301))]
    # Once it is done, the next one may run.
    assert feed.ask(299) is Asked.STARTED
    await feed.catching_up
    assert seqs(sent[-1]) == [300]
    feed.close()


async def test_catch_up_frames_are_rate_limited_per_socket(settings):
    settings.RATE_LIMITS = True
    room = await make_room()
    await post_many(room, 5)
    ada, bob = await joined_socket(), await joined_socket(name="bob")
    for _ in range(3):
        await ada.send_to(json.dumps({"after": "4"}))
        assert seqs(await ada.receive_from()) == [5]
    await ada.send_to(json.dumps({"after": "4"}))
    assert "Slow down" in await ada.receive_from()
    # Only that socket: another one still catches up, and ada's socket still works.
    await bob.send_to(json.dumps({"after": "4"}))
    assert seqs(await bob.receive_from()) == [5]
    await ada.send_to(frame("still here"))
    assert "still here" in await receive_message(ada)
    await ada.disconnect()
    await bob.disconnect()


async def test_a_lost_delivery_is_filled_from_the_record_before_the_next_push(settings):
    settings.LIVE_RECHECK = False  # only the gap filler can bring seq 1 and 2
    room = await make_room()
    ada = await joined_socket()
    await post_quietly(room, 2)  # seq 1 and 2 never pushed: dropped on a full channel
    bob = await joined_socket(name="bob")
    await bob.send_to(frame("three"))  # its push, through the hub, shows the gap
    received = []
    while len(received) < 3:
        received += seqs(await ada.receive_from(timeout=GAP_WAIT + 1))
    assert received == [1, 2, 3]
    await ada.disconnect()
    await bob.disconnect()


async def test_pushes_that_overtake_each_other_arrive_once_and_in_order(settings):
    from rooms.broadcast import group_name, message_event

    settings.LIVE_RECHECK = False  # the feed alone: holding pushes, then the gap filler
    room = await make_room()
    ada = await joined_socket()
    await post_quietly(room, 4)
    messages = await database_sync_to_async(lambda: list(room.messages.order_by("seq")))()

    async def push(seq: int) -> None:
        # The event publish() sends, through the layer and this process's hub.
        await get_channel_layer().group_send(group_name(room.pk), message_event(messages[seq - 1]))

    # Another process's push overtakes this one's by a moment: held, then both in order.
    await push(2)
    await push(1)
    assert seqs(await ada.receive_from()) + seqs(await ada.receive_from()) == [1, 2]
    # Overtaken for longer than the feed waits: the gap is read from the record...
    await push(4)
    assert seqs(await ada.receive_from(timeout=GAP_WAIT + 1)) == [3, 4]
    # ...and the late push, and a repeat, are not shown again: the next push comes next.
    await push(3)
    await push(4)
    await post_quietly(room, 1, start=4)
    messages = await database_sync_to_async(lambda: list(room.messages.order_by("seq")))()
    await push(5)
    assert seqs(await ada.receive_from()) == [5]
    await ada.disconnect()


@pytest.mark.parametrize("cursor", ["-1", "1.5", "x", 3, None, "9" * 30])
async def test_a_bad_cursor_gets_an_error_fragment(cursor):
    await make_room()
    ada = await joined_socket()
    await ada.send_to(json.dumps({"after": cursor}))
    assert "reload" in await ada.receive_from()
    await ada.send_to(frame("still fine"))
    assert "still fine" in await receive_message(ada)
    await ada.disconnect()


async def test_the_room_page_carries_the_cursor(client):
    room = await make_room()
    await post_quietly(room, 3)
    await database_sync_to_async(client.post)("/", {"room_name": room.name, "username": "ada"})
    page = (await database_sync_to_async(client.get)(room.get_absolute_url())).content.decode()
    assert '<input type="hidden" id="cursor" name="after" value="3">' in page
    assert 'hx-trigger="htmx:wsOpen from:closest .room"' in page


async def test_a_lost_last_push_still_arrives_from_the_record(settings, monkeypatch):
    """Nothing follows the lost push to reveal the gap: the once-a-second recheck
    (rooms/recovery.py, LIVE_RECHECK) finds it. The safety net's own test."""
    settings.LIVE_RECHECK = True
    await make_room()
    ada, bob = await joined_socket(name="ada"), await joined_socket(name="bob")
    layer = get_channel_layer()
    group_send = layer.group_send

    async def lose_messages(group: str, event: dict) -> None:
        if event["type"] != MESSAGE_EVENT:
            await group_send(group, event)

    monkeypatch.setattr(layer, "group_send", lose_messages)
    await bob.send_to(frame("lost on the way"))  # stored and acknowledged; its push lost
    push = await ada.receive_from(timeout=CHECK_EVERY * 2 + 1)
    assert "lost on the way" in push and seqs(push) == [1]
    # Once: with pushes back, the next message is the next thing ada gets.
    monkeypatch.setattr(layer, "group_send", group_send)
    await bob.send_to(frame("and the next"))
    push = await ada.receive_from()
    assert "and the next" in push and seqs(push) == [2]
    await ada.disconnect()
    await bob.disconnect()
