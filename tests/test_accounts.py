"""Members and guests: accounts, names nobody else can take, sockets that end with identity."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User

from rooms.models import Message, Room

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
    from .test_consumer import frame, receive_message

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
