"""Replies and every message's own address: the record, the socket, catch-up and the plain
pages. What people see in a browser is in test_browser_conversation.py."""

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from rooms import editing, history, posting, reacting
from rooms.broadcast import draw_message, draw_page
from rooms.identity import GUEST_KEY, Identity
from rooms.models import Message, Room

from .helpers import box_text, frame, joined, make_room, next_is, receive_message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

ADA = Identity("ada", guest=True, key="guest.ada")
BOB = Identity("bob", guest=True, key="guest.bob")
QUOTE = re.compile(
    r'<a class="quote" href="([^"]*)" data-quote="message-(\d+)"><span class="quote__author" '
    r'dir="auto">([^<]*)</span> <span class="quote__text" dir="auto">(.*?)</span></a>'
)
SEQ = re.compile(r'data-seq="(\d+)"')


def said(room: Room, author: Identity, text: str) -> Message:
    return room.post(author.name, text, guest=author.guest, author_key=author.key)


def quotes(html: str) -> list[tuple[str, int, str, str]]:
    """The quotes drawn in `html`: (link, id of the quoted message, its author, its text)."""
    return [(link, int(pk), author, text) for link, pk, author, text in QUOTE.findall(html)]


def reply_frame(text: str, pk) -> str:
    return frame(text, reply_to=str(pk))


# The record and the drawing.


def test_a_reply_quotes_the_author_and_start_of_what_it_answers(room):
    original = said(room, ADA, "Who brings the <cake>? " + "and more words " * 20)
    reply = posting.post_message(room, BOB, "me!", reply_to=original.pk)
    assert Message.objects.get(pk=reply.pk).reply_to_id == original.pk
    page = history.latest(room)
    ((link, pk, author, text),) = quotes(draw_page(page).html)
    assert (link, pk, author) == (original.get_absolute_url(), original.pk, "ada")
    # The start of its text, escaped, cut to one line's worth.
    assert text.startswith("Who brings the &lt;cake&gt;? and more words")
    assert text.endswith("…") and len(text) < 140


def test_a_reply_to_another_rooms_message_is_refused_and_nothing_is_stored(room):
    elsewhere = said(Room.objects.for_name("Elsewhere"), ADA, "over there")
    with pytest.raises(ValidationError, match="not in this room"):
        posting.post_message(room, BOB, "hi", reply_to=elsewhere.pk)
    with pytest.raises(ValidationError, match="not in this room"):
        posting.post_message(room, BOB, "hi", reply_to=10**12)
    assert not room.messages.exists()


def test_deleting_or_editing_the_original_redraws_its_replies_at_new_revisions(room):
    original = said(room, ADA, "the plan: 6pm")
    reply = posting.post_message(room, BOB, "works for me", reply_to=original.pk)
    edited, _ = editing.edit_message(room, ADA, original.pk, "the plan: 7pm")
    (redrawn,) = edited.replies_redrawn
    assert (redrawn.pk, redrawn.revision) == (reply.pk, edited.revision + 1)
    deleted, _ = editing.delete_message(room, ADA, original.pk)
    (redrawn,) = deleted.replies_redrawn
    room.refresh_from_db()
    assert room.last_revision == redrawn.revision == 6
    # A page that saw revision 2 gets both, the reply quoting a deleted message.
    changes = room.changes_after(2, 10)
    assert [m.pk for m in changes] == [original.pk, reply.pk]
    ((_, pk, author, text),) = quotes(draw_message(changes[1]))
    assert (pk, author, text) == (original.pk, "ada", "<i>Message deleted</i>")
    # A reaction changes no text, and the reply has no replies: nothing else is redrawn.
    reacted, _ = reacting.react(room, ADA, reply.pk, "👍")
    again, _ = editing.edit_message(room, BOB, reply.pk, "works for me!")
    assert reacted.replies_redrawn == again.replies_redrawn == []
    room.refresh_from_db()
    assert room.last_revision == 8


# The socket.


