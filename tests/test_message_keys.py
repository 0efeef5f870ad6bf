"""Message keys: a message said twice (a lost acknowledgement, a retry after reconnecting,
a double click) is stored once and answered as the first time."""

import asyncio
import json
import re
import secrets
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import IntegrityError
from django.utils import timezone

from rooms import limits, posting
from rooms.identity import Identity
from rooms.live.outbox import Outbox
from rooms.models import BAD_MESSAGE_KEY, Message, Room, store_messages
from rooms.posting import KEY_TAKEN, post_messages

from .helpers import (
    box_text,
    joined_socket,
    make_room,
    needs_postgres,
    open_socket,
    receive_message,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

ADA = Identity("ada", guest=True, key="session.ada")
BOB = Identity("bob", guest=True, key="session.bob")


def new_key() -> str:
    return secrets.token_hex(16)


def keyed(text: str, key: str) -> str:
    return json.dumps({"message": text, "key": key})


async def bodies() -> list[str]:
    return await database_sync_to_async(
        lambda: list(Message.objects.values_list("body", flat=True))
    )()


async def answer(socket) -> str:
    """The sender's answer to its message (acknowledgement or refusal), skipping pushes."""
    while True:
        frame = await socket.receive_from()
        if 'id="composer-error"' in frame:
            return frame


async def test_the_same_key_twice_over_a_socket_is_one_message_acknowledged_twice():
    await make_room()
    ada, bob = await joined_socket(name="ada"), await joined_socket(name="bob")
    key = new_key()
    await ada.send_to(keyed("once only", key))
    first = await answer(ada)
    # The acknowledgement was lost, say: the page sends the message again with its key.
    await ada.send_to(keyed("once only", key))
    second = await answer(ada)
    assert first == second
    assert f'data-key="{key}"' in first and "></p>" in first  # acknowledged: no reason
    assert await bodies() == ["once only"]
    # The other page saw it once: the marker sent afterwards is its very next message.
    await ada.send_to(keyed("marker", new_key()))
    pushes = [await bob.receive_from(), await bob.receive_from()]
    assert ["once only" in p for p in pushes] == [True, False]
    assert "marker" in pushes[1]
    await ada.disconnect()
    await bob.disconnect()


async def test_a_retry_after_reconnecting_is_answered_not_stored_again():
    await make_room()
    ada = await joined_socket(name="ada")
    key = new_key()
    await ada.send_to(keyed("before the drop", key))
    first = await answer(ada)
    await ada.disconnect()
    # A new socket of the same person (same session) sends it again.
    again = await open_socket("django-girls", "ada")
    again.scope["headers"] = ada.scope["headers"]
    assert (await again.connect())[0]
    await again.send_to(keyed("before the drop", key))
    assert await answer(again) == first
    assert await bodies() == ["before the drop"]
    await again.disconnect()


async def test_the_same_key_twice_in_one_outbox_batch_is_one_message():
    room = await make_room()
    box = Outbox()
    key = new_key()
    # Both are queued before the batch is stored: they go to the database together.
    first, second = await asyncio.gather(
        box.post(room, ADA, "in one batch", key), box.post(room, ADA, "in one batch", key)
    )
    assert first.pk == second.pk and first.seq == second.seq
    assert [first.repeated, second.repeated] == [False, True]
    assert await bodies() == ["in one batch"]
    assert (await database_sync_to_async(Room.objects.get)(pk=room.pk)).last_seq == 1


def test_a_batch_with_repeats_keeps_the_other_posts_and_numbers_whole(room):
    key, other = new_key(), new_key()
    results = post_messages(
        [
            (room, ADA, "first", key),
            (room, BOB, "bob's", None),
            (room, ADA, "first", key),
            (room, ADA, "second", other),
        ]
    )
    assert [r.body for r in results] == ["first", "bob's", "first", "second"]
    assert results[0].pk == results[2].pk
    assert list(Message.objects.values_list("seq", "body")) == [
        (1, "first"),
        (2, "bob's"),
        (3, "second"),
    ]
    room.refresh_from_db()
    assert (room.last_seq, room.last_revision) == (3, 3)


def test_a_key_stored_by_another_process_meanwhile_is_a_repeat(room, monkeypatch):
    key = new_key()
    first = posting.post_message(room, ADA, "raced", key)
    # The check before counting missed it (the other process had not committed yet);
    # looked up again, it is there.
    lookups = iter([lambda keys: {}, posting.stored_with_keys])
    monkeypatch.setattr(posting, "stored_with_keys", lambda keys: next(lookups)(keys))
    again, beside = post_messages([(room, ADA, "raced", key), (room, BOB, "beside it", None)])
    assert again.repeated and again.pk == first.pk and beside.seq == 2
    assert list(Message.objects.values_list("seq", "body")) == [(1, "raced"), (2, "beside it")]
    room.refresh_from_db()
    assert (room.last_seq, room.last_revision) == (2, 2)


@needs_postgres  # concurrent writers need PostgreSQL's row locks
def test_the_same_key_from_three_writers_at_once_is_one_message(room):
    """Three processes (threads here, each its own connection) store one key at once."""
    from django.db import connection

    rounds, writers = 20, 3
    for n in range(rounds):
        key, start = new_key(), threading.Barrier(writers)
        answers: list = []

        def write(key=key, start=start, answers=answers, n=n):
            try:
                start.wait()
                answers.extend(post_messages([(room, ADA, f"m{n}", key)]))
            finally:
                connection.close()

        threads = [threading.Thread(target=write) for _ in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({answer.pk for answer in answers}) == 1
        assert sorted(answer.repeated for answer in answers) == [False] + [True] * (writers - 1)
    assert list(Message.objects.values_list("seq", flat=True)) == list(range(1, rounds + 1))


def test_store_messages_refuses_a_key_already_stored_and_stores_nothing(room):
    key = new_key()
    posting.post_message(room, ADA, "first", key)
    late = [room.new_message("bob", "beside it"), room.new_message("ada", "first", key=key)]
    with pytest.raises(IntegrityError):
        store_messages(late)
    assert Message.objects.count() == 1
    room.refresh_from_db()
    assert (room.last_seq, room.last_revision) == (1, 1)


def test_another_persons_key_is_refused(room):
    key = new_key()
    posting.post_message(room, ADA, "ada's", key)
    (refused,) = post_messages([(room, BOB, "bob's", key)])
    assert refused.messages == [KEY_TAKEN]
    assert list(Message.objects.values_list("author", flat=True)) == ["ada"]


def test_other_text_under_a_used_key_is_refused_not_dropped(room):
    key = new_key()
    posting.post_message(room, ADA, "the first", key)
    # Say the browser restored a used key into the form (going back to an old page).
    (refused,) = post_messages([(room, ADA, "something new", key)])
    assert refused.messages == [KEY_TAKEN]
    # The same text again is the same message; and after an edit, still a repeat.
    (again,) = post_messages([(room, ADA, "  the first ", key)])
    assert again.repeated
    Message.objects.update(body="edited since", edited=timezone.now())
    (edited,) = post_messages([(room, ADA, "the first", key)])
    assert edited.repeated
    assert Message.objects.count() == 1


def test_a_repeat_is_not_counted_against_the_rate_limit(room, settings, monkeypatch):
    settings.RATE_LIMITS = True
    moment = float(secrets.randbelow(10**9) * 3600)
    monkeypatch.setattr(limits, "now", lambda: moment)
    count = limits.LIMITS["message"][0]
    keys = [new_key() for _ in range(count)]
    for n, key in enumerate(keys):
        posting.post_message(room, ADA, f"m{n}", key)
    # Every one of them sent again (a page reconnecting): all answered, none refused.
    results = post_messages([(room, ADA, f"m{n}", key) for n, key in enumerate(keys)])
    assert all(isinstance(r, Message) and r.repeated for r in results)
    assert Message.objects.count() == count


@pytest.mark.parametrize("key", ["short", "x" * 65, "has space in it!!", "ключ-ключ-ключ-ключ", 42])
async def test_a_bad_key_over_a_socket_is_refused_and_the_text_comes_back(key):
    await make_room()
    ada = await joined_socket()
    await ada.send_to(json.dumps({"message": "keep me", "key": key}))
    reply = await ada.receive_from()
    assert BAD_MESSAGE_KEY.replace("'", "&#x27;") in reply
    assert box_text(reply) == "keep me"
    await ada.send_to(keyed("after", new_key()))
    assert "></p>" in await answer(ada)  # acknowledged
    assert await bodies() == ["after"]
    await ada.disconnect()


async def test_a_refused_keyed_message_is_named_by_its_key_and_the_box_is_left_alone():
    await make_room()
    ada = await joined_socket()
    key = new_key()
    await ada.send_to(keyed("x" * 2001, key))
    reply = await ada.receive_from()
    assert f'data-key="{key}"' in reply and "at most 2000 characters" in reply
    # The page keeps the text in its "Not sent yet" list: the box is not sent back.
    assert 'id="message-input"' not in reply
    # Nothing was stored, so the same key may go again (fixed, it would be stored).
    await ada.send_to(keyed("fixed", key))
    ack = await answer(ada)
    assert f'data-key="{key}"' in ack and "></p>" in ack
    assert await bodies() == ["fixed"]
    await ada.disconnect()


async def test_a_message_without_a_key_still_posts():
    await make_room()
    ada = await joined_socket()
    for extra in ({}, {"key": ""}, {"key": None}):
        await ada.send_to(json.dumps({"message": f"keyless {len(extra)}", **extra}))
        assert "data-key" not in await answer(ada)
    assert await bodies() == ["keyless 0", "keyless 1", "keyless 1"]
    await ada.disconnect()


# The plain form (no JavaScript).

KEY_FIELD = re.compile(r'<input type="hidden"[^>]* name="key" value="([A-Za-z0-9_-]{16,64})"')


def test_every_page_draws_a_fresh_key_into_the_form(joined, room):
    keys = {KEY_FIELD.search(joined.get(room.get_absolute_url()).content.decode())[1] for _ in "ab"}
    assert len(keys) == 2


def test_a_double_click_without_javascript_is_one_message_and_the_same_redirect(joined, room):
    key = KEY_FIELD.search(joined.get(room.get_absolute_url()).content.decode())[1]
    first = joined.post(room.get_absolute_url(), {"message": "clicked twice", "key": key})
    second = joined.post(room.get_absolute_url(), {"message": "clicked twice", "key": key})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert list(Message.objects.values_list("body", flat=True)) == ["clicked twice"]
    assert first["Location"].endswith(f"#message-{Message.objects.get().pk}")


@pytest.mark.parametrize("key", ["short", "x" * 65, "<script>alert(1)</script>", "a\x00" * 10])
def test_a_bad_key_in_the_plain_form_is_refused_beside_the_box(joined, room, key):
    response = joined.post(room.get_absolute_url(), {"message": "keep me too", "key": key})
    assert response.status_code == 400
    page = response.content.decode()
    assert BAD_MESSAGE_KEY.replace("'", "&#x27;") in page
    assert box_text(page) == "keep me too"
    assert "<script>alert(1)" not in page
    assert not Message.objects.exists()


@pytest.fixture
def held_at_the_database(monkeypatch):
    """Posts wait at the database until the test opens the gate, then are stored as
    ever: what a slow commit looks like to the socket."""
    from rooms.live import outbox

    gate, real = threading.Event(), outbox.post_messages

    def waiting(posts):
        gate.wait(30)
        return real(posts)

    monkeypatch.setattr(outbox, "post_messages", waiting)
    yield gate
    gate.set()


async def test_a_fast_sender_is_read_on_while_its_posts_are_stored_and_answered_in_order(
    held_at_the_database,
):
    await make_room()
    ada, bob = await joined_socket(name="ada"), await joined_socket(name="bob")
    keys = [new_key() for _ in range(3)]
    for n, key in enumerate(keys):
        await ada.send_to(keyed(f"quick {n}", key))
    await ada.send_to("not a frame at all")
    # The broken frame is answered while the three posts still wait at the database: the
    # socket did not stop reading at the first of them.
    assert "could not be read" in await answer(ada)
    held_at_the_database.set()
    answers = [await answer(ada) for _ in keys]
    assert [re.search(r'data-key="(\w+)"', a).group(1) for a in answers] == keys
    assert all("></p>" in a for a in answers)  # acknowledged, no reason
    assert await bodies() == ["quick 0", "quick 1", "quick 2"]
    pushed = [await receive_message(bob) for _ in keys]
    assert [f"quick {n}" in push for n, push in enumerate(pushed)] == [True] * 3
    await ada.disconnect()
    await bob.disconnect()


async def test_more_posts_than_a_socket_may_hold_in_flight_all_go_in_order():
    from rooms.consumers import IN_FLIGHT

    await make_room()
    ada = await joined_socket(name="ada")
    keys = [new_key() for _ in range(3 * IN_FLIGHT)]
    for n, key in enumerate(keys):
        await ada.send_to(keyed(f"burst {n}", key))
    answers = [await answer(ada) for _ in keys]
    assert [re.search(r'data-key="(\w+)"', a).group(1) for a in answers] == keys
    assert await bodies() == [f"burst {n}" for n in range(3 * IN_FLIGHT)]
    await ada.disconnect()


async def test_a_post_the_database_cannot_take_is_refused_with_its_text_and_stored_once_later(
    monkeypatch,
):
    from django.db import OperationalError

    from rooms.consumers import NOT_STORED_NOW
    from rooms.live import outbox

    def unavailable(posts):
        raise OperationalError("the database is restarting")

    await make_room()
    ada = await joined_socket(name="ada")
    key = new_key()
    monkeypatch.setattr(outbox, "post_messages", unavailable)
    await ada.send_to(keyed("when it is back", key))
    # Refused by its key with the reason: the page keeps the text in "Not sent yet".
    refused = await answer(ada)
    assert f'data-key="{key}"' in refused
    assert NOT_STORED_NOW in refused
    monkeypatch.undo()
    # The socket stayed open: Retry sends it again under its key, and it is stored once.
    await ada.send_to(keyed("when it is back", key))
    assert "></p>" in await answer(ada)  # acknowledged
    await ada.send_to(keyed("when it is back", key))
    assert "></p>" in await answer(ada)
    assert await bodies() == ["when it is back"]
    await ada.disconnect()


async def test_an_edit_the_database_cannot_take_is_refused_and_a_read_position_is_not_answered(
    monkeypatch,
):
    from django.db import OperationalError

    from rooms import editing, reading
    from rooms.consumers import NOT_STORED_NOW

    def unavailable(*args):
        raise OperationalError("the database is restarting")

    await make_room()
    ada = await joined_socket(name="ada")
    await ada.send_to(keyed("to change", new_key()))
    await answer(ada)
    pk = await database_sync_to_async(lambda: Message.objects.get().pk)()
    monkeypatch.setattr(editing, "edit_message", unavailable)
    monkeypatch.setattr(reading, "mark_read", unavailable)
    await ada.send_to(json.dumps({"read": "1"}))
    await ada.send_to(json.dumps({"edit": str(pk), "message": "changed"}))
    # Frames are answered in order: the first answer is the edit's, the read got none.
    assert NOT_STORED_NOW in await answer(ada)
    monkeypatch.undo()
    key = new_key()
    await ada.send_to(keyed("still open", key))
    assert f'data-key="{key}"' in await answer(ada)
    assert await bodies() == ["to change", "still open"]
    await ada.disconnect()


async def test_a_socket_opened_while_the_database_is_down_is_told_to_try_again_later(
    monkeypatch,
):
    from django.db import OperationalError

    from rooms.consumers import CLOSE_TRY_LATER, RoomConsumer

    def unavailable(self, slug):
        raise OperationalError("the database is restarting")

    await make_room()
    monkeypatch.setattr(RoomConsumer, "load", database_sync_to_async(unavailable))
    socket = await open_socket("django-girls", "ada")
    # Accepted, then closed with a code the page reconnects on: no failed handshake.
    assert (await socket.connect())[0]
    closed = await socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_TRY_LATER}


def test_a_plain_form_post_the_database_cannot_take_comes_back_to_send_again(
    joined, room, monkeypatch
):
    from django.db import OperationalError

    from rooms import uploads

    def unavailable(*args, **kwargs):
        raise OperationalError("the database is restarting")

    key = KEY_FIELD.search(joined.get(room.get_absolute_url()).content.decode())[1]
    text = "<b>kept</b> & typed"
    monkeypatch.setattr(uploads, "post_with_files", unavailable)
    response = joined.post(room.get_absolute_url(), {"message": text, "key": key})
    # Not a server error: a page that says so, with the text in a box and its key kept.
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "nothing was saved" in page
    assert box_text(page, "unsent-message") == text
    assert "<b>kept</b>" not in page
    assert f'name="key" value="{key}"' in page
    monkeypatch.undo()
    # Sent again from that page (same fields, same key): stored once.
    for _ in range(2):
        again = joined.post(room.get_absolute_url(), {"message": text, "key": key})
        assert again.status_code == 303
    assert list(Message.objects.values_list("body", flat=True)) == [text]
