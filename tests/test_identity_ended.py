"""A page drawn for a name this browser no longer has never sends under another one.

The page carries who it was drawn for (rooms/identity.py page_tag): its socket's URL and
its plain form send it back, and the server refuses both, with an explanation, when the
session now holds someone else. The browser side is in tests/test_browser_connection.py.
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from rooms.consumers import CLOSE_IDENTITY_ENDED
from rooms.identity import GUEST_KEY
from rooms.models import Message, Room, author_tag

from .helpers import box_text, make_session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

# The guest key of the ada the pages were drawn for.
ADA_KEY = "ada-page-key"
ADA = author_tag(f"guest.{ADA_KEY}")


async def socket_drawn_for(tag: str, session_name: str | None) -> WebsocketCommunicator:
    """A room socket from a page drawn for `tag`, in a browser whose session is now
    `session_name` (None: nobody, as after logging out)."""
    from config.asgi import application

    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    guest_key = ADA_KEY if session_name == "ada" else None
    key = await database_sync_to_async(make_session)(session_name, guest_key)
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"origin", b"http://127.0.0.1:8000"),
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()),
    ]
    return WebsocketCommunicator(
        application, f"/ws/rooms/django-girls/?identity={tag}", headers=headers
    )


async def test_a_page_drawn_for_an_old_name_learns_the_new_one_and_is_closed():
    socket = await socket_drawn_for(ADA, "bob")
    assert (await socket.connect())[0]
    told = await socket.receive_from()
    assert 'id="identity-ended"' in told and "You are now <strong>bob</strong>" in told
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == CLOSE_IDENTITY_ENDED


async def test_a_page_whose_person_left_is_told_and_closed():
    socket = await socket_drawn_for(ADA, None)
    assert (await socket.connect())[0]
    told = await socket.receive_from()
    assert "You left this room in another tab" in told
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == CLOSE_IDENTITY_ENDED


async def test_a_page_drawn_for_the_sessions_name_connects_and_posts():
    socket = await socket_drawn_for(ADA, "ada")
    assert (await socket.connect())[0]
    await socket.send_json_to({"message": "still ada", "identity": ADA})
    while "still ada" not in (push := await socket.receive_from()):
        pass
    assert ">ada<" in push
    await socket.disconnect()


@pytest.fixture
def renamed(client, db):
    """A browser that drew the room as ada, then became bob in another tab."""
    client.post("/", {"room_name": "Django Girls", "username": "ada"})
    client.post("/", {"room_name": "Django Girls", "username": "bob"})
    return client


def test_a_plain_post_from_a_page_of_the_old_name_is_refused_and_kept(renamed):
    text = "typed as ada"
    response = renamed.post("/rooms/django-girls/", {"message": text, "identity": ADA})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not sent: you are now bob in this browser" in page
    assert box_text(page) == text  # back in the box of a page that says "You are bob"
    assert "You are <strong>bob</strong>" in page
    assert not Message.objects.exists()


def test_a_plain_post_after_leaving_is_refused_and_the_text_shown(client, db):
    Room.objects.for_name("Django Girls")
    response = client.post(
        "/rooms/django-girls/", {"message": "typed before leaving", "identity": ADA}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your message was not sent" in page and "typed before leaving" in page
    assert "/?room=Django%20Girls" in page
    assert not Message.objects.exists()


def test_a_plain_post_from_a_page_of_the_sessions_name_is_posted(renamed):
    bob = author_tag(f"guest.{renamed.session[GUEST_KEY]}")
    response = renamed.post("/rooms/django-girls/", {"message": "as bob", "identity": bob})
    assert response.status_code == 303
    assert list(Message.objects.values_list("author", "body")) == [("bob", "as bob")]
