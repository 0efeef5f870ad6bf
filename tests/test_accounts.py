"""Members and guests: accounts, names nobody else can take, sockets that end with identity."""

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import User

from rooms.models import Message, Room

from .helpers import frame, receive_message, socket_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_logs_in_and_joins_under_the_username(client):
    page = client.get("/accounts/signup/").content.decode()
    assert 'name="username"' in page and 'name="password1"' in page
    response = client.post(
        "/accounts/signup/",
        {"username": "grace", "password1": "a long passphrase", "password2": "a long passphrase"},
    )
    assert response.status_code == 303
    assert "You join as <strong>grace</strong>" in client.get("/").content.decode()
    assert client.post("/", {"room_name": "Members"}).status_code == 303
    page = client.get("/rooms/members/").content.decode()
    assert "You are <strong>grace</strong> ·" in page  # no guest badge
    client.post("/rooms/members/", {"message": "hello as a member"})
    assert Message.objects.values_list("author", "guest").get() == ("grace", False)


def test_logging_in_or_signing_up_from_a_room_comes_back_to_it(client, room):
    client.post("/", {"room_name": room.name, "username": "ada"})
    page = client.get("/rooms/django-girls/").content.decode()
    assert 'href="/accounts/login/?next=/rooms/django-girls/"' in page
    assert 'href="/accounts/signup/?next=/rooms/django-girls/"' in page
    form = client.get("/accounts/signup/?next=/rooms/django-girls/").content.decode()
    assert 'name="next" value="/rooms/django-girls/"' in form
    assert 'href="/accounts/login/?next=/rooms/django-girls/"' in form
    response = client.post(
        "/accounts/signup/",
        {
            "username": "grace",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
            "next": "/rooms/django-girls/",
        },
    )
    assert response.status_code == 303 and response["Location"] == "/rooms/django-girls/"
    assert "You are <strong>grace</strong>" in client.get("/rooms/django-girls/").content.decode()
    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/",
        {"username": "grace", "password": "a long passphrase", "next": "/rooms/django-girls/"},
    )
    assert response["Location"] == "/rooms/django-girls/"


@pytest.mark.parametrize("next_url", ["https://elsewhere.example/", "//elsewhere.example/", ""])
def test_signing_up_never_leaves_the_site(client, next_url):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "grace",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
            "next": next_url,
        },
    )
    assert response.status_code == 303 and response["Location"] == "/"


