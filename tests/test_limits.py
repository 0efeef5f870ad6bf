"""Rate limits: refused visibly, counted per person across sockets, off with RATE_LIMITS=off."""

import asyncio
import http.cookiejar
import itertools
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import Client

from rooms import limits
from rooms.models import Message

from .helpers import box_text, frame, make_room, make_session, open_socket
from .servers import Server, cookie_header, run_python

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def limits_on(rate_limited):
    pass


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
    tabs = [second, socket]
    for n in range(count + 3):
        await tabs[n % 2].send_to(frame(f"message {n}"))
    # Each tab answers each of its messages (an acknowledgement or a refusal), in order.
    for index, tab in enumerate(tabs):
        answers = len(range(index, count + 3, 2))
        while answers:
            reply = await tab.receive_from()
            if 'id="composer-error"' in reply:
                replies.append(reply)
                answers -= 1
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
    assert box_text(response.content.decode()) == "one too many"


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


# Small allowances per address, so a test needs only a few fresh names to use one up.
PER_ADDRESS = {"message": (4, 10), "about": (3, 60), "typing": (3, 2), "join": (3, 60)}
HERE, THERE, ELSEWHERE = "198.51.100.7", "203.0.113.9", "192.0.2.44"
# Addresses that each do one thing to set a test up.
SETUP_ADDRESSES = (f"2001:db8:{n:x}::1" for n in itertools.count(1))


@pytest.fixture
def small_address_limits(settings):
    settings.RATE_LIMITS_PER_ADDRESS = {**settings.RATE_LIMITS_PER_ADDRESS, **PER_ADDRESS}


def fresh_guest(name: str) -> Client:
    """A browser that joined as `name` (its session made directly: no join counted)."""
    browser = Client()
    browser.cookies[django_settings.SESSION_COOKIE_NAME] = make_session(name)
    return browser


def post_message(browser: Client, room, text: str, address: str):
    return browser.post(room.get_absolute_url(), {"message": text}, REMOTE_ADDR=address)


def edit_message(browser: Client, room, text: str, address: str):
    """Post a message from elsewhere, then edit it from `address`: only the edit counts there."""
    assert post_message(browser, room, "first words", next(SETUP_ADDRESSES)).status_code == 303
    pk = Message.objects.filter(body="first words").latest("pk").pk
    url = f"{room.get_absolute_url()}messages/{pk}/edit/"
    return browser.post(url, {"message": text}, REMOTE_ADDR=address)


def change_topic(browser: Client, room, text: str, address: str):
    return browser.post(f"{room.get_absolute_url()}about/", {"topic": text}, REMOTE_ADDR=address)


@pytest.mark.parametrize(
    ("act", "action"),
    [(post_message, "message"), (edit_message, "message"), (change_topic, "about")],
)
def test_fresh_names_from_one_address_share_its_allowance(small_address_limits, room, act, action):
    count = PER_ADDRESS[action][0]
    for n in range(count):
        # A new name each time: no person comes near their own limit.
        assert act(fresh_guest(f"guest{n}"), room, f"words {n}", HERE).status_code == 303
    response = act(fresh_guest("one more"), room, "over the limit", HERE)
    assert response.status_code == 429
    assert limits.ADDRESS_REFUSALS[action] in response.content.decode()
    # Another address has its own allowance.
    assert act(fresh_guest("elsewhere"), room, "from there", THERE).status_code == 303


def join_from(address: str, name: str):
    return Client().post("/", {"room_name": "Busy", "username": name}, REMOTE_ADDR=address)


def sign_up_from(address: str, name: str):
    data = {"username": name, "password1": "a long passphrase", "password2": "a long passphrase"}
    return Client().post("/accounts/signup/", data, REMOTE_ADDR=address)


@pytest.mark.parametrize(("act", "action"), [(join_from, "join"), (sign_up_from, "signup")])
def test_joins_and_sign_ups_are_counted_per_address(small_address_limits, settings, act, action):
    count = settings.RATE_LIMITS_PER_ADDRESS[action][0]
    for n in range(count):
        assert act(HERE, f"name{n}").status_code == 303
    response = act(HERE, "late")
    assert response.status_code == 429
    assert limits.ADDRESS_REFUSALS[action] in response.content.decode()
    assert act(THERE, "fromthere").status_code == 303


def test_past_the_join_limit_the_workshop_link_gets_nobody_in(small_address_limits, room):
    for n in range(PER_ADDRESS["join"][0]):
        join_from(HERE, f"name{n}")
    browser = Client()
    page = browser.get("/room/Django Girls/bob/", REMOTE_ADDR=HERE)
    assert 'value="bob"' in page.content.decode()
    response = browser.post("/", {"room_name": "Django Girls", "username": "bob"}, REMOTE_ADDR=HERE)
    assert response.status_code == 429
    assert "Too many joins" in response.content.decode()
    assert browser.get("/rooms/django-girls/").status_code == 302  # not in


async def socket_from(address: str, name: str, slug: str = "django-girls"):
    socket = await open_socket(slug, name)
    socket.scope["client"] = (address, 50000)
    assert (await socket.connect())[0]
    return socket


