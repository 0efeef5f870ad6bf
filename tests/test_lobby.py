"""The lobby: the rooms alive now on the join page, and their cards pushed live."""

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from rooms.models import Message, Room

from .helpers import frame, joined, next_is

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("nobody_here"),
]


@pytest.fixture
def live(settings):
    settings.LIVE_PUSHES = True
    settings.LIVE_PUSH_EVERY = 0.2
    return settings


def lobby_socket(
    origin: str = "http://127.0.0.1:8000", language: str | None = None
) -> WebsocketCommunicator:
    from config.asgi import application

    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode())]
    if language:
        headers.append((b"accept-language", language.encode()))
    return WebsocketCommunicator(application, "/ws/lobby/", headers=headers)


async def card_of(socket, slug: str, containing: str = "") -> str:
    """The first pushed card of a room (that contains some text), skipping others."""
    pattern = re.compile(rf'<li class="room-card" id="room-card-{slug}"[^>]*>.*?</li>', re.S)
    while True:
        push = await socket.receive_from(timeout=5)
        assert push.startswith('<div hx-swap-oob="afterbegin:#rooms">')
        for card in pattern.findall(push):
            if containing in card:
                return card


def listed(page: str) -> list[str]:
    return re.findall(r'<li class="room-card" id="room-card-([\w-]+)">', page)


LISTED_IN_TEST = 12


def backdate(room: Room, ago: timedelta) -> None:
    """As if the room's messages were posted `ago`."""
    when = timezone.now() - ago
    Message.objects.filter(room=room).update(created=when)
    Room.objects.filter(pk=room.pk).update(last_activity=when)


def test_the_lobby_lists_rooms_with_recent_messages_newest_first(client):
    quiet = Room.objects.for_name("Long Ago")
    quiet.post("ada", "years ago")
    backdate(quiet, timedelta(days=2))
    Room.objects.for_name("Never Used")
    older = Room.objects.for_name("Older")
    older.post("bob", "earlier")
    backdate(older, timedelta(hours=1))
    newer = Room.objects.for_name("Newer")
    newer.post("cleo", "<b>bold</b> & " + "long " * 40)
    Room.objects.filter(pk=newer.pk).update(topic="Tea <time>", description="For tea")
    page = client.get("/").content.decode()
    assert listed(page) == ["newer", "older"]
    card = page.split('id="room-card-newer">', 1)[1].split("</li>", 1)[0]
    assert '<a href="/rooms/newer/">Newer</a>' in card
    assert "For tea" in card and "Topic: Tea &lt;time&gt;" in card
    assert "0 people here now" in card
    assert "cleo</span>: &lt;b&gt;bold&lt;/b&gt; &amp; long" in card
    assert "long " * 20 not in card  # a snippet, not the whole message
    # The join form is still the page's form, with its public fields.
    assert 'name="room_name"' in page and 'name="username"' in page
    assert 'ws-connect="/ws/lobby/"' in page


def test_rooms_with_people_in_them_are_listed_first(client):
    from asgiref.sync import async_to_sync

    from rooms.identity import Identity
    from rooms.live import presence

    Room.objects.for_name("Chatty").post("ada", "hello")
    empty = Room.objects.for_name("Just Arrived")
    bob = Identity("bob", guest=True, key="session.bob")
    until = timezone.now().timestamp() + 60
    async_to_sync(presence.store().aadd)(empty.pk, presence.entry("c1", bob), until)
    page = client.get("/").content.decode()
    assert listed(page) == ["just-arrived", "chatty"]
    assert "1 person here now" in page


def test_an_empty_lobby_says_so_without_a_list_item(client):
    page = client.get("/").content.decode()
    assert '<ul id="rooms" class="lobby__rooms" data-live-list></ul>' in page


async def test_a_message_pushes_the_rooms_card_to_the_lobby(live):
    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    ada = await joined("ada")
    await ada.send_to(frame("fresh <news>"))
    card = await card_of(lobby, "django-girls", containing="fresh")
    assert "fresh &lt;news&gt;" in card
    assert "1 person here now" in card
    await ada.disconnect()
    await lobby.disconnect()


async def test_each_lobby_gets_the_card_in_its_pages_language(live):
    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    english, german = lobby_socket(), lobby_socket(language="de-DE,de;q=0.9")
    for lobby in (english, german):
        assert (await lobby.connect())[0]
    ada = await joined("ada")
    await ada.send_to(frame("fresh news"))
    assert "1 person here now" in await card_of(english, "django-girls", containing="fresh")
    card = await card_of(german, "django-girls", containing="fresh")
    assert "1 Person jetzt hier" in card
    assert "here now" not in card
    await ada.disconnect()
    for lobby in (english, german):
        await lobby.disconnect()


