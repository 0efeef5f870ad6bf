"""Who is who: guests known by their key and not their name, names that can't pass for a
member's, members whose account changed, and pages of other sites kept off the sockets."""

import json
import re

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.test import Client

from rooms import broadcast, editing
from rooms.identity import GUEST_KEY, Identity
from rooms.models import MemberName, Message, Room

from .helpers import frame, make_room, make_session, receive_message, socket_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

MARK = re.compile(r'<span class="mark"[^>]*>#([0-9a-z]{4})</span>')


def joined_client(name: str = "Ada", room: str = "Django Girls") -> Client:
    """A browser of its own (its own session) joined under `name`."""
    client = Client()
    assert client.post("/", {"room_name": room, "username": name}).status_code == 303
    return client


def posted(client: Client, text: str, slug: str = "django-girls") -> Message:
    assert client.post(f"/rooms/{slug}/", {"message": text}).status_code == 303
    return Message.objects.get(body=text)


def edit_frame(pk: int, text: str) -> str:
    return json.dumps({"edit": str(pk), "message": text})


def delete_frame(pk: int) -> str:
    return json.dumps({"remove": str(pk)})


# 1. A guest's messages are their session's, not their name's.


async def test_a_second_ada_can_neither_edit_nor_delete_the_first_adas_message_by_socket():
    await make_room()
    first, second = (
        await database_sync_to_async(joined_client)(),
        await database_sync_to_async(joined_client)(),
    )
    first_ada, second_ada = socket_for(first, "django-girls"), socket_for(second, "django-girls")
    assert (await first_ada.connect())[0] and (await second_ada.connect())[0]
    await first_ada.send_to(frame("the first Ada's words"))
    pk = int(re.search(r'id="message-(\d+)"', await receive_message(second_ada)).group(1))
    await receive_message(first_ada)
    for raw, reason in (
        (edit_frame(pk, "words put in her mouth"), "You can edit only your own messages."),
        (delete_frame(pk), "You can delete only your own messages."),
    ):
        await second_ada.send_to(raw)
        reply = await second_ada.receive_from()
        assert 'id="composer-error"' in reply and reason in reply
    # Nothing reached the first Ada before the marker the second one sends now.
    await second_ada.send_to(frame("marker"))
    assert "marker" in await receive_message(first_ada)
    assert "marker" in await receive_message(second_ada)
    stored = await database_sync_to_async(Message.objects.get)(pk=pk)
    assert (stored.body, stored.edited, stored.deleted) == ("the first Ada's words", None, None)
    # The first Ada still may.
    await first_ada.send_to(edit_frame(pk, "the first Ada's words, edited"))
    assert ">edited<" in await receive_message(second_ada)
    await first_ada.disconnect()
    await second_ada.disconnect()


def test_a_second_ada_can_neither_edit_nor_delete_the_first_adas_message_by_plain_forms():
    first, second = joined_client(), joined_client()
    message = posted(first, "mine, the first Ada's")
    for response in (
        second.get(message.get_edit_url()),
        second.post(message.get_edit_url(), {"message": "the second Ada's now"}),
        second.get(message.get_delete_url()),
        second.post(message.get_delete_url()),
    ):
        assert response.status_code == 403
        assert "only your own messages" in response.content.decode()
    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.edited, stored.deleted) == ("mine, the first Ada's", None, None)
    assert first.get(message.get_edit_url()).status_code == 200