async def test_fresh_names_on_sockets_from_one_address_share_its_message_allowance(
    small_address_limits,
):
    await make_room()
    count = PER_ADDRESS["message"][0]
    sockets = [await socket_from(HERE, f"guest{n}") for n in range(count + 1)]
    for n, socket in enumerate(sockets[:count]):
        await socket.send_to(frame(f"words {n}"))
        await push_with(socket, f"words {n}")
    await sockets[-1].send_to(frame("over the limit"))
    refusal = await push_with(sockets[-1], "over the limit")
    assert limits.ADDRESS_REFUSALS["message"] in refusal
    assert 'id="message-input"' in refusal  # the text is back in the box
    there = await socket_from(THERE, "elsewhere")
    await there.send_to(frame("from there"))
    await push_with(there, "from there")
    assert await stored() == count + 1
    for socket in [*sockets, there]:
        await socket.disconnect()


async def push_with(socket, text: str) -> str:
    """The first push that carries `text` (every socket hears every message in the room)."""
    while True:
        push = await socket.receive_from()
        if text in push:
            return push


async def next_cue_or_message(watcher) -> str:
    while True:
        push = await watcher.receive_from()
        if "is typing" in push or "beforeend:#messages" in push:
            return push


async def test_typing_cues_are_limited_per_person_and_per_address(small_address_limits):
    await make_room()
    watcher = await socket_from(ELSEWHERE, "watcher")
    # One person's cues count across all their sockets.
    ada = await socket_from(HERE, "ada")
    second_tab = await open_socket("django-girls", "ada")
    second_tab.scope["headers"] = ada.scope["headers"]
    second_tab.scope["client"] = (HERE, 50001)
    assert (await second_tab.connect())[0]
    await ada.send_to(json.dumps({"typing": "1"}))
    assert "ada is typing" in await next_cue_or_message(watcher)
    await second_tab.send_to(json.dumps({"typing": "1"}))
    await second_tab.send_to(frame("marker one"))
    assert "marker one" in await next_cue_or_message(watcher)  # no second cue before it
    # Fresh names from one address share its allowance (ada's cue counted there too).
    count = PER_ADDRESS["typing"][0]
    guests = [await socket_from(HERE, f"guest{n}") for n in range(count)]
    for n, guest in enumerate(guests[:-1]):
        await guest.send_to(json.dumps({"typing": "1"}))
        assert f"guest{n} is typing" in await next_cue_or_message(watcher)
    await guests[-1].send_to(json.dumps({"typing": "1"}))
    await guests[-1].send_to(frame("marker two"))
    assert "marker two" in await next_cue_or_message(watcher)
    # Another address is counted apart.
    there = await socket_from(THERE, "elsewhere")
    await there.send_to(json.dumps({"typing": "1"}))
    assert "elsewhere is typing" in await next_cue_or_message(watcher)
    for socket in [watcher, ada, second_tab, *guests, there]:
        await socket.disconnect()


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::2", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(address, counted_as):
    assert limits.network(address) == counted_as


class ServeCommand(Server):
    """`manage.py serve` itself, started the way deployments start it."""

    def command(self) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        return [sys.executable, "manage.py", "serve", *where]


def join_through_proxy(base_url: str, name: str, forwarded_for: str):
    """Join through the real form, the request carrying X-Forwarded-For as nginx sends it.
    Returns the final status and the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("X-Forwarded-For", forwarded_for)]
    page = opener.open(base_url + "/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "room_name": "Behind the proxy", "username": name}
    ).encode()
    try:
        status = opener.open(urllib.request.Request(base_url + "/", data=body)).status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, jar


async def say_through_proxy(server: Server, cookies, forwarded_for: str, text: str) -> bool:
    """Post over a socket opened through the proxy; True when the room got the message."""
    async with websockets.connect(
        server.url.replace("http", "ws") + "/ws/rooms/behind-the-proxy/",
        origin=server.url,
        additional_headers={"Cookie": cookie_header(cookies), "X-Forwarded-For": forwarded_for},
    ) as socket:
        await socket.send(frame(text))
        while True:
            reply = await socket.recv()
            if "beforeend:#messages" in reply and text in reply:
                return True
            if limits.ADDRESS_REFUSALS["message"] in reply:
                return False


@pytest.mark.parametrize(("proxies", "trusted"), [(None, True), ("192.0.2.1", False)])
async def test_the_client_address_comes_from_the_proxy_only_when_it_is_trusted(
    server_env, proxies, trusted
):
    """A real `manage.py serve`: pages and sockets count the X-Forwarded-For address when
    the connection comes from a trusted proxy (loopback by default), their own otherwise."""
    env = {key: value for key, value in server_env.items() if key != "REDIS_URL"}
    # Counts of this process alone (no shared Redis), in day-long windows.
    env.update(RATE_LIMITS="on", RATE_LIMITS_PER_ADDRESS="join=2/86400,message=1/86400")
    env.pop("FORWARDED_ALLOW_IPS", None)
    if proxies is not None:
        env["FORWARDED_ALLOW_IPS"] = proxies
    server = await asyncio.to_thread(ServeCommand(env).start)
    try:
        one, other = "198.51.100.20", "203.0.113.30"
        status, ada = await asyncio.to_thread(join_through_proxy, server.url, "ada", one)
        assert status == 200
        status, cy = await asyncio.to_thread(join_through_proxy, server.url, "cy", one)
        assert status == 200
        status, _ = await asyncio.to_thread(join_through_proxy, server.url, "dee", one)
        assert status == 429  # the first address has used its joins
        status, _ = await asyncio.to_thread(join_through_proxy, server.url, "bob", other)
        assert status == (200 if trusted else 429)
        # Sockets alike: one message per address.
        assert await say_through_proxy(server, ada, one, "from the first address")
        assert await say_through_proxy(server, cy, other, "from the second") is trusted
    finally:
        server.stop()
