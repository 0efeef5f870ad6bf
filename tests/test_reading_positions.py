"""How far people read their rooms, and the "my rooms" list: the record, the pages without
JavaScript, and the sockets that carry a sidebar's changes."""

import json
import re

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rooms import editing, memberships, reading, sidebar
from rooms.identity import Identity, member_key
from rooms.models import Membership, ReadPosition, Room
from rooms.templatetags.chat import mention_tag

from .helpers import frame, socket_for


def member(name: str) -> tuple[User, Identity]:
    user = User.objects.create_user(name, password="x")
    return user, Identity(name, guest=False, key=member_key(user.pk))


def say(room: Room, who: Identity, text: str):
    return room.post(who.name, text, guest=who.guest, author_key=who.key)


def entries(me: Identity, user=None, session=None, current=None) -> dict[str, reading.Entry]:
    return {entry.room.name: entry for entry in reading.my_rooms(me, user, session, current)}


@pytest.fixture
def people(db):
    ada_user, ada = member("ada")
    _, bob = member("bob")
    return ada_user, ada, bob


def test_a_read_position_only_moves_forward(people):
    user, ada, bob = people
    room = Room.objects.for_name("Forward")
    for n in range(5):
        say(room, bob, f"m{n}")
    assert reading.mark_read(room, ada, user, 3) is True
    assert reading.mark_read(room, ada, user, 2) is False
    assert reading.mark_read(room, ada, user, 3) is False
    assert reading.position(room, ada, user) == 3
    # Never past the room's newest message.
    assert reading.mark_read(room, ada, user, 99) is True
    assert reading.position(room, ada, user) == 5
    assert ReadPosition.objects.filter(room=room, user=user).count() == 1


def test_counts_leave_out_my_own_and_deleted_messages(people):
    user, ada, bob = people
    room = Room.objects.for_name("Counting")
    memberships.join(room, ada, user)
    say(room, bob, "before")
    reading.mark_read(room, ada, user, 1)
    say(room, ada, "mine")
    kept = say(room, bob, "one")
    gone = say(room, bob, "two")
    say(room, bob, "three")
    editing.delete_message(room, bob, gone.pk)
    entry = entries(ada, user)["Counting"]
    assert (entry.unread, entry.mentioned) == (2, False)
    assert kept.seq > 1
    # Read further: nothing left.
    reading.mark_read(room, ada, user, room.last_seq)
    assert entries(ada, user)["Counting"].unread == 0


def test_a_mention_marks_the_room_but_not_a_longer_name_or_my_own(people):
    user, ada, bob = people
    room = Room.objects.for_name("Mentioned")
    memberships.join(room, ada, user)
    say(room, bob, "@adam is someone else")
    say(room, ada, "talking to myself @ada")
    assert entries(ada, user)["Mentioned"].mentioned is False
    say(room, bob, "thanks @ADA.")
    assert entries(ada, user)["Mentioned"].mentioned is True
    reading.mark_read(room, ada, user, room.last_seq)
    assert entries(ada, user)["Mentioned"].mentioned is False


def test_the_page_own_room_shows_no_count(people):
    user, ada, bob = people
    room = Room.objects.for_name("Here")
    memberships.join(room, ada, user)
    say(room, bob, "@ada hi")
    entry = entries(ada, user, current=room)["Here"]
    assert (entry.unread, entry.mentioned, entry.current) == (0, False, True)


def test_the_list_costs_the_same_queries_for_two_rooms_or_twenty(people):
    user, ada, bob = people

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            listed = reading.my_rooms(ada, user)
        assert all(entry.unread == 1 for entry in listed)
        return len(captured)

    def rooms(count: int) -> None:
        for n in range(count):
            room = Room.objects.for_name(f"Room {Room.objects.count()} {n}")
            memberships.join(room, ada, user)
            say(room, bob, "@ada news")

    rooms(2)
    few = queries()
    rooms(18)
    assert len(reading.my_rooms(ada, user)) == 20
    assert queries() == few


