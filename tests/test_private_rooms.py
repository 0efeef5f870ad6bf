"""Private rooms: made by members, entered by invitation, invisible to everyone else."""

import datetime
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from rooms import invites, lobby, memberships
from rooms.identity import member_key
from rooms.models import Attachment, Invite, Membership, ModerationAction, Room

from .helpers import open_socket, socket_for
from .test_transcripts_export import download

pytestmark = pytest.mark.django_db(transaction=True)


def member(name: str, **extra) -> Client:
    client = Client()
    client.force_login(User.objects.create_user(name, password="x", **extra))
    return client


def guest(name: str) -> Client:
    client = Client()
    assert client.post("/", {"room_name": "Lounge", "username": name}).status_code == 303
    return client


def make_private(owner: Client, name: str = "Plans") -> Room:
    response = owner.post("/new-room/", {"room_name": name})
    assert response.status_code == 303
    return Room.objects.get(kind=Room.Kind.PRIVATE, name=name)


def invite_link(owner: Client, room: Room, **terms) -> str:
    response = owner.post(f"/rooms/{room.slug}/members/", {"days": 7, **terms})
    assert response.status_code == 303
    invite = room.invites.latest("created")
    return f"/invites/{invites.token(invite)}/"


@pytest.fixture
def olive() -> Client:
    return member("olive")


@pytest.fixture
def plans(olive, settings, tmp_path) -> Room:
    settings.MEDIA_ROOT = tmp_path
    room = make_private(olive)
    olive_key = member_key(User.objects.get(username="olive").pk)
    message = room.post("olive", "the secret plan", guest=False, author_key=olive_key)
    Attachment.objects.create(
        message=message,
        file=ContentFile(b"plan", name="plan.txt"),
        thumbnail=ContentFile(b"thumb", name="t"),
        name="plan.txt",
        size=4,
        content_type="text/plain",
    )
    return room


def test_a_member_makes_a_private_room_and_owns_it(olive):
    response = olive.post("/new-room/", {"room_name": "Plans"})
    room = Room.objects.get(name="Plans")
    assert response["Location"] == f"/rooms/{room.slug}/members/"
    assert room.kind == Room.Kind.PRIVATE
    # Nobody finds it by typing its name: that name leads to an open room of its own.
    assert room.slug.startswith("plans-") and room.slug != "plans"
    assert Membership.objects.values_list("name", "role").get(room=room) == ("olive", "owner")
    page = olive.get(room.get_absolute_url()).content.decode()
    assert 'id="messages"' in page and ">Members</a>" in page
    assert olive.post("/", {"room_name": "Plans"})["Location"] == "/rooms/plans/"
    assert Room.objects.get(slug="plans").kind == Room.Kind.OPEN


def test_guests_and_visitors_are_sent_to_log_in_to_make_one():
    for client in (Client(), guest("gus")):
        for response in (client.get("/new-room/"), client.post("/new-room/", {"room_name": "X"})):
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=/new-room/")
    assert not Room.objects.filter(kind=Room.Kind.PRIVATE).exists()
    with pytest.raises(memberships.Refused, match="guests can't own rooms"):
        from rooms.identity import Identity

        memberships.create_private_room(Identity("gus", True, "guest.x"), None, "X")


def test_a_bad_name_comes_back_with_its_reason(olive):
    for name, reason in (("", "Name the room"), ("!!!", "at least one letter"), ("x" * 61, "60")):
        response = olive.post("/new-room/", {"room_name": name})
        assert response.status_code == 400
        assert reason in response.content.decode()
    assert not Room.objects.exists()


def test_making_rooms_is_rate_limited(olive, rate_limited):
    for n in range(10):
        assert olive.post("/new-room/", {"room_name": f"Room {n}"}).status_code == 303
    response = olive.post("/new-room/", {"room_name": "One more"})
    assert response.status_code == 429
    assert "at most 10 new rooms" in response.content.decode()


