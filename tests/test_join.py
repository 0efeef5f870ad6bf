"""Joining: the form, its errors, the workshop URL, and the room page."""

import pytest
from django.core.exceptions import ValidationError

from rooms.identity import GUEST_KEY
from rooms.models import Message, Room, author_tag

from .helpers import box_text

pytestmark = pytest.mark.django_db


def test_join_form_has_the_public_fields(client):
    page = client.get("/").content.decode()
    assert 'name="room_name"' in page
    assert 'name="username"' in page
    assert "csrfmiddlewaretoken" in page


def test_join_creates_room_remembers_name_and_redirects(client):
    response = client.post("/", {"room_name": "Django Girls", "username": "ada"})
    assert response.status_code == 303
    assert response["Location"] == "/rooms/django-girls/"
    assert Room.objects.get(slug="django-girls").name == "Django Girls"
    page = client.get("/rooms/django-girls/").content.decode()
    assert "You are <strong>ada</strong>" in page


def test_joining_an_existing_room_reuses_it(client):
    client.post("/", {"room_name": "Django Girls", "username": "ada"})
    client.post("/", {"room_name": "django girls", "username": "bob"})
    assert Room.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"room_name": "", "username": "ada"}, "room_name", "Name the room you want to join."),
        ({"room_name": "lobby", "username": "  "}, "username", "Tell the room who you are."),
        ({"room_name": "!!! ???", "username": "ada"}, "room_name", "at least one letter or digit"),
        ({"room_name": "x" * 61, "username": "ada"}, "room_name", "at most 60 characters"),
        # One ligature is one character of name but three of address ("ffi").
        ({"room_name": "\ufb03" * 60, "username": "ada"}, "room_name", "use a shorter name"),
        ({"room_name": "\ufb03" * 21, "username": "ada"}, "room_name", "address of 63"),
        ({"room_name": "lobby", "username": "y" * 41}, "username", "at most 40 characters"),
        ({"room_name": "lobby", "username": "a\x07b"}, "username", "control characters"),
    ],
)
def test_invalid_join_shows_a_message_per_field(client, data, field, text):
    response = client.post("/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert text in errors[field][0]
    assert text.replace("'", "&#x27;") in response.content.decode()
    assert not Room.objects.exists()


def test_a_join_error_keeps_the_lobby_below_the_form(client):
    client.post("/", {"room_name": "Busy Room", "username": "bob"})
    client.post("/rooms/busy-room/", {"message": "hello"})
    response = client.post("/", {"room_name": "", "username": "ada"})
    assert response.status_code == 400
    assert [card.room.name for card in response.context["lobby"]] == ["Busy Room"]
    assert 'id="room-card-busy-room"' in response.content.decode()


def test_text_fields_refuse_long_text_instead_of_cutting_it(client, joined, room):
    """No maxlength anywhere: a browser cuts a paste to it without a word."""
    pages = [client.get("/"), client.get("/accounts/signup/"), joined.get("/rooms/django-girls/")]
    for page in pages:
        assert "maxlength" not in page.content.decode()


def test_a_name_whose_address_just_fits_makes_the_room(client):
    response = client.post("/", {"room_name": "\ufb03" * 20, "username": "ada"})
    assert response["Location"] == f"/rooms/{'ffi' * 20}/"


@pytest.mark.parametrize("name", ["\ufb03" * 60, "\ufb03" * 21, "!!!"], ids=["60", "21", "none"])
def test_the_room_manager_never_stores_a_slug_that_does_not_fit(name):
    with pytest.raises(ValidationError):
        Room.objects.for_name(name)
    assert not Room.objects.exists()


def test_workshop_link_fills_in_the_join_form_and_the_form_joins(client):
    response = client.get("/room/Django Girls/ada/")
    # Following a link changes nothing: it shows the join form, filled in.
    assert response.status_code == 200
    page = response.content.decode()
    assert 'action="/"' in page and "csrfmiddlewaretoken" in page
    assert 'value="Django Girls"' in page and 'value="ada"' in page
    assert not Room.objects.exists()
    assert client.get("/").context["form"]["username"].value() is None  # not joined yet
    # The person's own click does the join.
    response = client.post("/", {"room_name": "Django Girls", "username": "ada"})
    assert response.status_code == 303
    assert response["Location"] == "/rooms/django-girls/"
    assert "You are <strong>ada</strong>" in client.get("/rooms/django-girls/").content.decode()


def test_workshop_link_sends_someone_already_in_under_that_name_to_the_room(joined):
    response = joined.get("/room/django girls/ada/")
    assert response.status_code == 302
    assert response["Location"] == "/rooms/django-girls/"
    # Under another name it asks first.
    response = joined.get("/room/django girls/bob/")
    assert response.status_code == 200 and 'value="bob"' in response.content.decode()
    assert "You are <strong>ada</strong>" in joined.get("/rooms/django-girls/").content.decode()


def test_workshop_url_with_a_bad_room_shows_the_form(client):
    response = client.get("/room/%3F%3F%3F/ada/")
    assert response.status_code == 400
    assert "at least one letter or digit" in response.content.decode()


def test_room_without_a_name_sends_to_the_join_form_with_the_room_filled(client, room):
    response = client.get("/rooms/django-girls/")
    assert response.status_code == 302
    assert response["Location"] == "/?room=Django+Girls"
    page = client.get(response["Location"]).content.decode()
    assert 'value="Django Girls"' in page


def test_unknown_room_is_404(joined):
    assert joined.get("/rooms/nowhere/").status_code == 404


def test_room_page_wires_the_websocket(joined):
    page = joined.get("/rooms/django-girls/").content.decode()
    assert 'hx-ext="ws"' in page
    # The socket says who the page was drawn for (see test_identity_ended.py).
    tag = author_tag(f"guest.{joined.session[GUEST_KEY]}")
    assert f'ws-connect="/ws/rooms/django-girls/?identity={tag}"' in page
    assert "ws-send" in page
    assert 'id="messages" class="messages" role="log" aria-live="polite"' in page
    assert 'name="message"' in page


def test_history_shows_the_last_50_oldest_first(joined, room):
    for n in range(60):
        room.post("bob", f"line {n}")
    page = joined.get("/rooms/django-girls/").content.decode()
    assert "line 9<" not in page
    assert page.index("line 10<") < page.index("line 59<")
    assert page.count('class="message"') == 50
    assert ">bob<" in page


def test_plain_post_stores_and_redirects_after_post(joined, room):
    response = joined.post("/rooms/django-girls/", {"message": "  hello without js  "})
    assert response.status_code == 303
    message = Message.objects.get()
    assert (message.author, message.body) == ("ada", "hello without js")
    assert response["Location"] == f"/rooms/django-girls/#message-{message.pk}"


def test_plain_post_ignores_a_forged_author(joined, room):
    joined.post("/rooms/django-girls/", {"message": "hi", "author": "mallory", "username": "x"})
    assert Message.objects.get().author == "ada"


@pytest.mark.parametrize(
    ("text", "error"),
    [("   ", "Write something before sending."), ("x" * 2001, "at most 2000 characters")],
)
def test_plain_post_refuses_bad_text_and_keeps_it(joined, room, text, error):
    response = joined.post("/rooms/django-girls/", {"message": text})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Message.objects.exists()
    if text.strip():
        assert box_text(response.content.decode()) == text


def test_plain_post_keeps_lines_as_typed(joined, room):
    # Browsers send a textarea's line ends as \r\n; each counts as one character, as on a socket.
    lines = "line one\n\nline three\n"
    text = lines.replace("\n", "\r\n") + "x" * (2000 - len(lines))
    response = joined.post("/rooms/django-girls/", {"message": text})
    assert response.status_code == 303
    body = Message.objects.get().body
    assert body.startswith(lines) and len(body) == 2000
    page = joined.get("/rooms/django-girls/").content.decode()
    assert "<p>line one</p>\n<p>line three<br>\nxxx" in page


def test_plain_post_needs_a_joined_session(client, room):
    response = client.post("/rooms/django-girls/", {"message": "hi"})
    assert response.status_code == 302
    assert not Message.objects.exists()


def test_changing_name_cycles_the_session(client):
    client.post("/", {"room_name": "a", "username": "ada"})
    first = client.session.session_key
    client.post("/", {"room_name": "a", "username": "bob"})
    assert client.session.session_key != first


def test_every_page_answers_head_as_it_answers_get(joined):
    """Link checkers and monitors ask with HEAD; a 405 looks like a broken page."""
    joined.post("/rooms/django-girls/", {"message": "hello"})
    message = Message.objects.get()
    for url in (
        "/",
        "/rooms/django-girls/",
        f"/rooms/django-girls/messages/{message.pk}/edit/",
        f"/rooms/django-girls/messages/{message.pk}/delete/",
        "/accounts/signup/",
    ):
        get, head = joined.get(url), joined.head(url)
        assert (url, head.status_code, head.content) == (url, get.status_code, b"")
        assert get.status_code == 200
