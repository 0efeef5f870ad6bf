"""Whatever a browser or a raw socket sends gets a clear answer, and nothing runs."""

import asyncio
import contextlib
import json
import os
import re
import urllib.error
import urllib.request
from collections import Counter

import pytest
import websockets
from asgiref.sync import async_to_sync
from hypothesis import given
from hypothesis import strategies as st

from rooms import editing
from rooms.identity import Identity
from rooms.models import Message, Room

from .helpers import (
    answers_every_frame,
    fuzzed,
    room_frames,
)
from .servers import join, room_socket, run_python

pytestmark = pytest.mark.django_db(transaction=True)


FRAME_KINDS = {"message", "key", "after", "typing", "topic", "description", "edit", "remove"}
FRAME_KINDS |= {"delete", "identity", "HEADERS"}


def test_frames_of_every_kind_get_their_answer_and_the_socket_survives():
    """Each example: up to 12 frames on one socket (every kind the room reads, good and bad
    values, aimed at real messages, and frames no page sends), each answered as its kind
    promises; then a normal message still works."""
    room = Room.objects.for_name("Fuzz")
    ada = Identity("ada", guest=True, key="guest.fuzzing-ada")
    bob = Identity("bob", guest=True, key="guest.fuzzing-bob")
    ids = [
        room.post(ada.name, "ada's", author_key=ada.key).pk,
        room.post(bob.name, "bob's", author_key=bob.key).pk,
        room.post(ada.name, "ada's, deleted", author_key=ada.key).pk,
    ]
    editing.delete_message(room, ada, ids[-1])
    sent = Counter()

    @fuzzed(300)
    @given(batch=st.lists(room_frames(ids), min_size=1, max_size=12))
    def frames_are_answered(batch):
        for raw in batch:
            with contextlib.suppress(ValueError, RecursionError, TypeError):
                shown = json.loads(raw)
                if isinstance(shown, dict):
                    sent.update(FRAME_KINDS & shown.keys())
                    aimed = (shown.get("edit"), shown.get("remove"))
                    sent["at a message"] += any(str(pk) in aimed for pk in ids)
        async_to_sync(answers_every_frame)("fuzz", ada.name, batch, ada.key.removeprefix("guest."))

    frames_are_answered()
    # The fuzz reached every kind of frame and the messages it aims at.
    assert FRAME_KINDS | {"at a message"} <= {kind for kind, count in sent.items() if count >= 5}
    assert Message.objects.get(pk=ids[1]).body == "bob's"


async def test_a_lone_surrogate_on_the_real_server_is_answered_and_the_socket_stays(server):
    """On the wire the refused text can't be echoed (it has no UTF-8); the socket stays open."""
    cookies = join(server.url, "Surrogates", "ada")
    ada = await room_socket(server, "surrogates", cookies)
    for raw in ('{"message": "a\\ud800b"}', "[" * 30000 + "]" * 30000):
        await ada.send(raw)
        while "composer-error" not in (reply := await asyncio.wait_for(ada.recv(), 5)):
            pass
        assert "broken character" in reply or "could not be read" in reply
    await ada.send(json.dumps({"message": "still open"}))
    while "still open" not in await asyncio.wait_for(ada.recv(), 5):
        pass
    await ada.close()
    # The plain form: bytes that are not UTF-8 get a clear 400, not a 500.
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))
    page = opener.open(server.url + "/rooms/surrogates/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = f"csrfmiddlewaretoken={token}&message=a%ED%A0%80b".encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(urllib.request.Request(server.url + "/rooms/surrogates/", data=body))
    assert refused.value.code == 400
    assert "could not be read (not UTF-8)" in refused.value.read().decode()
    assert "Traceback" not in server.read_log()


def test_names_and_room_names_are_escaped_everywhere(client):
    hostile = '<img src=x onerror=alert(1)> "quoted"'
    client.post("/", {"room_name": f"Lounge {hostile}", "username": hostile})
    room = Room.objects.get()
    client.post(room.get_absolute_url(), {"message": "hi"})
    page = client.get(room.get_absolute_url()).content.decode()
    assert "<img" not in page
    assert "<title>Lounge &lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; · Parley" in page
    assert '<h1 id="room-title">Lounge &lt;img' in page
    assert Message.objects.get().author == hostile


def test_check_deploy_is_clean_under_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "",
        "HTTPS": "on",
        "SECRET_KEY": "k" * 20 + "Zq8-vN3pW_x2Lr7tYb5Hc9Mf" + "u" * 20,
        "ALLOWED_HOSTS": "chat.example.org",
    }
    result = run_python(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_sessions_cookies_and_headers_are_locked_down(client):
    response = client.post("/", {"room_name": "Cookies", "username": "ada"})
    session = response.cookies["sessionid"]
    assert session["httponly"] and session["samesite"] == "Lax"
    page = client.get("/rooms/cookies/")
    csp = page["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe" not in csp
    assert "connect-src 'self'" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = page.content.decode()
    assert html.count(f'nonce="{nonce}"') >= 3  # htmx, its ws extension, the room script
    assert "hx-on" not in html


def test_forms_need_csrf():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/", {"room_name": "x", "username": "y"}).status_code == 403


async def test_raw_socket_abuse_is_answered_and_the_room_keeps_working(server):
    """Invalid UTF-8 and oversized frames end only the offending socket; no traceback."""

    async def connect(name):
        return await room_socket(server, "abuse", join(server.url, "Abuse", name))

    bystander = await connect("bystander")
    for abuse, code in ((b"\xff\xfe not utf-8", 1007), (b"x" * 1_000_000, 1009)):
        attacker = await connect("attacker")
        with pytest.raises(websockets.ConnectionClosed):
            # The server may end it while the frame is still going out.
            await attacker.send(abuse, text=True)
            while True:
                await attacker.recv()
        # Autobahn ends such connections, by a close frame or by dropping TCP (1006).
        assert attacker.close_code in (code, 1006)
    await bystander.send(json.dumps({"message": "still fine"}))
    while "still fine" not in await asyncio.wait_for(bystander.recv(), 5):
        pass
    await bystander.close()
    assert "Traceback" not in server.read_log()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/", "room_name=Broken%ED%A0%80&username=ada"),
        ("/", "room_name=Broken&username=ada%ED%A0%80"),
        ("/rooms/django-girls/", "message=half%ED%A0%80a+pair"),
        ("/rooms/django-girls/about/", "topic=%FF"),
    ],
)
def test_form_posts_that_are_not_utf8_get_a_clear_400(joined, path, body):
    """Browsers send forms as UTF-8; other bytes are refused, never stored as U+FFFD."""
    response = joined.post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "could not be read (not UTF-8)" in response.content.decode()
    assert not Message.objects.exists()
    assert list(Room.objects.values_list("name", "topic")) == [("Django Girls", "")]
