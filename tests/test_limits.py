"""Rate limits: refused visibly, counted per person across sockets, off with RATE_LIMITS=off."""

import json
import os
import secrets

import pytest
from channels.db import database_sync_to_async

from rooms import limits
from rooms.models import Message

from .conftest import open_socket
from .servers import run_python
from .test_consumer import frame, make_room

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def limits_on(settings, monkeypatch):
    settings.RATE_LIMITS = True
    # One fixed moment of its own for each test: it never straddles two counting
    # windows, and never meets another test's (or another test run's) counts.
    moment = float(secrets.randbelow(10**9) * 3600)
    monkeypatch.setattr(limits, "now", lambda: moment)


async def stored() -> int:
    return await database_sync_to_async(Message.objects.count)()


async def test_too_many_messages_are_refused_visibly_across_all_of_a_persons_sockets():
    await make_room()
    socket = await open_socket("django-girls", "ada")
    assert (await socket.connect())[0]
    # A second tab of the same person shares the count.
    second = await open_socket("django-girls", "ada")
    second.scope["headers"] = socket.scope["headers"]
    assert (await second.connect())[0]
    count = limits.LIMITS["message"][0]
    replies = []
    for n in range(count + 3):
        tab = socket if n % 2 else second
        await tab.send_to(frame(f"message {n}"))
    for tab in (socket, second):
        while not await tab.receive_nothing(timeout=0.3):
            replies.append(await tab.receive_from())
    refusals = [reply for reply in replies if "Slow down" in reply]
    assert len(refusals) == 3
    assert all('id="message-input"' in reply for reply in refusals)  # the text comes back
    assert await stored() == count
    await socket.disconnect()
    await second.disconnect()


def test_too_many_plain_posts_get_429_with_the_reason(client, room):
    client.post("/", {"room_name": room.name, "username": "ada"})
    count = limits.LIMITS["message"][0]
    for n in range(count):
        assert client.post(room.get_absolute_url(), {"message": f"m{n}"}).status_code == 303
    response = client.post(room.get_absolute_url(), {"message": "one too many"})
    assert response.status_code == 429
    assert "Slow down" in response.content.decode()
    assert 'value="one too many"' in response.content.decode()


def test_too_many_joins_from_one_address(client, settings):
    count = settings.RATE_LIMITS_PER_ADDRESS["join"][0]
    for n in range(count):
        client.post("/", {"room_name": f"room {n}", "username": "ada"})
    response = client.post("/", {"room_name": "one more", "username": "ada"})
    assert response.status_code == 429
    assert "Too many joins" in response.content.decode()


def test_too_many_sign_ups_from_one_address(client, settings):
    count = settings.RATE_LIMITS_PER_ADDRESS["signup"][0]
    for n in range(count):
        client.post("/accounts/signup/", {"username": f"user{n}"})
    response = client.post(
        "/accounts/signup/",
        {"username": "late", "password1": "a long one", "password2": "a long one"},
    )
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "on"), [("off", False), ("OFF", False), ("", True), ("on", True)]
)
def test_rate_limits_env_switch(value, on):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "x"}
    env["RATE_LIMITS"] = value
    code = "from django.conf import settings; print(settings.RATE_LIMITS, settings.AXES_ENABLED)"
    result = run_python(env, "-c", code, check=True)
    # Login throttling (django-axes) follows the same switch.
    assert result.stdout.split() == [str(on), str(on)]