def test_two_adas_are_told_apart_on_the_page_and_each_styles_only_her_own():
    first, second = joined_client(), joined_client()
    posted(first, "from the first")
    posted(second, "from the second")
    page = first.get("/rooms/django-girls/").content.decode()
    articles = re.findall(r'<article class="message".*?</article>', page, re.S)
    assert len(articles) == 2
    marks = [MARK.search(article).group(1) for article in articles]
    assert marks[0] != marks[1]
    for article in articles:
        assert '<span class="message__author" dir="auto">Ada</span>' in article
    tags = [re.search(r'data-author="([^"]+)"', article).group(1) for article in articles]
    assert tags[0] != tags[1]
    # Each page says which Ada it is, and styles and offers controls for her messages alone.
    for client, own in ((first, 0), (second, 1)):
        page = client.get("/rooms/django-girls/").content.decode()
        you = re.search(r'<p class="room__me">.*?</p>', page, re.S).group(0)
        assert f"#{marks[own]}" in you
        assert f'.message[data-author="{tags[own]}"] .message__action' in page
        assert f'[data-author="{tags[1 - own]}"]' not in page.split("</style>")[0]


def test_a_new_name_is_a_new_identity_even_back_to_the_old_name():
    client = joined_client()
    message = posted(client, "said as Ada")
    joined_client_again = client.post("/", {"room_name": "Django Girls", "username": "Eve"})
    assert joined_client_again.status_code == 303
    client.post("/", {"room_name": "Django Girls", "username": "Ada"})
    assert client.get(message.get_edit_url()).status_code == 403
    # Joining again under the same name keeps the identity.
    client.post("/", {"room_name": "Django Girls", "username": "Ada"})
    mine = posted(client, "said as Ada again")
    client.post("/", {"room_name": "Django Girls", "username": "Ada"})
    assert client.get(mine.get_edit_url()).status_code == 200


def test_guest_messages_from_before_keys_are_nobodys_to_edit(room):
    message = room.post("Ada", "said before guests had keys")  # no key
    client = joined_client()
    assert client.get(message.get_edit_url()).status_code == 403
    assert client.post(message.get_delete_url()).status_code == 403
    me = Identity("Ada", guest=True, key=f"guest.{client.session[GUEST_KEY]}")
    assert not editing.can_edit(message, me) and not editing.can_delete(message, me)
    html = broadcast.draw_message(message)
    assert 'data-author=""' in html and 'class="mark"' not in html


def test_the_drawing_is_kept_per_author_key_too(room):
    message = room.post("Ada", "same words", author_key="guest.one")
    first = broadcast.draw_message(message)
    message.author_key = "guest.two"  # the same message as another identity's
    second = broadcast.draw_message(message)
    assert MARK.search(first).group(1) != MARK.search(second).group(1)


# 4. Names people can't tell apart are one name; invisible characters are refused.


def sign_up(client: Client, name: str):
    return client.post(
        "/accounts/signup/",
        {"username": name, "password1": "a long passphrase", "password2": "a long passphrase"},
    )


@pytest.mark.parametrize(
    ("look_alike", "error"),
    [
        ("Gr\u0430ce", "looks the same"),  # Cyrillic a
        ("Gr\u0430\u0441e", "looks the same"),  # Cyrillic a and es
        ("Grac\u0435", "looks the same"),  # Cyrillic ie
        ("GRAC\u0415", "looks the same"),  # another case, Cyrillic capital ie
        # Django's own check, case-insensitive, after folding fullwidth letters:
        ("\uff27\uff52\uff41\uff43\uff45", "already exists"),
        ("grace", "already exists"),
    ],
)
def test_a_member_name_that_looks_like_another_members_is_refused_at_sign_up(
    client, look_alike, error
):
    assert sign_up(Client(), "Grace").status_code == 303
    response = sign_up(client, look_alike)
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors["username"])
    assert User.objects.count() == 1


def test_a_look_alike_name_is_told_with_the_other_errors_of_the_form(client):
    User.objects.create_user("Grace", password="x")
    response = client.post(
        "/accounts/signup/",
        {"username": "Gr\u0430ce", "password1": "a long passphrase", "password2": "other"},
    )
    errors = response.context["form"].errors
    assert "looks the same" in " ".join(errors["username"]) and "password2" in errors


