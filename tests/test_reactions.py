"""Reactions (rooms/reacting.py): the record, the socket, catch-up and the plain forms.
What people see in a browser is in test_browser_conversation.py."""

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rooms import broadcast, editing, limits, reacting
from rooms.identity import GUEST_KEY, Identity
from rooms.models import Message, Reaction, Room, author_tag

from .helpers import frame, joined, make_room, next_is, receive_message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

ADA = Identity("ada", guest=True, key="guest.ada")
BOB = Identity("bob", guest=True, key="guest.bob")
CHIP = re.compile(
    r'<form class="reaction"[^>]*data-by="([^"]*)">.*?data-who="([^"]*)".*?'
    r'class="reaction__text" dir="auto">([^<]*)</span> <span class="reaction__count">(\d+)<',
    re.S,
)


REPLACES = 'hx-swap-oob="outerHTML:#messages &gt; #message-{pk},'


def said(room: Room, author: Identity, text: str) -> Message:
    return room.post(author.name, text, guest=author.guest, author_key=author.key)


def chips(html: str) -> list[tuple[str, int, str, str]]:
    """The reactions drawn in `html`: (text, count, who, their tags)."""
    return [(text, int(count), who, by) for by, who, text, count in CHIP.findall(html)]


def drawn(message: Message) -> str:
    return broadcast.draw_message(Message.objects.drawn().get(pk=message.pk))


# The record.


def test_a_reaction_is_given_taken_back_and_each_takes_the_rooms_next_revision(room):
    message = said(room, ADA, "lunch at noon?")
    reacted, changed = reacting.react(room, BOB, message.pk, "👍")
    assert changed and reacted.revision == 2
    assert [(r.text, r.names, r.count) for r in reacted.reactions] == [("👍", ["bob"], 1)]
    reacted, _ = reacting.react(room, ADA, message.pk, "👍")
    reacted, _ = reacting.react(room, ADA, message.pk, "sounds good")
    assert [(r.text, r.names) for r in reacted.reactions] == [
        ("👍", ["bob", "ada"]),
        ("sounds good", ["ada"]),
    ]
    # The same reaction again from the same person takes it back.
    reacted, _ = reacting.react(room, BOB, message.pk, "👍")
    assert [(r.text, r.names) for r in reacted.reactions] == [
        ("👍", ["ada"]),
        ("sounds good", ["ada"]),
    ]
    assert reacted.revision == 5
    room.refresh_from_db()
    assert room.last_revision == 5 and room.last_seq == 1
    assert chips(drawn(message)) == [
        ("👍", 1, "ada", author_tag(ADA.key)),
        ("sounds good", 1, "ada", author_tag(ADA.key)),
    ]


def test_the_record_holds_one_reaction_per_message_person_and_text(room):
    message = said(room, ADA, "hi")
    Reaction.objects.create(message=message, text="🎉", author="bob", author_key=BOB.key)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=message, text="🎉", author="bob", author_key=BOB.key)


def test_one_emoji_typed_two_ways_is_one_reaction(room):
    message = said(room, ADA, "café?")
    reacting.react(room, BOB, message.pk, "cafe\u0301")
    reacted, _ = reacting.react(room, BOB, message.pk, "  café ")
    assert reacted.reactions == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", reacting.EMPTY),
        ("   ", reacting.EMPTY),
        ("x" * 17, "at most 16 characters"),
        ("bell\x07", "control characters"),
        ("\u200b", reacting.EMPTY),
    ],
)
def test_a_bad_reaction_is_refused_with_its_reason_and_stores_nothing(room, text, reason):
    message = said(room, ADA, "hi")
    with pytest.raises(ValidationError) as refused:
        reacting.react(room, BOB, message.pk, text)
    assert reason in " ".join(refused.value.message_dict["reaction"])
    assert not Reaction.objects.exists()
    assert Message.objects.get(pk=message.pk).revision == 1


def test_a_deleted_message_or_one_from_another_room_takes_no_reaction(room):
    gone = said(room, ADA, "oops")
    editing.delete_message(room, ADA, gone.pk)
    with pytest.raises(editing.Refused, match="deleted") as refused:
        reacting.react(room, BOB, gone.pk, "👍")
    assert refused.value.status == 410
    elsewhere = said(Room.objects.for_name("Elsewhere"), ADA, "over there")
    with pytest.raises(editing.Refused, match="not in this room"):
        reacting.react(room, BOB, elsewhere.pk, "👍")
    assert not Reaction.objects.exists()


def test_reactions_are_rate_limited(room, rate_limited):
    message = said(room, ADA, "react away")
    allowed = limits.LIMITS["reaction"][0]
    for n in range(allowed):
        reacting.react(room, BOB, message.pk, f"r{n}")
    with pytest.raises(ValidationError, match="Slow down") as refused:
        reacting.react(room, BOB, message.pk, "one too many")
    assert limits.is_rate_limited(refused.value, "reaction")


def test_reactions_are_escaped_and_own_ones_are_marked_by_the_room_pages_style(joined, room):
    message = said(room, BOB, "hi")
    me = Identity("ada", guest=True, key="guest." + joined.session[GUEST_KEY])
    reacting.react(room, me, message.pk, "<b>wow</b>")
    page = joined.get(room.get_absolute_url()).content.decode()
    assert "<b>wow</b>" not in page
    ((text, count, who, by),) = chips(page)
    assert (text, count, who) == ("&lt;b&gt;wow&lt;/b&gt;", 1, "ada")
    # The same bytes for everyone: the page's own <style> picks out the viewer's reactions.
    assert f'.reaction[data-by~="{by}"]' in page