async def test_a_reply_sent_on_the_socket_shows_its_quote_to_everyone():
    room = await make_room()
    original = await database_sync_to_async(said)(room, ADA, "anyone for tea?")
    ada, bob = await joined("ada"), await joined("bob")
    await bob.send_to(reply_frame("yes please", original.pk))
    push = await receive_message(ada)
    assert push == await receive_message(bob)
    assert "yes please" in push
    assert [q[1:] for q in quotes(push)] == [(original.pk, "ada", "anyone for tea?")]
    await ada.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("reply_to", ["abc", "-1", "99999999999999999999", "999999"])
async def test_a_bad_reply_frame_is_refused_on_that_socket_and_keeps_the_text(reply_to):
    room = await make_room()
    await database_sync_to_async(said)(room, ADA, "hi")
    ada, bob = await joined("ada"), await joined("bob")
    await bob.send_to(json.dumps({"message": "my answer", "reply_to": reply_to}))
    reply = await bob.receive_from()
    assert 'id="composer-error"' in reply and "not in this room" in reply
    assert "my answer" in reply  # back in the box: nothing typed is lost
    await bob.send_to(frame("still here"))
    assert "still here" in await receive_message(bob)
    await next_is(ada, "still here")
    await ada.disconnect()
    await bob.disconnect()


async def test_deleting_the_original_is_shown_in_its_replies_live_and_on_catch_up():
    room = await make_room()
    original = await database_sync_to_async(said)(room, ADA, "secret plan")
    reply = await database_sync_to_async(posting.post_message)(
        room, BOB, "nice", reply_to=original.pk
    )
    ada = await joined("ada", guest_key="ada")
    bob = await joined("bob")
    await ada.send_to(json.dumps({"remove": str(original.pk)}))
    pushes = await receive_message(bob)
    while f'id="message-{reply.pk}"' not in pushes:
        pushes += await receive_message(bob)
    assert "secret plan" not in pushes
    # Both in place of the page's copies, never added again.
    for pk in (original.pk, reply.pk):
        assert f'hx-swap-oob="outerHTML:#messages &gt; #message-{pk},' in pushes
    assert "beforeend:#messages" not in pushes
    assert [q[1:] for q in quotes(pushes)] == [(original.pk, "ada", "<i>Message deleted</i>")]
    await bob.disconnect()
    # A page that saw only the two messages catches up with both changes.
    late = await joined("carol")
    await late.send_to(json.dumps({"after": "2"}))
    caught = await late.receive_from()
    assert [int(n) for n in SEQ.findall(caught)] == [1, 2]
    assert [q[1:] for q in quotes(caught)] == [(original.pk, "ada", "<i>Message deleted</i>")]
    await late.disconnect()
    await ada.disconnect()


# Every message's address, and the plain pages.


def fill(room: Room, count: int) -> list[Message]:
    return [said(room, ADA, f"message {n}") for n in range(1, count + 1)]


def shown(html: str) -> list[int]:
    return [int(n) for n in SEQ.findall(html)]