def test_capital_i_and_small_l_are_one_name(client):
    assert sign_up(Client(), "Ian").status_code == 303
    assert sign_up(client, "lan").status_code == 400
    assert client.post("/", {"room_name": "x", "username": "IAN"}).status_code == 400


@pytest.mark.parametrize(
    ("member", "guest"),
    [
        ("Grace", "Gr\u0430ce"),  # homoglyph
        ("Grace", "\uff27\uff52\uff41\uff43\uff45"),  # fullwidth
        ("Jos\u00e9", "Jose\u0301"),  # decomposed
        ("Grace", "GR\u0410CE"),  # Cyrillic capital A, other case
        ("bob", "b0b"),
        ("Ian", "lan"),  # capital i, small L
        ("ian", "IAN"),
    ],
)
def test_guests_cannot_take_a_members_name_through_a_look_alike(client, member, guest):
    User.objects.create_user(member, password="x")
    response = client.post("/", {"room_name": "lobby", "username": guest})
    assert response.status_code == 400
    assert "belongs to a member" in response.context["form"].errors["username"][0]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("username", "Gr\u200bace", "invisible characters"),  # zero-width space
        ("username", "\u3164", "invisible characters"),  # Hangul filler, a "blank" letter
        ("username", "Ada\u2060", "invisible characters"),  # word joiner
        ("username", "\u2800", "invisible characters"),  # blank Braille pattern
        ("username", "eve\u202egnp.exe", "writing direction"),  # right-to-left override
        ("username", "\u2067ada", "writing direction"),  # right-to-left isolate
        ("username", "a\u0085b", "control characters"),
        ("room_name", "Lobby\u200d", "invisible characters"),
        ("room_name", "\u202eybbol", "writing direction"),
        ("room_name", "lob\u2028by", "control characters"),  # line separator
    ],
)
def test_invisible_control_and_direction_characters_are_refused_per_field(
    client, field, value, error
):
    data = {"room_name": "Lobby", "username": "ada", field: value}
    response = client.post("/", data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field] and error in errors[field][0]
    assert not Room.objects.exists()


def test_a_look_alike_account_made_meanwhile_stops_a_sign_up_that_was_valid(client):
    """Two sign-ups at once: the name's forms are unique in the record, so one loses."""
    from rooms.forms import SignupForm

    form = SignupForm(
        {
            "username": "Gr\u0430ce",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        }
    )
    assert form.is_valid()
    User.objects.create_user("Grace", password="x")  # the other sign-up, first to store
    with pytest.raises(IntegrityError):
        form.save()
    assert list(User.objects.values_list("username", flat=True)) == ["Grace"]


def test_a_look_alike_made_in_the_admin_keeps_the_name_closed_to_guests(client):
    User.objects.create_user("Grace", password="x")
    look_alike = User.objects.create_user("Gr\u0430ce", password="x")  # no sign-up form here
    assert not MemberName.objects.filter(user=look_alike).exists()
    assert client.post("/", {"room_name": "x", "username": "grace"}).status_code == 400


def test_sign_up_refuses_invisible_letters(client):
    response = sign_up(client, "gr\u3164ace")
    assert response.status_code == 400
    assert "invisible characters" in " ".join(response.context["form"].errors["username"])


@pytest.mark.parametrize("text", ["\u200b", "\u200b \u200d\n\u2060", "\u3164\u2800", "\ufe0f"])
def test_a_message_with_nothing_visible_is_refused_on_the_form(text):
    client = joined_client()
    response = client.post("/rooms/django-girls/", {"message": text})
    assert response.status_code == 400
    assert "Write something before sending." in " ".join(response.context["form"].errors["message"])
    assert not Message.objects.exists()


