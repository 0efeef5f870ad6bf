"""Every template and partial renders with sample data, so a broken template fails here."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory

from rooms import broadcast, history
from rooms.forms import AboutForm, JoinForm, MessageForm
from rooms.identity import Identity
from rooms.lobby import Card
from rooms.models import Message, Room
from rooms.presence import Here, Person

TEMPLATES = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def sample(db):
    room = Room.objects.for_name("Sample <Room>")
    message = room.post("ada <3", "hello & <welcome>")
    request = RequestFactory().get("/")
    request.session = {}
    request.user = AnonymousUser()
    form = MessageForm({"message": "draft"})
    form.is_valid()
    form.add_error(None, "Slow down")
    room.topic, room.description = "tea & <cake>", "for <everyone>"
    card = Card(room=room, here=2, newest=message, listed=True)
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
        "about_form": AboutForm(initial={"topic": room.topic}),
        "title": "Edit a message",
        "form_template": "rooms/_message_edit.html",
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
    alone = render_to_string("rooms/_message.html", {"message": sample["message"]}).strip()
    push = broadcast.render_messages([sample["message"]])
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