async def test_a_quiet_room_leaves_the_lobby_when_its_last_person_goes(live):
    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    ada = await joined("ada")
    assert "1 person here now" in await card_of(lobby, "django-girls", containing="here now")
    await ada.disconnect()
    assert await card_of(lobby, "django-girls") == (
        '<li class="room-card" id="room-card-django-girls" hidden></li>'
    )
    await lobby.disconnect()


async def test_a_new_topic_reaches_the_lobby(live):
    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    ada = await joined("ada")
    await ada.send_to('{"topic": "Deploying on Friday"}')
    assert "Topic: Deploying on Friday" in await card_of(lobby, "django-girls", "Friday")
    await ada.disconnect()
    await lobby.disconnect()


async def test_the_lobby_socket_ignores_frames(client, live):
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    await lobby.send_to("anything at all")
    # The frame was waiting before the card below was even drawn, and the socket handles
    # its frames as they come: a reply would come before the card.
    post = database_sync_to_async(client.post)
    await post("/", {"room_name": "Plain", "username": "ada"})
    await post("/rooms/plain/", {"message": "marker"})
    await next_is(lobby, "marker")
    await lobby.disconnect()


async def test_open_lobbies_share_one_subscription_and_each_gets_the_card(live):
    from rooms.live import runtime
    from rooms.lobby import GROUP

    await database_sync_to_async(Room.objects.for_name)("Django Girls")
    lobbies = [lobby_socket() for _ in range(3)]
    for lobby in lobbies:
        assert (await lobby.connect())[0]
    ada = await joined("ada")
    await ada.send_to(frame("for every lobby"))
    for lobby in lobbies:
        assert "for every lobby" in await card_of(lobby, "django-girls", "for every lobby")
    # The process's hub listens for all of them, on its one subscription to the group.
    assert len(runtime().hub.groups[GROUP]) == 3
    await ada.disconnect()
    for lobby in lobbies:
        await lobby.disconnect()


async def test_a_plain_post_pushes_the_card_too(client, live):
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    post = database_sync_to_async(client.post)
    await post("/", {"room_name": "Plain", "username": "ada"})
    assert (await post("/rooms/plain/", {"message": "no <script> here"})).status_code == 303
    assert "no &lt;script&gt; here" in await card_of(lobby, "plain", "script")
    await lobby.disconnect()


async def test_a_deletion_in_the_admin_pushes_the_card_too(client, live):
    from django.contrib.auth.models import User

    room = await database_sync_to_async(Room.objects.for_name)("Django Girls")
    message = await database_sync_to_async(room.post)("ada", "bad words")
    lobby = lobby_socket()
    assert (await lobby.connect())[0]
    boss = await database_sync_to_async(User.objects.create_superuser)("boss", password="x")
    await database_sync_to_async(client.force_login)(boss)
    url = f"/admin/rooms/message/{message.pk}/delete/"
    assert (await database_sync_to_async(client.post)(url, {"post": "yes"})).status_code == 302
    card = await card_of(lobby, "django-girls", containing="deleted")
    assert "ada</span>: <em>message deleted</em>" in card and "bad words" not in card
    await lobby.disconnect()


def test_posting_editing_and_deleting_each_mark_the_rooms_last_activity(client):
    from rooms import editing
    from rooms.identity import Identity

    ada = Identity("ada", guest=True, key="session.ada")
    rooms = {name: Room.objects.for_name(name) for name in ("Posted", "Edited", "Deleted")}
    for room in rooms.values():
        room.post("ada", f"in {room.name}", author_key=ada.key)
        backdate(room, timedelta(days=2))
    assert listed(client.get("/").content.decode()) == []
    posted, edited, deleted = rooms.values()
    editing.delete_message(deleted, ada, deleted.messages.get().pk)
    editing.edit_message(edited, ada, edited.messages.get().pk, "changed")
    posted.post("bob", "new")
    assert listed(client.get("/").content.decode()) == ["posted", "edited", "deleted"]


