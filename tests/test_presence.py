"""Who is here, who is typing, and the room's topic: sockets on the real ASGI stack,
plain forms, and real server processes sharing Redis (one of them killed)."""

import asyncio
import json
import re
import signal
import time
import urllib.request

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async

from rooms import limits
from rooms.identity import GUEST_KEY, Identity
from rooms.live import presence
from rooms.models import Room, author_tag

from .helpers import frame, joined, make_room, needs_redis, next_is
from .servers import Server, join, room_socket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nobody_here"),
]

COUNT = re.compile(r"Here now: (\d+)")


@pytest.fixture
def live(settings):
    """Who-is-here pushes on (the test settings keep them off), coalesced briskly."""
    settings.LIVE_PUSHES = True
    settings.LIVE_PUSH_EVERY = 0.2
    return settings


async def presence_showing(socket, count: int) -> str:
    """The first who-is-here push that counts `count` people (skipping earlier ones)."""
    while True:
        push = await socket.receive_from(timeout=5)
        if 'id="presence"' in push and COUNT.search(push).group(1) == str(count):
            return push


def names(push: str) -> list[str]:
    return re.findall(r'<span class="person__name">([^<]*)</span>', push)


async def test_everyone_sees_who_is_here_and_two_tabs_count_once(live):
    await make_room()
    ada = await joined("ada")
    bob = await joined("bob")
    ada_again = await joined("ada", like=ada)
    pushes = [await presence_showing(socket, 2) for socket in (ada, bob, ada_again)]
    assert names(pushes[0]) == ["ada", "bob"]
    assert pushes[0] == pushes[1] == pushes[2]  # the same bytes for everyone
    assert 'hx-swap-oob="true"' in pushes[0]
    await bob.disconnect()
    assert names(await presence_showing(ada, 1)) == ["ada"]
    # One of ada's tabs closes: she is still here.
    await ada_again.disconnect()
    cleo = await joined("cleo")
    assert names(await presence_showing(ada, 2)) == ["ada", "cleo"]
    await ada.disconnect()
    await cleo.disconnect()


@needs_redis
@pytest.mark.timeout(90)
async def test_presence_crosses_processes_and_a_dead_process_drops_out_by_expiry(server_env):
    """A server process killed with a socket open says no goodbye: its entry is no longer
    refreshed, expires, and the room on another process is told and draws them gone."""
    env = {**server_env, "PRESENCE_HEARTBEAT": "0.5", "PRESENCE_TTL": "2"}
    doomed, other = Server(env).start(), Server(env).start()
    try:
        ghost = await room_socket(doomed, "expiry", join(doomed.url, "Expiry", "ghost"))
        ada_cookies = join(other.url, "Expiry", "ada")
        ada = await room_socket(other, "expiry", ada_cookies)
        # Each process sees the other's socket.
        assert names(await presence_frame_with(ada, 2)) == ["ada", "ghost"]
        assert names(await presence_frame_with(ghost, 2)) == ["ada", "ghost"]
        doomed.stop(signal.SIGKILL)
        # Nothing else happens in the room: only the entry's expiry can tell.
        assert names(await presence_frame_with(ada, 1)) == ["ada"]
        # A page drawn now by the living process lists ada alone too.
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(ada_cookies))
        page = opener.open(other.url + "/rooms/expiry/").read().decode()
        assert "Here now: 1" in page and ">ghost" not in page
        await ada.close()
        ghost.transport.abort()  # its server is gone; nothing to close politely
    finally:
        doomed.stop()
        other.stop()


async def test_comings_and_goings_are_coalesced_not_pushed_per_join(live):
    live.LIVE_PUSH_EVERY = 1.0
    await make_room()
    first = await joined("first")
    others = [await joined(f"person {n:02}") for n in range(30)]
    pushes = []
    while not pushes or "Here now: 31" not in pushes[-1]:
        push = await first.receive_from(timeout=5)
        if 'id="presence"' in push:
            pushes.append(push)
    # Thirty arrivals, a handful of pushes (one per second at most), not thirty.
    assert len(pushes) <= 6
    assert len(names(pushes[-1])) == 31
    for socket in [first, *others]:
        await socket.disconnect()


async def test_a_long_list_shows_the_first_names_and_how_many_more(live, monkeypatch):
    monkeypatch.setattr(presence, "SHOWN", 3)
    await make_room()
    sockets = [await joined(name) for name in ("eve", "dan", "cleo", "bob", "ada")]
    push = await presence_showing(sockets[0], 5)
    assert names(push) == ["ada", "bob", "cleo"]
    assert "and 2 more" in push
    for socket in sockets:
        await socket.disconnect()


async def test_names_are_escaped_in_the_list(live):
    await make_room()
    mallory = await joined("<img src=x onerror=alert(1)>")
    push = await presence_showing(mallory, 1)
    assert "<img" not in push and "&lt;img src=x onerror=alert(1)&gt;" in push
    await mallory.disconnect()


