"""Every kind of change is announced by the domain, once, when it is committed: a room's
sockets and the lobby see it whether it came from the event loop or plain code."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from rooms import about, editing, posting
from rooms.identity import Identity
from rooms.live import outbox

from .helpers import joined_socket, make_room, next_is

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nobody_here"),
]

ADA = Identity("ada", guest=True, key="guest.ada")
SEQ = re.compile(r'data-seq="(\d+)"')


class RolledBack(Exception):
    pass


def lobby_socket() -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    return WebsocketCommunicator(application, "/ws/lobby/", headers=headers)


async def card_containing(lobby, text: str) -> str:
    while text not in (push := await lobby.receive_from(timeout=5)):
        pass
    return push


# Each kind of change, as the domain function a form, a socket and the admin all call.
CHANGES = {
    "post": lambda room, said: posting.post_message(room, ADA, "fresh words"),
    "edit": lambda room, said: editing.edit_message(room, ADA, said.pk, "fresh words"),
    "delete": lambda room, said: editing.delete_message(room, ADA, said.pk),
    "moderate": lambda room, said: editing.moderate(said),
    "topic": lambda room, said: about.change(room, ADA, "topic", "fresh words"),
}
# What a room's socket and the lobby are sent for each.
SEEN = {
    "post": ("fresh words", "fresh words"),
    "edit": ("fresh words", "fresh words"),
    "delete": ("Message deleted", "message deleted"),
    "moderate": ("Message deleted", "message deleted"),
    "topic": ("fresh words", "Topic: fresh words"),
}


async def stored_before(room):
    return await database_sync_to_async(room.post)("ada", "said before", author_key=ADA.key)


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("caller", ["event loop", "plain code"])
async def test_each_change_reaches_the_room_and_the_lobby(settings, kind, caller):
    settings.LIVE_PUSHES, settings.LIVE_PUSH_EVERY = True, 0.2
    room = await make_room()
    said = await stored_before(room)
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    bob = await joined_socket(name="bob")
    # Bob's arrival redraws the card first: the change must redraw it again.
    await card_containing(lobby, "1 person here now")
    change = CHANGES[kind]
    if caller == "event loop":
        await outbox.call(change, room, said)
    else:  # a page or the admin: synchronous code in a thread of its own
        await database_sync_to_async(change)(room, said)
    in_room, on_card = SEEN[kind]
    while in_room not in await bob.receive_from():
        pass  # who is here: bob's own arrival
    assert on_card in await card_containing(lobby, on_card)
    await bob.disconnect()
    await lobby.disconnect()


@pytest.mark.parametrize("kind", CHANGES)
async def test_a_change_is_announced_on_commit_and_never_when_rolled_back(kind):
    room = await make_room()
    said = await stored_before(room)
    bob = await joined_socket(name="bob")
    change = CHANGES[kind]

    def change_then_roll_back() -> None:
        with transaction.atomic():
            change(room, said)
            raise RolledBack

    with pytest.raises(RolledBack):
        await database_sync_to_async(change_then_roll_back)()
    # Anything the rolled-back change had sent would reach bob before this message.
    await database_sync_to_async(posting.post_message)(room, ADA, "after the roll-back")
    await next_is(bob, "after the roll-back")

    def change_and_look() -> bool:
        with transaction.atomic():
            change(room, said)
            # Stored but not committed: nobody has heard of it yet (nor could the
            # once-a-second check tell anyone: what is not committed cannot be read).
            return async_to_sync(bob.receive_nothing)(timeout=0.3)

    assert await database_sync_to_async(change_and_look)()
    assert SEEN[kind][0] in await bob.receive_from()
    await database_sync_to_async(posting.post_message)(room, ADA, "announced once")
    await next_is(bob, "announced once")
    await bob.disconnect()


async def test_a_batch_announces_each_new_message_once_in_order():
    room = await make_room()
    bob = await joined_socket(name="bob")
    key = "k" * 20
    posts = [(room, ADA, "one", key), (room, ADA, "two", None), (room, ADA, "one", key)]
    results = await outbox.call(posting.post_messages, posts)
    assert [r.repeated for r in results] == [False, False, True]
    pushes = [await bob.receive_from(), await bob.receive_from()]
    assert [SEQ.findall(p) for p in pushes] == [["1"], ["2"]]
    # The repeat was not announced again: the next message comes next.
    await database_sync_to_async(posting.post_message)(room, ADA, "three")
    await next_is(bob, "three")
    await bob.disconnect()