def test_a_guest_keeps_rooms_and_positions_in_the_session(db):
    guest = Identity("gus", guest=True, key="guest.gus")
    _, bob = member("bob")
    session: dict = {}
    rooms = [Room.objects.for_name(f"Guest Room {n}") for n in range(reading.GUEST_KEPT + 2)]
    for room in rooms:
        reading.enter(room, guest, None, session)
    # The newest first, and only so many.
    assert session[reading.GUEST_ROOMS][0] == rooms[-1].slug
    assert len(session[reading.GUEST_ROOMS]) == reading.GUEST_KEPT
    say(rooms[-1], bob, "one")
    say(rooms[-1], bob, "two")
    assert entries(guest, None, session)[rooms[-1].name].unread == 2
    assert reading.mark_read(rooms[-1], guest, None, 1, session) is True
    assert reading.mark_read(rooms[-1], guest, None, 1, session) is False
    assert entries(guest, None, session)[rooms[-1].name].unread == 1
    # A guest never gets a membership for an open room.
    assert not Membership.objects.filter(key=guest.key).exists()


def test_a_member_leaves_an_open_room_but_an_owner_keeps_a_private_one(people):
    user, ada, _ = people
    room = Room.objects.for_name("Leavable")
    reading.enter(room, ada, user)
    assert "Leavable" in entries(ada, user)
    reading.leave(room, ada)
    assert "Leavable" not in entries(ada, user)
    private = memberships.create_private_room(ada, user, "Mine")
    assert entries(ada, user)["Mine"].leavable is False
    with pytest.raises(editing.Refused):
        reading.leave(private, ada)


# The pages, without JavaScript.


def marks(page: str, room: Room) -> int:
    """How many unread marks the sidebar entry of `room` holds (CSS counts them)."""
    entry = re.search(rf'<li class="my-room" id="my-room-{room.pk}">(.*?)</li>', page, re.DOTALL)
    assert entry, f"{room.name} is not in the sidebar"
    return entry[1].count("<i ")


def test_a_members_room_page_lists_their_rooms_with_counts(people):
    user, _, bob = people
    here, there = Room.objects.for_name("Here Room"), Room.objects.for_name("There Room")
    client = Client()
    client.force_login(user)
    say(there, bob, "seen")
    client.get(there.get_absolute_url())  # ada came into both, and read "seen"
    for n in range(3):
        say(there, bob, f"news {n}")
    page = client.get(here.get_absolute_url()).content.decode()
    assert '<nav class="my-rooms" aria-label="My rooms">' in page
    assert marks(page, there) == 3 and marks(page, here) == 0
    assert 'aria-current="page"' in page.split(f'id="my-room-{here.pk}"')[1].split("</li>")[0]
    assert "unread-mention" not in page
    # On another device: opening the room reads it; the page says where she had read up to.
    other = Client()
    other.force_login(user)
    opened = other.get(there.get_absolute_url()).content.decode()
    assert 'data-read="1"' in opened
    assert marks(client.get(here.get_absolute_url()).content.decode(), there) == 0
    say(there, bob, "@ada are you there?")
    page = client.get("/").content.decode()
    assert marks(page, there) == 1 and "unread-mention" in page


def test_a_guests_rooms_come_from_the_session(client, db):
    _, bob = member("bob")
    for name in ("Guest One", "Guest Two"):
        client.post("/", {"room_name": name, "username": "gus"})
        client.get(Room.objects.get(name=name).get_absolute_url())
    one = Room.objects.get(name="Guest One")
    say(one, bob, "hello gus")
    page = client.get(Room.objects.get(name="Guest Two").get_absolute_url()).content.decode()
    assert marks(page, one) == 1
    # Another browser, another guest: nothing of gus's list.
    assert "my-rooms" not in Client().get("/").content.decode()