def test_the_room_page_shows_who_is_here_on_load(joined_client):
    client, room = joined_client
    bob = Identity("bob", guest=True, key="session.bob")
    for tab in ("c1", "c2"):  # two tabs, one person
        async_to_sync(presence.store().aadd)(room.pk, presence.entry(tab, bob), time.time() + 60)
    page = client.get(room.get_absolute_url()).content.decode()
    # bob, and ada, who is reading the page (her socket has not opened yet).
    assert "Here now: 2" in page
    assert '<span class="person__name">ada</span>' in page
    tag = author_tag(bob.key)
    assert f'<li class="person" data-author="{tag}"><span class="person__name">bob</span>' in page


def test_the_room_page_lists_its_viewer_before_any_socket(joined_client):
    # Without JavaScript no socket ever opens; with it, the first paint already lists you.
    client, room = joined_client
    page = client.get(room.get_absolute_url()).content.decode()
    assert "Here now: 1" in page
    tag = author_tag(f"guest.{client.session[GUEST_KEY]}")
    assert f'data-author="{tag}"><span class="person__name">ada</span>' in page


@pytest.fixture
def joined_client(client):
    response = client.post("/", {"room_name": "Django Girls", "username": "ada"})
    assert response.status_code == 303
    return client, Room.objects.get(slug="django-girls")


# Typing.


async def test_typing_reaches_everyone_as_the_same_bytes_with_the_typists_tag():
    await make_room()
    ada, bob = await joined("ada", guest_key="ada"), await joined("bob")
    await ada.send_to(json.dumps({"typing": "1", "HEADERS": {"HX-Request": "true"}}))
    cue = await bob.receive_from()
    assert "ada is typing…" in cue
    assert f'data-author="{author_tag("guest.ada")}"' in cue
    assert 'hx-swap-oob="beforeend:#typing"' in cue
    # The typist gets the same bytes; the page hides them (below).
    assert await ada.receive_from() == cue
    await ada.disconnect()
    await bob.disconnect()


async def test_typing_cues_are_throttled_per_socket():
    await make_room()
    ada, bob = await joined("ada"), await joined("bob")
    for _ in range(5):
        await ada.send_to(json.dumps({"typing": "1"}))
    assert "ada is typing" in await bob.receive_from()
    # A cue goes to the room as its frame is read, and ada's next frame is read after
    # all five: her message is the next thing bob gets.
    await ada.send_to(frame("marker"))
    await next_is(bob, "marker")
    await ada.disconnect()
    await bob.disconnect()


async def test_a_message_takes_its_authors_typing_cue_away():
    await make_room()
    ada, bob = await joined("ada", guest_key="ada"), await joined("bob")
    await ada.send_to(json.dumps({"typing": "1"}))
    assert "ada is typing" in await bob.receive_from()
    await ada.send_to(frame("done typing"))
    pushed = await next_is(bob, "done typing")
    tag = author_tag("guest.ada")
    # htmx deletes ada's cue where the page has one, else the #offstage placeholder,
    # which comes back at once: every target exists on every page.
    assert (
        f"hx-swap-oob=\"delete:#typing > [id='typing-{tag}'],"
        f"body:not(:has(#typing > [id='typing-{tag}'])) #offstage > *\""
    ) in pushed
    assert pushed.index(tag) < pushed.rindex('<div id="offstage" hidden hx-swap-oob="true">')
    await ada.disconnect()
    await bob.disconnect()


def test_the_page_hides_your_own_typing_cue_and_has_the_signal(joined_client):
    client, room = joined_client
    page = client.get(room.get_absolute_url()).content.decode()
    tag = author_tag(f"guest.{client.session[GUEST_KEY]}")
    assert f'.typing__cue[data-author="{tag}"] {{ display: none; }}' in page
    assert '<div id="typing" class="typing" data-live-list aria-live="polite"></div>' in page
    assert 'hx-trigger="input from:.composer throttle:3s"' in page
    assert '<input type="hidden" name="typing" value="1">' in page


# Topic and description.


async def stored_room() -> Room:
    return await database_sync_to_async(Room.objects.get)(slug="django-girls")


