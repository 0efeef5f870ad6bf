"""Every template and partial renders with sample data, so a broken template fails here."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template, render_to_string
from django.test import RequestFactory

from rooms import broadcast
from rooms.forms import JoinForm, MessageForm
from rooms.identity import Identity
from rooms.models import Message, Room

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
    return {
        "request": request,
        "room": room,
        "message": message,
        "history": [message],
        "me": Identity("ada <3", guest=True, key="session.x"),
        "me_tag": message.author_tag,
        "form": form,
        "field": JoinForm()["room_name"],
        "value": "draft",
        "messages": [message],
        "cursor": message.seq,
        "error": "Something went wrong",
        "csp_nonce": "n0nce",
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


@pytest.mark.parametrize("partial", ["messages", "error", "sent", "unchanged"])
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