# The socket.


def react_frame(pk, reaction="👍") -> str:
    return json.dumps({"react": str(pk), "reaction": reaction})


async def test_a_reaction_is_shown_live_to_everyone_with_the_same_bytes():
    room = await make_room()
    message = await database_sync_to_async(said)(room, ADA, "party at 8")
    ada, bob = await joined("ada"), await joined("bob")
    await bob.send_to(react_frame(message.pk, "🎉"))
    to_ada = await ada.receive_from()
    assert to_ada == await receive_message(bob)
    assert f'id="message-{message.pk}"' in to_ada and 'data-seq="1"' in to_ada
    # In place of the page's copy, never a second one.
    assert REPLACES.format(pk=message.pk) in to_ada and "beforeend:#messages" not in to_ada
    assert [chip[:3] for chip in chips(to_ada)] == [("🎉", 1, "bob")]
    # Ada gives the same one: two; bob takes his back: one, hers.
    await ada.send_to(react_frame(message.pk, "🎉"))
    assert [chip[:3] for chip in chips(await receive_message(bob))] == [("🎉", 2, "bob, ada")]
    await receive_message(ada)
    await bob.send_to(react_frame(message.pk, "🎉"))
    assert [chip[:3] for chip in chips(await receive_message(ada))] == [("🎉", 1, "ada")]
    await receive_message(bob)
    assert 'id="composer-error"' in await bob.receive_from()  # his answer: taken
    # The last one taken back leaves none, still in place.
    await ada.send_to(react_frame(message.pk, "🎉"))
    emptied = await receive_message(bob)
    assert REPLACES.format(pk=message.pk) in emptied and chips(emptied) == []
    assert 'class="reactions"' not in emptied
    await receive_message(ada)
    # Nothing more: ada's next message is the next thing bob gets.
    await ada.send_to(frame("marker"))
    await next_is(bob, "marker")
    await ada.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (json.dumps({"react": "x", "reaction": "👍"}), "could not be read"),
        (json.dumps({"react": "1", "reaction": 5}), reacting.EMPTY),
        (json.dumps({"react": "1", "reaction": ""}), reacting.EMPTY),
        (json.dumps({"react": "1", "reaction": "far too long a reaction"}), "at most 16"),
        (json.dumps({"react": "99999", "reaction": "👍"}), "not in this room"),
    ],
)
async def test_a_bad_reaction_frame_gets_an_error_on_that_socket_alone(raw, reason):
    room = await make_room()
    await database_sync_to_async(said)(room, ADA, "hi")
    ada, bob = await joined("ada"), await joined("bob")
    await bob.send_to(raw)
    reply = await bob.receive_from()
    assert 'id="composer-error"' in reply and reason in reply
    # The socket and the room go on working; ada heard nothing of it.
    await bob.send_to(frame("still here"))
    assert "still here" in await receive_message(bob)
    await next_is(ada, "still here")
    await ada.disconnect()
    await bob.disconnect()


async def test_a_page_that_was_away_gets_the_reactions_it_missed():
    room = await make_room()
    message = await database_sync_to_async(said)(room, ADA, "vote here")
    await database_sync_to_async(reacting.react)(room, BOB, message.pk, "✅")
    ada = await joined("ada")
    await ada.send_to(json.dumps({"after": "1"}))
    push = await ada.receive_from()
    assert [chip[:3] for chip in chips(push)] == [("✅", 1, "bob")]
    assert 'id="cursor" name="after" value="2"' in push
    await ada.disconnect()


# The plain forms (no JavaScript) and htmx's picker.


def test_the_reaction_page_offers_the_picker_and_a_box(joined, room):
    message = said(room, BOB, "hi")
    page = joined.get(message.get_react_url())
    html = page.content.decode()
    assert page.status_code == 200 and "<!doctype html>" in html
    for choice in reacting.PICKER:
        assert f'name="reaction" value="{choice}"' in html
    assert html.count('name="csrfmiddlewaretoken"') >= len(reacting.PICKER) + 1
    assert 'id="react-' in html and "Or a few words" in html
    # htmx opens the same picker inside the message; the address stays the room's.
    fragment = joined.get(message.get_react_url(), headers={"HX-Request": "true"})
    assert fragment["HX-Push-Url"] == "false"
    assert fragment.content.decode().lstrip().startswith('<div class="message-change')


def test_a_plain_reaction_is_stored_and_shown_and_a_bad_one_explained(joined, room):
    message = said(room, BOB, "hi")
    response = joined.post(message.get_react_url(), {"reaction": "🚀"})
    assert response.status_code == 303
    assert response["Location"] == f"/rooms/django-girls/#message-{message.pk}"
    page = joined.get(room.get_absolute_url()).content.decode()
    assert [chip[:3] for chip in chips(page)] == [("🚀", 1, "ada")]
    refused = joined.post(message.get_react_url(), {"reaction": "y" * 20})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "at most 16 characters" in html and 'value="' + "y" * 20 + '"' in html


def test_a_deleted_message_has_no_reaction_page_and_strangers_are_sent_to_join(
    client, joined, room
):
    message = said(room, BOB, "hi")
    editing.delete_message(room, BOB, message.pk)
    assert joined.get(message.get_react_url()).status_code == 410
    assert joined.post(message.get_react_url(), {"reaction": "👍"}).status_code == 410
    stranger = type(client)()
    response = stranger.post(said(room, BOB, "again").get_react_url(), {"reaction": "👍"})
    assert response.status_code in (302, 303) and not Reaction.objects.exists()