async def test_a_new_topic_is_stored_and_pushed_to_everyone():
    await make_room()
    ada, bob = await joined("ada"), await joined("bob")
    await ada.send_to(json.dumps({"topic": "  Lunch   <plans> ", "csrfmiddlewaretoken": "x"}))
    push = await bob.receive_from()
    assert 'id="room-about"' in push and 'hx-swap-oob="true"' in push
    assert "Lunch &lt;plans&gt;" in push
    assert (await stored_room()).topic == "Lunch <plans>"
    replies = [await ada.receive_from(), await ada.receive_from()]
    assert push in replies
    assert any('<p id="about-error"' in reply and "></p>" in reply for reply in replies)
    await ada.send_to(json.dumps({"description": "Where Django Girls meet"}))
    push = await bob.receive_from()
    assert "Where Django Girls meet" in push and "Lunch &lt;plans&gt;" in push
    await ada.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize(
    ("topic", "error"),
    [
        ("x" * 121, "at most 120 characters"),
        ("bell\x07", "control characters"),
        (5, "could not be read"),
        (None, "could not be read"),
    ],
)
async def test_a_bad_topic_is_explained_to_its_sender_alone(topic, error):
    await make_room()
    ada, bob = await joined("ada"), await joined("bob")
    await ada.send_to(json.dumps({"topic": topic}))
    reply = (await ada.receive_from()).replace("&#x27;", "'")
    assert error in reply
    assert 'role="alert"' in reply
    assert (await stored_room()).topic == ""
    # The socket and the room keep working. For bob it is the next thing at all: the
    # refusal or a topic sent to the room while ada's frame was read comes first.
    await ada.send_to(frame("still here"))
    await next_is(bob, "still here")
    await ada.disconnect()
    await bob.disconnect()


async def test_topic_changes_are_rate_limited(settings):
    settings.RATE_LIMITS = True
    await make_room()
    ada = await joined("ada")
    allowed = limits.LIMITS["about"][0]
    for n in range(allowed + 1):
        await ada.send_to(json.dumps({"topic": f"topic {n}"}))
    # Every refusal is sent to ada as its frame is read: all before the answer to the
    # frame after them.
    await ada.send_to(json.dumps({"after": "x"}))
    replies = []
    while "out of date" not in (reply := await ada.receive_from()):
        replies.append(reply)
    assert sum("Slow down" in reply for reply in replies) == 1
    assert (await stored_room()).topic == f"topic {allowed - 1}"
    await ada.disconnect()


def test_the_topic_changes_with_a_plain_form_too(joined_client):
    client, room = joined_client
    response = client.post(f"/rooms/{room.slug}/about/", {"topic": "Plain <b>forms</b>"})
    assert response.status_code == 303
    assert response["Location"] == room.get_absolute_url()
    room.refresh_from_db()
    assert room.topic == "Plain <b>forms</b>"
    page = client.get(room.get_absolute_url()).content.decode()
    assert "Plain &lt;b&gt;forms&lt;/b&gt;" in page
    response = client.post(f"/rooms/{room.slug}/about/", {"description": "For everyone"})
    assert response.status_code == 303
    room.refresh_from_db()
    assert (room.topic, room.description) == ("Plain <b>forms</b>", "For everyone")


def test_a_bad_topic_from_a_plain_form_gets_its_field_error(joined_client):
    client, room = joined_client
    response = client.post(f"/rooms/{room.slug}/about/", {"topic": "y" * 121})
    assert response.status_code == 400
    assert "at most 120 characters" in response.context["about_form"].errors["topic"][0]
    page = response.content.decode()
    assert '<details class="about-edit" open>' in page
    assert "field--invalid" in page
    room.refresh_from_db()
    assert room.topic == ""
    assert client.post(f"/rooms/{room.slug}/about/", {}).status_code == 400


def test_changing_the_topic_needs_a_name(client, room):
    response = client.post(f"/rooms/{room.slug}/about/", {"topic": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith("/?room=")
    room.refresh_from_db()
    assert room.topic == ""


# Real processes sharing Redis.


async def presence_frame_with(socket, count: int, timeout: float = 30) -> str:
    async def wait():
        while True:
            push = await socket.recv()
            if 'id="presence"' in push and COUNT.search(push).group(1) == str(count):
                return push

    return await asyncio.wait_for(wait(), timeout)


@needs_redis
@pytest.mark.timeout(60)
async def test_a_page_load_on_another_process_shows_who_is_here(server_env):
    one, two = Server(server_env).start(), Server(server_env).start()
    try:
        ada = await room_socket(one, "elsewhere", join(one.url, "Elsewhere", "ada"))
        await presence_frame_with(ada, 1)
        jar = join(two.url, "Elsewhere", "bob")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(two.url + "/rooms/elsewhere/").read().decode()
        assert "Here now: 2" in page and ">ada" in page and ">bob" in page
        await ada.close()
    finally:
        one.stop()
        two.stop()


def test_too_many_topic_changes_by_plain_form_get_429(joined_client, settings):
    settings.RATE_LIMITS = True
    client, room = joined_client
    allowed = limits.LIMITS["about"][0]
    for n in range(allowed):
        assert client.post(f"/rooms/{room.slug}/about/", {"topic": f"t{n}"}).status_code == 303
    response = client.post(f"/rooms/{room.slug}/about/", {"topic": "one too many"})
    assert response.status_code == 429
    assert "Slow down" in response.context["about_form"].errors["topic"][0]
    room.refresh_from_db()
    assert room.topic == f"t{allowed - 1}"