def every_route(room: Room) -> list[tuple[str, str, dict]]:
    """Every way into a room by HTTP, as (method, path, data)."""
    message = room.messages.get()
    attachment = message.attachments.get()
    at = f"/rooms/{room.slug}"
    today = timezone.localdate().isoformat()
    return [
        ("get", f"{at}/", {}),
        ("get", f"{at}/?before=5", {}),
        ("get", f"{at}/?at=1", {}),
        ("post", f"{at}/", {"message": "let me in"}),
        ("post", f"{at}/about/", {"topic": "mine now"}),
        ("get", f"{at}/people/?q=o", {}),
        ("get", f"{at}/members/", {}),
        ("post", f"{at}/members/", {"days": 7}),
        ("get", f"{at}/messages/{message.pk}/", {}),
        *(
            ("get", f"{at}/messages/{message.pk}/?do={do}", {})
            for do in ("reply", "react", "edit", "delete")
        ),
        ("post", f"{at}/messages/{message.pk}/react/", {"reaction": "👍"}),
        ("post", f"{at}/messages/{message.pk}/edit/", {"message": "mine"}),
        ("post", f"{at}/messages/{message.pk}/delete/", {}),
        ("post", f"{at}/uploads/", {"message": "hi"}),
        ("get", attachment.get_absolute_url(), {}),
        ("get", attachment.get_thumbnail_url(), {}),
        ("get", f"{at}/{today}/", {}),
        ("get", f"{at}/{today}/?format=json", {}),
        ("get", f"{at}/export/?format=txt", {}),
        ("get", f"{at}/search/?q=secret", {}),
    ]


@pytest.mark.parametrize("who", ["visitor", "guest", "member", "staff"])
def test_someone_not_in_a_private_room_finds_nothing_of_it(plans, who):
    outsider = {
        "visitor": Client,
        "guest": lambda: guest("eve"),
        "member": lambda: member("carol"),
        "staff": lambda: member("sam", is_staff=True),
    }[who]()
    for method, path, data in every_route(plans):
        response = getattr(outsider, method)(path, data)
        assert response.status_code == 404, (method, path, response.status_code)
        assert b"secret plan" not in response.content and b"plan.txt" not in response.content
    # Not in any list either: not the lobby, not a search of every room.
    assert plans.name not in [card.room.name for card in lobby.listing()]
    assert lobby.cards_for({plans.pk}) == []
    page = outsider.get("/search/?q=secret").content.decode()
    assert "<mark>secret</mark>" not in page and "No messages match" in page
    # Nothing was changed by any of it.
    message = plans.messages.get()
    assert (message.body, message.deleted, plans.messages.count()) == ("the secret plan", None, 1)
    assert not message.reaction_set.exists() and Room.objects.get(pk=plans.pk).topic == ""


def test_its_members_find_all_of_it(plans, olive):
    for method, path, data in every_route(plans):
        if method == "get":
            response = olive.get(path, data, follow=True)
            assert response.status_code == 200, path
    assert "<mark>secret</mark> plan" in olive.get("/search/?q=secret").content.decode()


async def test_a_socket_into_a_private_room_is_refused_without_a_word(plans):
    for name in ("eve", None):
        socket = await open_socket(plans.slug, name)
        await socket.connect()
        closing = await socket.receive_output(timeout=5)
        # The first thing it gets is the close: no message, no presence, no catch-up.
        assert closing["type"] == "websocket.close"
        assert closing["code"] == (4004 if name else 4003)