def test_leaving_from_the_list_takes_the_room_off_it(people):
    user, _, _ = people
    here, there = Room.objects.for_name("Stay"), Room.objects.for_name("Go")
    client = Client()
    client.force_login(user)
    client.get(there.get_absolute_url())
    client.get(here.get_absolute_url())
    response = client.post(f"/rooms/{there.slug}/leave/", {"next": here.get_absolute_url()})
    assert response.status_code == 303 and response["Location"] == here.get_absolute_url()
    assert f'id="my-room-{there.pk}"' not in client.get(here.get_absolute_url()).content.decode()
    # Leaving the room you are in goes to the lobby (coming back in would list it again);
    # an address elsewhere is never followed.
    response = client.post(f"/rooms/{here.slug}/leave/", {"next": here.get_absolute_url()})
    assert response["Location"] == "/"
    response = client.post(f"/rooms/{there.slug}/leave/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get(f"/rooms/{there.slug}/leave/").status_code == 405


# The sockets: what a sidebar is sent.


def joined_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_room_socket_hears_the_other_rooms_of_its_person():
    def setup():
        ada_user, _ = member("ada")
        _, bob = member("bob")
        here, there = Room.objects.for_name("Socket Here"), Room.objects.for_name("Socket There")
        client = joined_client(ada_user)
        client.get(there.get_absolute_url())
        client.get(here.get_absolute_url())
        return client, bob, here, there

    client, bob, here, there = await database_sync_to_async(setup)()
    phone = await database_sync_to_async(joined_client)(
        await database_sync_to_async(User.objects.get)(username="ada")
    )
    socket, other = socket_for(client, here.slug), socket_for(phone, there.slug)
    assert (await socket.connect())[0] and (await other.connect())[0]
    bob_client = await database_sync_to_async(joined_client)(
        await database_sync_to_async(User.objects.get)(username="bob")
    )
    bob_socket = socket_for(bob_client, there.slug)
    assert (await bob_socket.connect())[0]
    await bob_socket.send_to(frame("hi @ada"))
    mark = await socket.receive_from()
    assert f"beforeend:#my-room-{there.pk} .unread-marks" in mark
    assert f'data-by="{bob.tag}"' in mark and 'data-mentions="n' in mark
    # ada's page of that room reads it: her other page's count clears.
    pushed = await other.receive_from()
    seq = re.search(r'data-seq="(\d+)"', pushed)[1]
    await other.send_to(json.dumps({"read": seq}))
    cleared = await socket.receive_from()
    assert f"innerHTML:#my-room-{there.pk} .unread-marks" in cleared
    position = await database_sync_to_async(lambda: ReadPosition.objects.get(room=there).seq)()
    assert position == int(seq)
    # Every page of hers is told, that one too (where the room shows no count anyway).
    assert await other.receive_from() == cleared
    await other.send_to('{"read": "x"}')
    assert "could not be read" in await other.receive_from()
    for each in (socket, other, bob_socket):
        await each.disconnect()


def test_every_hundredth_mark_also_trims_pages_holding_many(db):
    room = Room.objects.for_name("Busy")
    _, bob = member("bob")
    for n in range(sidebar.TRIM_EVERY):
        message = say(room, bob, f"m{n} @ada")
        html = sidebar.unread_event(message)["html"]
        assert f"beforeend:#my-room-{room.pk} .unread-marks" in html
        assert f'data-mentions="{mention_tag("ada")}"' in html
        # The hundredth: pages holding 200 marks lose 100 that mention nobody ("99+" stays).
        assert ("delete:" in html) == (message.seq == sidebar.TRIM_EVERY)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_guests_page_tells_how_far_it_read_into_the_session():
    def setup():
        client = Client()
        for name in ("Guest Far", "Guest Near"):
            client.post("/", {"room_name": name, "username": "gus"})
            client.get(Room.objects.get(name=name).get_absolute_url())
        _, bob = member("bob")
        far = Room.objects.get(name="Guest Far")
        for n in range(2):
            say(far, bob, f"news {n}")
        return client, far

    client, far = await database_sync_to_async(setup)()
    near_page = await database_sync_to_async(client.get)("/rooms/guest-near/")
    assert marks(near_page.content.decode(), far) == 2
    socket = socket_for(client, far.slug)
    assert (await socket.connect())[0]
    await socket.send_to(json.dumps({"read": "1"}))
    assert f"innerHTML:#my-room-{far.pk} .unread-marks" in await socket.receive_from()
    await socket.disconnect()
    near_page = await database_sync_to_async(client.get)("/rooms/guest-near/")
    assert marks(near_page.content.decode(), far) == 1