def test_sign_up_errors_are_per_field(client):
    User.objects.create_user("grace", password="x")
    response = client.post(
        "/accounts/signup/", {"username": "grace", "password1": "short", "password2": "other"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "username" in errors and "password2" in errors


@pytest.mark.parametrize("name", ["grace", "GRACE", " Grace "])
def test_guests_cannot_take_a_members_name(client, name):
    User.objects.create_user("grace", password="x")
    response = client.post("/", {"room_name": "lobby", "username": name})
    assert response.status_code == 400
    assert "belongs to a member" in response.context["form"].errors["username"][0]


def test_guests_are_marked_wherever_their_name_shows(client):
    client.post("/", {"room_name": "Marks", "username": "ada"})
    client.post("/rooms/marks/", {"message": "guest words"})
    page = client.get("/rooms/marks/").content.decode()
    # "You are ada (guest)", ada among who is here, and the message.
    assert page.count('<span class="badge"') == 3


def test_log_in_and_log_out(client):
    User.objects.create_user("grace", password="a long passphrase")
    assert 'name="password"' in client.get("/accounts/login/").content.decode()
    response = client.post(
        "/accounts/login/", {"username": "grace", "password": "a long passphrase"}
    )
    assert response.status_code == 302
    assert "Signed in as <strong>grace</strong>" in client.get("/").content.decode()
    assert client.post("/accounts/logout/").status_code == 302
    assert "Log in" in client.get("/").content.decode()


async def test_logging_out_closes_that_members_sockets(client):
    await database_sync_to_async(User.objects.create_user)("grace", password="x")
    await database_sync_to_async(Room.objects.for_name)("Leaving")
    await database_sync_to_async(client.login)(username="grace", password="x")
    socket = socket_for(client, "leaving")
    assert (await socket.connect())[0]
    await database_sync_to_async(client.post)("/accounts/logout/")
    told = await socket.receive_output(timeout=5)
    assert "You left this room in another tab" in told["text"]
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4001


async def test_renaming_closes_the_sockets_opened_under_the_old_name(client):
    await database_sync_to_async(client.post)("/", {"room_name": "Rename", "username": "ada"})
    socket = socket_for(client, "rename")
    assert (await socket.connect())[0]
    await database_sync_to_async(client.post)("/", {"room_name": "Rename", "username": "eve"})
    told = await socket.receive_output(timeout=5)
    assert "You are now <strong>eve</strong>" in told["text"]
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4001


async def test_a_members_socket_posts_as_the_member():

    user = await database_sync_to_async(User.objects.create_user)("grace", password="x")
    await database_sync_to_async(Room.objects.for_name)("Member Socket")
    from django.test import Client

    client = Client()
    await database_sync_to_async(client.force_login)(user)
    socket = socket_for(client, "member-socket")
    assert (await socket.connect())[0]
    await socket.send_to(frame("from a member", author="mallory"))
    push = await receive_message(socket)
    assert ">grace<" in push and "badge" not in push
    assert await database_sync_to_async(
        lambda: list(Message.objects.values_list("author", "guest"))
    )() == [("grace", False)]
    await socket.disconnect()


async def test_a_workshop_link_from_another_site_renames_nobody_and_closes_no_socket(client):

    await database_sync_to_async(client.post)("/", {"room_name": "Workshop", "username": "ada"})
    socket = socket_for(client, "workshop")
    assert (await socket.connect())[0]
    # Another site sends the browser (with its cookies) to a workshop link.
    response = await database_sync_to_async(client.get)(
        "/room/Workshop/I am a fool/", headers={"sec-fetch-site": "cross-site"}
    )
    assert response.status_code == 200
    assert 'value="I am a fool"' in response.content.decode()  # only offered, not taken
    page = (await database_sync_to_async(client.get)("/rooms/workshop/")).content.decode()
    assert "You are <strong>ada</strong>" in page
    # The socket is still open and still speaks as ada: its next message comes back.
    await socket.send_to(frame("still me"))
    push = await receive_message(socket)
    assert "still me" in push and ">ada<" in push
    await socket.disconnect()


@pytest.fixture
def logins_limited(settings):
    settings.RATE_LIMITS = True
    settings.AXES_ENABLED = True


def log_in(client, path: str, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_guessing_one_accounts_password_locks_it_with_a_page_that_says_how_long(
    logins_limited, client, path
):
    User.objects.create_user("grace", password="a long passphrase", is_staff=True)
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        # From a new address each time: the account itself is counted.
        response = log_in(client, path, "grace", f"guess {n}", f"198.51.100.{n}")
        assert response.status_code == 200
    response = log_in(client, path, "grace", "one more guess", "198.51.100.99")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts, try again in 15 minutes." in page
    assert '<a class="brand"' in page  # the site's own page
    # Even the right password waits now, from anywhere.
    response = log_in(client, path, "grace", "a long passphrase", "203.0.113.7")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_guessing_many_accounts_from_one_address_locks_that_address(logins_limited, client, path):
    User.objects.create_user("grace", password="a long passphrase", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = log_in(client, path, f"user{n}", "guess", "198.51.100.1")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    response = log_in(client, path, "grace", "a long passphrase", "198.51.100.1")
    assert response.status_code == 429
    # Another address is counted apart, and grace's account was never guessed at.
    response = log_in(client, path, "grace", "a long passphrase", "203.0.113.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="grace").pk)


def test_with_rate_limits_off_logins_are_not_throttled(client):
    # RATE_LIMITS=off (load tests) turns AXES_ENABLED off too: see test_limits.py.
    User.objects.create_user("grace", password="a long passphrase")
    for n in range(settings.AXES_FAILURE_LIMIT + 2):
        assert log_in(client, "/accounts/login/", "grace", f"guess {n}").status_code == 200
    assert log_in(client, "/accounts/login/", "grace", "a long passphrase").status_code == 302


@pytest.mark.parametrize("path", LOGIN_PAGES)
async def test_the_lockout_page_is_the_same_under_asgi(logins_limited, async_client, path):
    """The server runs the middleware chain asynchronously: django-axes' other path."""
    await database_sync_to_async(User.objects.create_user)("grace", password="a long passphrase")
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = await async_client.post(path, {"username": "grace", "password": f"guess {n}"})
    assert response.status_code == 429
    assert "Too many attempts, try again in 15 minutes." in response.content.decode()