def test_an_invited_member_comes_in_by_the_link(plans, olive):
    link = invite_link(olive, plans)
    # The owner sees the link to send.
    assert link in olive.get(f"/rooms/{plans.slug}/members/").content.decode()
    bob = member("bob")
    page = bob.get(link)
    assert page.status_code == 200 and "Join Plans" in page.content.decode()
    # Opening the link changed nothing: joining is bob's own POST.
    assert not Membership.objects.filter(room=plans, key__endswith=".bob").exists()
    assert bob.get(plans.get_absolute_url()).status_code == 404
    response = bob.post(link)
    assert response.status_code == 303 and response["Location"] == plans.get_absolute_url()
    assert "the secret plan" in bob.get(plans.get_absolute_url()).content.decode()
    assert Membership.objects.get(room=plans, name="bob").role == "member"
    # Again: already in, straight to the room.
    assert bob.get(link)["Location"] == plans.get_absolute_url()


def test_a_guest_comes_in_only_when_the_invitation_welcomes_guests(plans, olive):
    members_only = invite_link(olive, plans)
    visitor = Client()
    page = visitor.get(members_only).content.decode()
    assert "This invitation is for members" in page and 'name="username"' not in page
    gus = guest("gus")
    response = gus.post(members_only)
    assert response.status_code == 403 and "sign in or sign up" in response.content.decode()
    assert gus.get(plans.get_absolute_url()).status_code == 404

    welcoming = invite_link(olive, plans, guests="on")
    assert 'name="username"' in visitor.get(welcoming).content.decode()
    response = visitor.post(welcoming, {"username": ""})
    assert response.status_code == 400 and "Tell the room who you are." in response.content.decode()
    response = visitor.post(welcoming, {"username": "olive"})  # a member's name
    assert response.status_code == 400
    assert visitor.post(welcoming, {"username": "vera"}).status_code == 303
    page = visitor.get(plans.get_absolute_url()).content.decode()
    assert "You are <strong>vera</strong>" in page and "the secret plan" in page
    assert gus.post(welcoming).status_code == 303
    assert Membership.objects.filter(room=plans, user=None).count() == 2


def test_an_expired_invitation_lets_nobody_in(plans, olive):
    link = invite_link(olive, plans)
    Invite.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    bob = member("bob")
    for response in (bob.get(link), bob.post(link)):
        assert response.status_code == 410
        assert "This invitation has expired." in response.content.decode()
    assert bob.get(plans.get_absolute_url()).status_code == 404


def test_the_expiry_is_signed_into_the_link(plans, olive):
    invite_link(olive, plans)
    invite = Invite.objects.get()
    # A link signed for a moment already past: expired, whatever the row says.
    past = int((timezone.now() - datetime.timedelta(hours=1)).timestamp())
    stale = signing.Signer(salt=invites.SALT).sign_object({"n": invite.nonce, "e": past})
    assert member("bob").get(f"/invites/{stale}/").status_code == 410
    # And a changed one is no invitation at all.
    token = invites.token(invite)
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "nonsense", "a:b:c"):
        response = member("eve" + str(len(forged))).get(f"/invites/{forged}/")
        assert response.status_code == 404
        assert "not valid" in response.content.decode()


def test_a_withdrawn_invitation_lets_nobody_else_in(plans, olive):
    link = invite_link(olive, plans)
    bob = member("bob")
    assert bob.post(link).status_code == 303
    invite = Invite.objects.get()
    assert olive.post(f"/rooms/{plans.slug}/members/", {"revoke": invite.pk}).status_code == 303
    assert link not in olive.get(f"/rooms/{plans.slug}/members/").content.decode()
    carol = member("carol")
    response = carol.post(link)
    assert response.status_code == 410 and "withdrawn" in response.content.decode()
    assert carol.get(plans.get_absolute_url()).status_code == 404
    # Those who came in with it stay.
    assert bob.get(plans.get_absolute_url()).status_code == 200


def test_a_single_use_invitation_is_spent_by_the_first(plans, olive):
    link = invite_link(olive, plans, single_use="on")
    assert member("bob").post(link).status_code == 303
    response = member("carol").post(link)
    assert response.status_code == 410 and "has been used" in response.content.decode()
    response = member("dan").get(link)  # said before anyone presses Join
    assert response.status_code == 410 and "has been used" in response.content.decode()
    assert link not in olive.get(f"/rooms/{plans.slug}/members/").content.decode()