def test_a_card_drawn_before_shows_the_room_as_it_is_now(client):
    """Cards are drawn once for what they show: a new message, an edit or a new topic
    draws the card again, on the next page as on the first."""
    room = Room.objects.for_name("Tea")
    room.post("ada", "first words")
    assert "ada</span>: first words" in client.get("/").content.decode()
    room.post("bob", "second words")
    assert "bob</span>: second words" in client.get("/").content.decode()
    Room.objects.filter(pk=room.pk).update(topic="Green tea")
    assert "Topic: Green tea" in client.get("/").content.decode()


def lobby_queries(client) -> tuple[list[str], list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/").content.decode()
    return listed(page), [q["sql"] for q in queries.captured_queries]


def test_the_lobby_asks_as_many_questions_for_many_rooms_as_for_few(client):
    from rooms.lobby import LISTED

    def add_rooms(start: int, count: int) -> None:
        for n in range(start, start + count):
            room = Room.objects.for_name(f"Room {n}")
            room.post("ada", "hello")
            backdate(room, timedelta(minutes=1000 - n))

    add_rooms(0, 3)
    few, few_queries = lobby_queries(client)
    assert few == ["room-2", "room-1", "room-0"]
    add_rooms(3, LISTED + 20)
    many, many_queries = lobby_queries(client)
    # The LISTED most recently active rooms, newest first.
    assert many == [f"room-{n}" for n in range(LISTED + 22, 22, -1)]
    # Two short reads, for a new visitor as many rooms as there are: the recently active
    # rooms and their newest messages (who is here comes from the presence store).
    assert len(few_queries) == len(many_queries) == 2, many_queries


def test_the_lobby_asks_who_is_here_only_about_rooms_with_people(client, monkeypatch):
    """However many rooms are listed, the presence store is asked for the count of the
    rooms with anyone in them, not of every room on the page."""
    import time

    from rooms.identity import Identity
    from rooms.live import presence

    for n in range(LISTED_IN_TEST):
        Room.objects.for_name(f"Room {n}").post("ada", "hello")
    busy = Room.objects.get(slug="room-3")
    bob = Identity("bob", guest=True, key="guest.bob")
    arrive = async_to_sync(presence.store().aadd)
    arrive(busy.pk, presence.entry("socket-1", bob), time.time() + 60)
    asked = []
    entries = presence.store().entries
    monkeypatch.setattr(
        presence.store(),
        "entries",
        lambda rooms, now: asked.append(list(rooms)) or entries(rooms, now),
    )
    page = client.get("/").content.decode()
    assert listed(page)[0] == "room-3"
    assert page.count("1 person here now") == 1
    assert page.count("0 people here now") == LISTED_IN_TEST - 1
    assert asked == [[busy.pk]]


def test_the_lobby_finds_recent_rooms_through_the_activity_index(client):
    """The plan of every query the lobby makes: rooms are read through the index on
    their last activity (or by primary key), never by reading every room."""
    from django.db import connection

    Room.objects.for_name("Busy").post("ada", "hello")
    _, queries = lobby_queries(client)
    rooms = [sql for sql in queries if 'FROM "rooms_room"' in sql]
    assert rooms
    plans = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table this small is cheaper to scan; ask which index the planner would use.
            cursor.execute("SET enable_seqscan = off")
        for sql in rooms:
            explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
            cursor.execute(explain + sql)
            plans.append(" ".join(str(column) for row in cursor.fetchall() for column in row))
        if connection.vendor == "postgresql":
            cursor.execute("RESET enable_seqscan")
    assert any("room_last_activity" in plan for plan in plans), plans
    assert not any("SCAN rooms_room" in plan and "INDEX" not in plan for plan in plans), plans


def test_the_migration_fills_each_rooms_last_activity_from_its_newest_message():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("rooms", "0003_message_changes")], [("rooms", "0005_room_activity")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        OldRoom, OldMessage = apps.get_model("rooms", "Room"), apps.get_model("rooms", "Message")
        busy = OldRoom.objects.create(slug="busy", name="Busy", last_seq=2, last_revision=2)
        OldRoom.objects.create(slug="empty", name="Empty")
        for seq in (1, 2):
            OldMessage.objects.create(room=busy, seq=seq, revision=seq, author="ada", body="hi")
        yesterday = timezone.now() - timedelta(days=1)
        OldMessage.objects.filter(seq=2).update(created=yesterday)
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # Read as the rooms were then: today's model has fields added since.
        NewRoom = executor.loader.project_state(after).apps.get_model("rooms", "Room")
        assert NewRoom.objects.get(slug="busy").last_activity == yesterday
        assert NewRoom.objects.get(slug="empty").last_activity is None
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
