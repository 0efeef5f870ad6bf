"""What the message box offers after "@": people here now first, then recent authors."""

import re
import time

import pytest
from asgiref.sync import async_to_sync

from rooms.identity import Identity
from rooms.live import presence
from rooms.models import Room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def nobody_here():
    presence.store().clear()


def offered(page) -> list[str]:
    return re.findall(r'data-name="([^"]*)"', page.content.decode())


@pytest.fixture
def chatty(room: Room) -> Room:
    for number, name in enumerate(["bob", "Bea", "cleo", "Ada Lovelace", "<b>bo", "bob", "ada"]):
        room.post(name, f"message {number}", author_key=f"guest.{number}")
    return room


def test_recent_authors_by_the_start_of_their_name_newest_first(joined, chatty):
    assert offered(joined.get("/rooms/django-girls/people/?q=b")) == ["bob", "Bea"]
    assert offered(joined.get("/rooms/django-girls/people/?q=BE")) == ["Bea"]
    # Everyone that can be mentioned (no spaces), never the viewer (ada) herself.
    assert offered(joined.get("/rooms/django-girls/people/?q=")) == ["bob", "cleo", "Bea"]
    assert offered(joined.get("/rooms/django-girls/people/?q=zz")) == []


def test_people_here_now_come_first(joined, chatty):
    cleo = Identity("cleo", guest=True, key="guest.9")
    until = time.time() + 60
    async_to_sync(presence.store().aadd)(chatty.pk, presence.entry("socket-1", cleo), until)
    page = joined.get("/rooms/django-girls/people/?q=")
    assert offered(page) == ["cleo", "bob", "Bea"]
    assert page.content.decode().count("here now") == 1


def test_the_list_is_options_and_names_are_escaped(joined, room):
    room.post("x<b>", "hi", author_key="guest.x")
    page = joined.get("/rooms/django-girls/people/?q=").content.decode()
    assert page.strip() == ""  # "x<b>" cannot be mentioned: @ spells names without "<"
    room.post("zoë", "hi", author_key="guest.z")
    page = joined.get("/rooms/django-girls/people/?q=Z").content.decode()
    assert '<li role="option" id="mention-option-1"' in page and 'data-name="zoë"' in page


def test_only_people_in_the_room_may_ask(client, room):
    assert client.get("/rooms/django-girls/people/?q=a").status_code == 403
    assert client.get("/rooms/nowhere/people/?q=a").status_code == 404


def test_at_most_eight(joined, room):
    for number in range(12):
        room.post(f"p{number}", "hi", author_key=f"guest.{number}")
    assert len(offered(joined.get("/rooms/django-girls/people/?q=p"))) == 8