def test_only_the_owner_invites_and_removes(plans, olive):
    bob = member("bob")
    bob.post(invite_link(olive, plans))
    for data in ({"days": 7}, {"remove": member_key(User.objects.get(username="olive").pk)}):
        response = bob.post(f"/rooms/{plans.slug}/members/", data)
        assert response.status_code == 403
        assert "Only the room&#x27;s owner can do that." in response.content.decode()
    page = bob.get(f"/rooms/{plans.slug}/members/").content.decode()
    assert "olive" in page and "Make an invitation link" not in page
    # Nor does the owner remove themselves.
    olive_key = member_key(User.objects.get(username="olive").pk)
    response = olive.post(f"/rooms/{plans.slug}/members/", {"remove": olive_key})
    assert response.status_code == 403 and "The owner can" in response.content.decode()
    for bad in ({"days": "365"}, {"days": "x"}, {"revoke": "x"}, {"revoke": "999"}):
        response = olive.post(f"/rooms/{plans.slug}/members/", bad)
        assert response.status_code in {400, 404}, bad
    assert Invite.objects.count() == 1


def test_an_open_room_has_no_members_page(olive):
    olive.post("/", {"room_name": "Lounge"})
    assert olive.get("/rooms/lounge/members/").status_code == 404


async def invited_and_live(olive: Client, room: Room):
    """bob, a member who came in by olive's invitation, with a socket open in the room."""
    bob = Client()
    user = await database_sync_to_async(User.objects.create_user)("bob", password="x")
    await database_sync_to_async(bob.force_login)(user)
    await database_sync_to_async(bob.post)(await database_sync_to_async(invite_link)(olive, room))
    socket = socket_for(bob, room.slug)
    assert (await socket.connect())[0]
    return bob, user, socket


async def test_someone_removed_is_shut_out_at_once(plans, olive):
    bob, user, socket = await invited_and_live(olive, plans)
    response = await database_sync_to_async(olive.post)(
        f"/rooms/{plans.slug}/members/", {"remove": member_key(user.pk)}
    )
    assert response.status_code == 303
    told = await socket.receive_output(timeout=5)
    assert "You were removed from this room" in told["text"]
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4001
    # And kept out: no page, no socket, no catch-up.
    assert (await database_sync_to_async(bob.get)(plans.get_absolute_url())).status_code == 404
    again = socket_for(bob, plans.slug)
    await again.connect()
    assert (await again.receive_output(timeout=5))["code"] == 4004


def test_the_owner_exports_the_whole_room(plans, olive):
    response, text = download(olive, f"/rooms/{plans.slug}/export/?format=txt")
    assert response.status_code == 200
    assert "olive: the secret plan" in text


async def test_a_catch_up_after_a_removal_that_was_never_heard_gets_nothing(plans, olive):
    _, user, socket = await invited_and_live(olive, plans)
    # Gone from the record, without the word reaching his socket.
    await database_sync_to_async(Membership.objects.filter(user=user).delete)()
    await socket.send_to(json.dumps({"after": "0"}))
    told = await socket.receive_output(timeout=5)
    assert "You were removed from this room" in told["text"]
    assert "secret plan" not in told["text"]
    closing = await socket.receive_output(timeout=5)
    assert closing["type"] == "websocket.close" and closing["code"] == 4001


def test_a_removal_is_in_the_rooms_log(plans, olive):
    bob = member("bob")
    bob.post(invite_link(olive, plans))
    bob_key = member_key(User.objects.get(username="bob").pk)
    assert olive.post(f"/rooms/{plans.slug}/members/", {"remove": bob_key}).status_code == 303
    logged = ModerationAction.objects.get(room=plans)
    assert (logged.actor_name, logged.action, logged.target_name) == ("olive", "remove", "bob")
