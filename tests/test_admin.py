"""The admin (rooms/admin.py): moderators delete from there, live; nobody rewrites."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.admin import site
from django.contrib.auth.models import Permission, User

from rooms.identity import Identity
from rooms.models import Message, Room

from .helpers import joined_socket, make_room

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

ADA = Identity("ada", guest=True, key="guest.ada")
BOB = Identity("bob", guest=True, key="guest.bob")


def said(room: Room, author: Identity, text: str) -> Message:
    return room.post(author.name, text, guest=author.guest, author_key=author.key)


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss", password="x"))
    return client


def test_deleting_in_the_admin_leaves_a_tombstone(admin_client, room):
    message = said(room, ADA, "bad words")
    url = f"/admin/rooms/message/{message.pk}/delete/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    stored = reload(message)
    assert stored.deleted is not None and stored.body == "" and stored.revision == 2


def test_the_admins_bulk_delete_leaves_tombstones(admin_client, room):
    messages = [said(room, ADA, f"spam {n}") for n in range(3)]
    keep = said(room, BOB, "fine")
    response = admin_client.post(
        "/admin/rooms/message/",
        {"action": "delete_selected", "_selected_action": [m.pk for m in messages], "post": "yes"},
    )
    assert response.status_code == 302
    assert Message.objects.count() == 4
    assert list(Message.objects.filter(deleted__isnull=False).order_by("seq")) == messages
    assert reload(keep).body == "fine"
    room.refresh_from_db()
    assert room.last_revision == 7


def moderator_with_every_message_permission() -> User:
    """Staff granted every permission Django has on messages, change included."""
    moderator = User.objects.create_user("mod", password="x", is_staff=True)
    moderator.user_permissions.set(Permission.objects.filter(content_type__model="message"))
    return moderator


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: User.objects.create_superuser("boss", password="x"),
        moderator_with_every_message_permission,
    ],
    ids=["superuser", "moderator-with-change-permission"],
)
def test_the_admin_cannot_rewrite_a_message(client, room, make_user):
    """Only authors edit their words: whatever Django's permissions say, the admin shows a
    message read-only and refuses a change form that would otherwise be valid."""
    message = said(room, ADA, "as said")
    client.force_login(make_user())
    url = f"/admin/rooms/message/{message.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    # The change form the admin would draw if it let anyone change a message: every field
    # it would show, with the message's values, and new words in her mouth.
    model_admin = site.get_model_admin(Message)
    form = model_admin.get_form(page.wsgi_request, message, change=False)
    bound = form(instance=message)
    data = {name: bound[name].value() for name in bound.fields}
    data |= {"body": "put in her mouth", "_save": "Save"}
    assert set(bound.fields) >= {"room", "author", "guest", "body"}
    assert form(data, instance=reload(message)).is_valid()
    assert client.post(url, data).status_code == 403
    assert reload(message).body == "as said" and reload(message).revision == 1
    # And the page shows the message to read, with nothing to change it.
    assert "as said" in page.content.decode() and 'name="body"' not in page.content.decode()


async def test_an_admin_deletion_is_pushed_live(client):
    room = await make_room()
    message = await database_sync_to_async(said)(room, ADA, "bad")
    bob = await joined_socket(name="bob")
    boss = await database_sync_to_async(User.objects.create_superuser)("boss", password="x")
    await database_sync_to_async(client.force_login)(boss)
    url = f"/admin/rooms/message/{message.pk}/delete/"
    await database_sync_to_async(client.post)(url, {"post": "yes"})
    push = await bob.receive_from()
    assert "Message deleted" in push and "bad<" not in push
    await bob.disconnect()


def test_a_messages_reactions_and_what_it_replies_to_are_shown_to_read(admin_client, room):
    from rooms import posting, reacting

    original = said(room, ADA, "the original")
    reply = posting.post_message(room, BOB, "the reply", reply_to=original.pk)
    reacting.react(room, ADA, reply.pk, "<b>yes</b>")
    page = admin_client.get(f"/admin/rooms/message/{reply.pk}/change/").content.decode()
    assert "&lt;b&gt;yes&lt;/b&gt;" in page and "<b>yes</b>" not in page
    assert "ada: the original" in page
    # Read only: no field to change or take back a reaction from here.
    assert 'name="reaction_set-0-text"' not in page and "reaction_set-0-DELETE" not in page