async def test_a_message_with_nothing_visible_is_refused_on_the_socket():
    await make_room()
    client = await database_sync_to_async(joined_client)()
    socket = socket_for(client, "django-girls")
    assert (await socket.connect())[0]
    await socket.send_to(frame("\u200b\u200b"))
    reply = await socket.receive_from()
    assert "Write something before sending." in reply
    assert 'id="message-input"' in reply  # the text comes back into the box
    await socket.send_to(frame("visible \u200b"))
    pk = int(re.search(r'id="message-(\d+)"', await receive_message(socket)).group(1))
    await socket.send_to(edit_frame(pk, "\u2060"))
    # The post's acknowledgement may still come first (it and the push race on Redis).
    reply = await socket.receive_from()
    if "Write something" not in reply:
        reply = await socket.receive_from()
    assert "Write something before sending." in reply
    assert await database_sync_to_async(Message.objects.count)() == 1
    await socket.disconnect()


def test_the_migration_keys_member_messages_and_holds_member_names():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("rooms", "0003_message_changes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        migrate_keys_and_names(executor, before)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def migrate_keys_and_names(executor, before) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    auth = executor.loader.graph.leaf_nodes("auth")
    old = executor.loader.project_state(before + auth).apps
    users = old.get_model("auth", "User").objects
    grace, look_alike = users.create(username="Grace"), users.create(username="grace")
    room = old.get_model("rooms", "Room").objects.create(slug="old", name="Old", last_seq=2)
    for seq, (author, guest) in enumerate((("Grace", False), ("Ada", True)), start=1):
        old.get_model("rooms", "Message").objects.create(
            room=room, seq=seq, revision=seq, author=author, guest=guest, body="hi"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    keys = dict(Message.objects.values_list("author", "author_key"))
    assert keys == {"Grace": f"user.{grace.pk}", "Ada": ""}
    # The older account holds the name's forms; the newer look-alike keeps its account.
    assert list(MemberName.objects.values_list("user_id", "folded")) == [(grace.pk, "grace")]
    assert User.objects.filter(pk=look_alike.pk).exists()


def test_a_renamed_member_holds_the_new_name():
    user = User.objects.create_user("grace", password="x")
    user.username = "hopper"
    user.save()
    assert MemberName.objects.get(user=user).folded == "hopper"
    response = Client().post("/", {"room_name": "x", "username": "Hopper"})
    assert response.status_code == 400
    assert Client().post("/", {"room_name": "x", "username": "grace"}).status_code == 303


# 5. A member whose password changed, or who was deactivated, keeps no open socket.


async def member_socket(name: str = "grace", password: str = "old passphrase"):
    """A member's socket, opened before the change under test; and their browser."""
    user = await database_sync_to_async(User.objects.create_user)(name, password=password)
    await make_room("Members")
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    socket = socket_for(client, "members")
    assert (await socket.connect())[0]
    return user, client, socket


async def assert_closed_as_ended(socket: WebsocketCommunicator) -> None:
    # The page is told why first (rooms/_identity_ended.html), then the socket closes.
    told = await socket.receive_output(timeout=5)
    assert told["type"] == "websocket.send" and "Your account changed" in told["text"]
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4001


async def test_set_password_and_save_closes_the_members_sockets():
    user, _client, socket = await member_socket()

    def change():
        user.set_password("a new passphrase")
        user.save()

    await database_sync_to_async(change)()
    await assert_closed_as_ended(socket)


async def test_deactivating_in_the_admin_closes_the_members_sockets():
    grace, _client, socket = await member_socket()
    boss = await database_sync_to_async(User.objects.create_superuser)("boss", password="x")
    admin = Client()
    await database_sync_to_async(admin.force_login)(boss)
    url = f"/admin/auth/user/{grace.pk}/change/"
    response = await database_sync_to_async(admin.post)(
        url,
        {
            "username": "grace",
            "is_active": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not (await database_sync_to_async(User.objects.get)(pk=grace.pk)).is_active
    await assert_closed_as_ended(socket)


async def member_socket_for(user: User) -> WebsocketCommunicator:
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    socket = socket_for(client, "members")
    assert (await socket.connect())[0]
    return socket


async def test_the_password_change_page_closes_the_members_sockets():
    user, client, socket = await member_socket()
    other_tab = await member_socket_for(user)
    response = await database_sync_to_async(client.post)(
        "/accounts/password_change/",
        {
            "old_password": "old passphrase",
            "new_password1": "a new passphrase",
            "new_password2": "a new passphrase",
        },
    )
    assert response.status_code == 302
    await assert_closed_as_ended(socket)
    await assert_closed_as_ended(other_tab)


async def test_logging_in_elsewhere_leaves_the_members_sockets_open():
    user, _client, socket = await member_socket()
    other = Client()
    assert await database_sync_to_async(other.login)(username="grace", password="old passphrase")

    def rename():
        user.first_name = "Grace"
        user.save()

    await database_sync_to_async(rename)()
    await socket.send_to(frame("still here"))
    assert "still here" in await receive_message(socket)
    await socket.disconnect()


# 7. Sockets only from this site's pages: scheme, host and port.


def socket_from(
    origin: str | None, host: str = "127.0.0.1:8000", path: str = "/ws/rooms/django-girls/"
) -> WebsocketCommunicator:
    from config.asgi import application

    key = make_session("ada")
    cookie = f"{settings.SESSION_COOKIE_NAME}={key}"
    headers = [(b"host", host.encode()), (b"cookie", cookie.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://localhost:9999", False),
        ("https://127.0.0.1", False),
        ("https://127.0.0.1:8000", False),
        ("http://127.0.0.1", False),
        ("http://127.0.0.1:8001", False),
        ("http://127.0.0.1:99999", False),
        ("https://evil.example", False),
        ("null", False),
        ("", False),
        (None, False),
    ],
)
async def test_socket_origins_are_compared_by_scheme_host_and_port(origin, accepted):
    """Every socket, the room's and the lobby's."""
    await make_room()
    for path in ("/ws/rooms/django-girls/", "/ws/lobby/"):
        socket = await database_sync_to_async(socket_from)(origin, path=path)
        connected, _ = await socket.connect()
        assert connected is accepted, path
        if connected:
            await socket.disconnect()


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("https://chat.example.org", True),
        ("https://chat.example.org:443", True),
        ("https://eu.example.net", True),
        ("http://chat.example.org", False),
        ("https://chat.example.org:8443", False),
        ("https://example.org", False),
        ("https://example.net.evil.example", False),
    ],
)
async def test_csrf_trusted_origins_open_sockets_too(settings, origin, accepted):
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.org", "https://*.example.net"]
    await make_room()
    socket = await database_sync_to_async(socket_from)(origin)
    connected, _ = await socket.connect()
    assert connected is accepted
    if connected:
        await socket.disconnect()


async def test_a_host_not_ours_is_no_origin_of_ours():
    """A page on a name that points here (DNS rebinding) sends that name as Host too."""
    await make_room()
    socket = await database_sync_to_async(socket_from)("http://evil.example", "evil.example")
    assert not (await socket.connect())[0]


@pytest.mark.parametrize(
    ("scheme", "origin", "accepted"),
    [
        ("wss", "https://chat.example.org", True),
        ("wss", "http://chat.example.org", False),
        ("ws", "http://chat.example.org", True),
        ("ws", "https://chat.example.org", False),
    ],
)
async def test_the_sockets_own_scheme_gives_the_pages(settings, scheme, origin, accepted):
    """Behind a TLS proxy that says so (X-Forwarded-Proto), the socket is wss: the page https."""
    settings.ALLOWED_HOSTS = ["chat.example.org"]
    await make_room()
    socket = await database_sync_to_async(socket_from)(origin, "chat.example.org")
    socket.scope["scheme"] = scheme  # read when the application starts, on connect
    connected, _ = await socket.connect()
    assert connected is accepted
    if connected:
        await socket.disconnect()