def test_a_messages_address_opens_the_room_around_it_with_and_without_more(joined, room):
    messages = fill(room, 120)
    old = messages[29]  # seq 30
    response = joined.get(old.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == f"/rooms/django-girls/?at=30#message-{old.pk}"
    page = joined.get(response["Location"]).content.decode()
    seqs = shown(page)
    assert 30 in seqs and seqs == list(range(seqs[0], seqs[0] + 50))
    assert seqs[0] < 30 < seqs[-1]
    # Older and newer pages are links, so it reads back and forth without JavaScript.
    assert f"?before={seqs[0]}" in page and f"?after={seqs[-1]}" in page
    assert "Newest messages" in page
    # The newest message's address is the live room.
    newest = joined.get(f"/rooms/django-girls/?at={messages[-1].seq}").content.decode()
    assert shown(newest) == list(range(71, 121)) and "ws-connect" in newest


def test_an_unknown_or_misplaced_message_address_is_not_found(joined, room):
    message = said(room, ADA, "hi")
    Room.objects.for_name("Elsewhere")
    assert joined.get(f"/rooms/django-girls/messages/{message.pk + 99}/").status_code == 404
    assert joined.get(f"/rooms/elsewhere/messages/{message.pk}/").status_code == 404
    # A nonsense page number is no page at all: the newest one.
    assert joined.get("/rooms/django-girls/?at=1e9").status_code == 200


def test_reply_without_javascript_shows_the_quote_above_the_box_and_posts(joined, room):
    original = said(room, BOB, "lunch <now>?")
    page = joined.get(f"/rooms/django-girls/?reply={original.pk}").content.decode()
    bar = page[page.index('id="composer-reply"') :]
    assert f'name="reply_to" value="{original.pk}"' in bar
    assert next(q[1:] for q in quotes(bar)) == (original.pk, "bob", "lunch &lt;now&gt;?")
    response = joined.post(
        room.get_absolute_url(),
        {
            "message": "on my way",
            "reply_to": str(original.pk),
            "identity": re.search(r'name="identity" value="([^"]+)"', page).group(1),
        },
    )
    assert response.status_code == 303
    reply = room.messages.get(body="on my way")
    assert reply.reply_to_id == original.pk and reply.author == "ada"


def test_a_refused_plain_reply_keeps_the_text_and_the_reply(joined, room):
    original = said(room, BOB, "question")
    page = joined.get(room.get_absolute_url()).content.decode()
    identity = re.search(r'name="identity" value="([^"]+)"', page).group(1)
    too_long = "x" * 2001
    response = joined.post(
        room.get_absolute_url(),
        {"message": too_long, "reply_to": str(original.pk), "identity": identity},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert box_text(html) == too_long
    assert f'name="reply_to" value="{original.pk}"' in html
    for bad in ("nonsense", str(original.pk + 99)):
        response = joined.post(
            room.get_absolute_url(), {"message": "fine", "reply_to": bad, "identity": identity}
        )
        assert response.status_code == 400
        assert "not in this room" in response.content.decode()
    assert room.messages.count() == 1


def test_htmx_gets_the_reply_bar_alone_aimed_above_the_box_and_cancel_empties_it(joined, room):
    original = said(room, BOB, "question")
    # Reply is a button of the message's boosted form, aimed at the message's form slot:
    # the answer says where it goes instead.
    headers = {"HX-Request": "true", "HX-Target": f"message-form-{original.pk}"}
    bar = joined.get(f"{original.get_absolute_url()}?do=reply", headers=headers)
    assert bar["HX-Retarget"] == "#composer-reply" and bar["HX-Reswap"] == "outerHTML"
    assert bar["HX-Push-Url"] == "false"
    html = bar.content.decode().strip()
    assert html.startswith('<div id="composer-reply"') and "<!doctype" not in html
    assert f'name="reply_to" value="{original.pk}"' in html and "Cancel" in html
    cancel = {"HX-Request": "true", "HX-Target": "composer-reply"}
    empty = joined.get("/rooms/django-girls/?reply=", headers=cancel).content.decode().strip()
    assert empty == '<div id="composer-reply" class="composer__reply"></div>'
    # Without htmx the same button opens the room page, the reply above its box.
    plain = joined.get(f"{original.get_absolute_url()}?do=reply")
    assert plain["Location"] == f"/rooms/django-girls/?reply={original.pk}#composer-reply"
    page = joined.get(plain["Location"]).content.decode()
    assert "<!doctype html>" in page and f'name="reply_to" value="{original.pk}"' in page


@pytest.mark.parametrize(
    ("action", "shown"),
    [("react", "Or a few words"), ("edit", "Edit your message"), ("delete", "for everyone")],
)
def test_each_action_starts_at_the_messages_own_address(joined, room, action, shown):
    """Every message carries one address: its buttons ask it for their form (?do=)."""
    session = joined.session
    session[GUEST_KEY] = ADA.key.removeprefix("guest.")  # the joined browser is ADA
    session.save()
    message = said(room, ADA, "mine")
    url = f"{message.get_absolute_url()}?do={action}"
    page = joined.get(url)
    assert page.status_code == 200 and shown in page.content.decode()
    fragment = joined.get(url, headers={"HX-Request": "true"})
    assert "<!doctype" not in fragment.content.decode() and fragment["HX-Push-Url"] == "false"
    # Anything else there is the room opened at the message.
    assert joined.get(f"{message.get_absolute_url()}?do=nonsense").status_code == 302


def test_every_message_links_to_its_own_address(joined, room):
    message = said(room, ADA, "hi")
    page = joined.get(room.get_absolute_url()).content.decode()
    assert f'<a class="message__link" href="/rooms/django-girls/messages/{message.pk}/">' in page
