"""Every template and partial renders with sample data, so a broken template fails here."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory

from rooms import broadcast, history, reacting
from rooms.forms import AboutForm, JoinForm, MessageForm
from rooms.identity import Identity
from rooms.live.presence import Here, Person
from rooms.lobby import Card
from rooms.mentions import Candidate
from rooms.models import Attachment, Message, Reaction, Room
from rooms.reading import Entry
from rooms.search import search

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def sample(db):
    room = Room.objects.for_name("Sample <Room>")
    message = room.post("ada <3", "hello & <welcome>")
    # A picture and a file on it (rooms/_attachments.html), their names as typed.
    picture = {"thumbnail": "t", "width": 480, "height": 240, "content_type": "image/png"}
    Attachment.objects.create(message=message, file="p", name="cat <1>.png", size=9, **picture)
    Attachment.objects.create(message=message, file="f", name="a&b.pdf", size=2048)
    Reaction.objects.create(message=message, text="<b>", author="bob <i>", author_key="guest.b")
    message = room.messages.drawn().get(pk=message.pk)
    request = RequestFactory().get("/")
    request.session = {}
    request.user = AnonymousUser()
    form = MessageForm({"message": "draft"})
    form.is_valid()
    form.add_error(None, "Slow down")
    room.topic, room.description = "tea & <cake>", "for <everyone>"
    card = Card(room=room, here=2, newest=message, listed=True)
    # A conversation as rooms/direct.py conversations_of lists it: the others' names.
    conversation = Room(slug="bob-i-0a1b2c3d4e", name="bob <i>", kind=Room.Kind.DIRECT)
    conversation.people = ["bob <i>", "carol"]
    return {
        "request": request,
        "room": room,
        "message": message,
        "history": [message],
        "page": history.latest(room),
        "day": message.created,
        "me": Identity("ada <3", guest=True, key="session.x"),
        "me_tag": message.author_tag,
        "form": form,
        "field": JoinForm()["room_name"],
        "value": "draft",
        "messages": [message],
        "cursor": message.seq,
        "error": "Something went wrong",
        "csp_nonce": "n0nce",
        "here": Here((Person("ada <3", True), Person("bob", False)), count=60),
        "person": Person("ada <3", True),
        "card": card,
        "cards": [card, Card(room=room, here=0, newest=None, listed=False)],
        "lobby": [card],
        "conversations": [conversation],
        "about_form": AboutForm(initial={"topic": room.topic}),
        "title": "Edit a message",
        "form_template": "rooms/_message_edit.html",
        "people": [Candidate("bob", here=True), Candidate("bea", here=False)],
        "quoted": message,
        "reply": message,
        "picker": reacting.PICKER,
        "q": "hello <",
        "results": search("hello"),
        "hit": search("hello").hits[0],
        # The sidebar (rooms/_my_rooms.html): one room with unread messages, one mention.
        "entry": Entry(room, unread=3, mentioned=True),
        "my_rooms": [Entry(room, unread=3, mentioned=True), Entry(room, 0, False, current=True)],
        "room_id": room.pk,
    }


def all_templates() -> list[str]:
    return sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check():
    assert {"base.html", "rooms/room.html", "rooms/_message.html"} <= set(all_templates())


@pytest.mark.parametrize("name", all_templates())
def test_every_template_renders_with_sample_data(sample, name):
    template = get_template(name)
    html = template.render(sample, sample["request"])
    assert "<script>" not in html.replace("<script src=", "")
    if name != "rooms/push.html":
        assert html.strip()


@pytest.mark.parametrize(
    "partial",
    [
        "messages", "error", "sent", "unchanged",
        "presence", "typing", "about", "about_error", "room_cards",
    ],
)  # fmt: skip
def test_every_push_partial_renders(sample, partial):
    html = broadcast.render_push(partial, **sample)
    assert 'hx-swap-oob="' in html


def test_the_page_and_the_push_draw_a_message_with_the_same_partial(sample):
    new = sample["room"].post("ada <3", "hello & <welcome>")  # new: pushed to be added
    alone = render_to_string("rooms/_message.html", {"message": new}).strip()
    push = broadcast.render_messages([new])
    assert alone in push
    assert "hello &amp; &lt;welcome&gt;" in alone
    assert "ada &lt;3" in alone


def test_message_ids_are_stable(sample):
    message: Message = sample["message"]
    html = broadcast.render_messages([message])
    assert f'id="message-{message.pk}"' in html


def test_live_partials_escape_what_people_typed(sample):
    for partial in ("presence", "typing", "about", "room_cards"):
        html = broadcast.render_push(partial, **sample)
        assert "<3" not in html and "<cake>" not in html and "<welcome>" not in html
    assert "and 58 more" in broadcast.render_push("presence", **sample)
    assert "tea &amp; &lt;cake&gt;" in broadcast.render_push("about", **sample)


SPOOF = "payment to \u202eRUE 0001\u202c done"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidi_controls_are_left_out_wherever_user_text_is_drawn(sample):
    """An override would make "RUE 0001" read "1000 EUR"; the record keeps the text as sent."""
    room, message = sample["room"], sample["room"].post("ada", SPOOF + " \u2067x\u2069")
    room.topic, room.description = SPOOF, SPOOF
    card = Card(room=room, here=1, newest=message, listed=True)
    drawn = {
        "message": render_to_string("rooms/_message.html", {"message": message}),
        "about": broadcast.render_push("about", room=room),
        "card": broadcast.render_push("room_cards", cards=[card]),
    }
    for where, html in drawn.items():
        assert "payment to RUE 0001 done" in html, where
        assert not set(BIDI_CONTROLS) & set(html), where
    assert Message.objects.get(pk=message.pk).body == SPOOF + " \u2067x\u2069"


def test_a_conversations_names_are_escaped_and_isolated(sample):
    html = render_to_string("rooms/_conversations.html", sample)
    assert (
        '<a class="conversations__link" href="/rooms/bob-i-0a1b2c3d4e/">'
        '<span class="conversations__name" dir="auto">bob &lt;i&gt;</span>, '
        '<span class="conversations__name" dir="auto">carol</span></a>'
    ) in html


def test_user_text_is_isolated_in_its_own_direction(sample):
    message = render_to_string("rooms/_message.html", {"message": sample["message"]})
    assert '<span class="message__author" dir="auto">ada &lt;3</span>' in message
    assert (
        '<div class="message__body" dir="auto"><p>hello &amp; &lt;welcome&gt;</p></div>' in message
    )
    about = broadcast.render_push("about", **sample)
    assert '<p class="room__description" dir="auto">for &lt;everyone&gt;</p>' in about
    assert '<span class="room__topic-text" dir="auto">tea &amp; &lt;cake&gt;</span>' in about
    card = broadcast.render_push("room_cards", **sample)
    assert '<h3 class="room-card__name" dir="auto">' in card
    assert '<span class="room-card__author" dir="auto">ada &lt;3</span>' in card


@pytest.mark.parametrize(
    ("text", "folds"),
    [
        ("short", False),
        ("line\n" * 12, False),
        ("line\n" * 13, True),
        ("line\n" * 300, True),
        ("x" * 12 * 80, False),
        ("x" * (12 * 80 + 1), True),
        ("a paragraph of words " * 95, True),
    ],
    ids=["short", "12-lines", "13-lines", "300-lines", "12-wrapped", "13-wrapped", "prose"],
)
def test_only_long_messages_fold_behind_show_more(sample, text, folds):
    message = sample["room"].post("ada", text)
    html = render_to_string("rooms/_message.html", {"message": message})
    assert ("<summary>" in html and "Show more" in html) is folds
    # Decided from the text alone: every page and every push get the same bytes.
    assert html == broadcast.draw_message(message)
