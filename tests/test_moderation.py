"""Moderation (rooms/moderation.py, rooms/restrictions.py): who may mute, ban and clear out
whom, what a mute or a ban stops on every path, sockets closed at once, and the log."""

import asyncio
import json
import re
import urllib.parse
import urllib.request

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from rooms import about, editing, moderation, reacting
from rooms.consumers import CLOSE_BANNED, CLOSE_IDENTITY_ENDED
from rooms.editing import Refused
from rooms.identity import Identity, member_key
from rooms.models import Ban, Membership, Message, ModerationAction, Mute, Room
from rooms.posting import post_message

from .helpers import box_text, frame, needs_redis, open_socket
from .servers import LIVE_WITHIN, join, room_socket, run_python

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

Kind = ModerationAction.Kind
BOB_KEY = "bob-guest-key"
BOB = Identity("bob", guest=True, key=f"guest.{BOB_KEY}", address="10.0.0.7")
CAROL = Identity("carol", guest=True, key="guest.carol-key", address="10.0.0.8")


def account(name: str, *, staff: bool = False) -> tuple[User, Identity]:
    user = User.objects.create_user(name, password="a long passphrase", is_staff=staff)
    return user, Identity(name, guest=False, key=member_key(user.pk))


def give_role(room: Room, user: User, role: str) -> None:
    Membership.objects.create(
        room=room, key=member_key(user.pk), user=user, name=user.username, role=role
    )


def said(room: Room, who: Identity, text: str) -> Message:
    return room.post(who.name, text, guest=who.guest, author_key=who.key)


@pytest.fixture
def setting():
    """An open room with its owner, a moderator, a plain member, and bob who spoke."""
    room = Room.objects.for_name("Django Girls")
    owner_user, owner = account("olive")
    mod_user, mod = account("mia")
    plain_user, plain = account("pat")
    give_role(room, owner_user, Membership.Role.OWNER)
    give_role(room, mod_user, Membership.Role.MODERATOR)
    said(room, BOB, "hello from bob")
    said(room, plain, "hello from pat")
    return {
        "room": room,
        "owner": (owner_user, owner),
        "mod": (mod_user, mod),
        "plain": (plain_user, plain),
    }


def log_of(room: Room) -> list[tuple[str, str, str]]:
    actions = ModerationAction.objects.filter(room=room).order_by("pk")
    return list(actions.values_list("actor_name", "action", "target_name"))


# Who may.


def test_a_plain_member_cant_moderate(setting):
    room, (user, pat) = setting["room"], setting["plain"]
    for act in (
        lambda: moderation.mute(room, pat, user, BOB.key, 10),
        lambda: moderation.ban(room, pat, user, BOB.key),
        lambda: moderation.remove_all(room, pat, user, BOB.key),
        lambda: moderation.appoint(room, pat, user, BOB.key),
    ):
        with pytest.raises(Refused):
            act()
    assert not Mute.objects.exists() and not Ban.objects.exists()
    assert room.messages.filter(deleted__isnull=False).count() == 0
    assert log_of(room) == []


def test_a_moderator_of_one_room_cant_moderate_another(setting):
    (user, mia) = setting["mod"]
    other = Room.objects.for_name("Other Room")
    said(other, BOB, "bob elsewhere")
    with pytest.raises(Refused, match="Only this room's moderators"):
        moderation.mute(other, mia, user, BOB.key, 10)
    with pytest.raises(Refused):
        editing.delete_message(other, mia, other.messages.get().pk, user)
    # In their own room they may.
    moderation.mute(setting["room"], mia, user, BOB.key, 10)
    assert Mute.objects.filter(room=setting["room"], key=BOB.key).exists()
    assert not Mute.objects.filter(room=other).exists()


def test_staff_moderate_every_room(setting):
    other = Room.objects.for_name("Other Room")
    said(other, BOB, "bob elsewhere")
    staff_user, staff = account("sam", staff=True)
    moderation.ban(other, staff, staff_user, BOB.key, reason="spam")
    assert Ban.objects.get(room=other).by == "sam"
    # Even over a room's owner.
    olive = setting["owner"][1]
    moderation.mute(setting["room"], staff, staff_user, olive.key, 60)
    assert Mute.objects.filter(key=olive.key).exists()


def test_moderators_cant_act_on_each_other_the_owner_or_themselves(setting):
    room, (user, mia) = setting["room"], setting["mod"]
    olive = setting["owner"][1]
    with pytest.raises(Refused, match="moderates this room too"):
        moderation.ban(room, mia, user, olive.key)
    with pytest.raises(Refused, match="yourself"):
        moderation.mute(room, mia, user, mia.key, 10)
    with pytest.raises(Refused, match="has not been in this room"):
        moderation.mute(room, mia, user, "guest.never-here", 10)


def test_the_owner_appoints_and_dismisses_moderators_and_a_moderator_cant(setting):
    room, (owner_user, olive) = setting["room"], setting["owner"]
    mod_user, mia = setting["mod"]
    pat = setting["plain"][1]
    with pytest.raises(Refused, match="owner"):
        moderation.appoint(room, mia, mod_user, pat.key)
    moderation.appoint(room, olive, owner_user, pat.key)
    assert Membership.objects.get(room=room, key=pat.key).role == Membership.Role.MODERATOR
    # pat may moderate now, and delete bob's message.
    assert moderation.can_moderate(room, pat, setting["plain"][0])
    assert moderation.dismiss(room, olive, owner_user, pat.key)
    assert not moderation.can_moderate(room, pat, setting["plain"][0])
    # In an open room the row only gave the role: it is gone.
    assert not Membership.objects.filter(room=room, key=pat.key).exists()
    assert [a for _, a, _ in log_of(room)] == [Kind.APPOINT, Kind.DISMISS]


def test_a_room_moderator_deletes_any_message_there_and_it_is_logged(setting):
    room, (user, mia) = setting["room"], setting["mod"]
    message = room.messages.get(author_key=BOB.key)
    assert editing.can_delete(message, mia, user)
    editing.delete_message(room, mia, message.pk, user)
    assert Message.objects.get(pk=message.pk).deleted is not None
    action = ModerationAction.objects.get()
    assert (action.actor_name, action.action, action.target_name) == ("mia", Kind.DELETE, "bob")
    assert "hello from bob" in action.detail
    # A plain member still may not.
    pat_user, pat = setting["plain"]
    theirs = said(room, CAROL, "carol's")
    assert not editing.can_delete(theirs, pat, pat_user)
    with pytest.raises(Refused):
        editing.delete_message(room, pat, theirs.pk, pat_user)


# A mute.


def test_a_mute_refuses_every_way_of_saying_something_with_the_reason(setting):
    room, (user, mia) = setting["room"], setting["mod"]
    own = room.messages.get(author_key=BOB.key)
    moderation.mute(room, mia, user, BOB.key, 60, "cool off")
    refusals = [
        ("body", lambda: post_message(room, BOB, "still talking")),
        ("body", lambda: editing.edit_message(room, BOB, own.pk, "edited")),
        ("reaction", lambda: reacting.react(room, BOB, own.pk, "👍")),
        ("topic", lambda: about.change(room, BOB, "topic", "my topic")),
    ]
    for field, act in refusals:
        with pytest.raises(ValidationError) as refused:
            act()
        [reason] = refused.value.message_dict[field]
        assert reason.startswith("You are muted in this room until ")
        assert "Reason: cool off" in reason
    assert room.messages.count() == 2
    # Others go on; and once lifted, bob does too.
    post_message(room, CAROL, "carol may")
    assert moderation.unmute(room, mia, user, BOB.key)
    post_message(room, BOB, "back")
    assert [a for _, a, _ in log_of(room)] == [Kind.MUTE, Kind.UNMUTE]


def test_a_mute_is_over_when_its_time_is(setting):
    room, (user, mia) = setting["room"], setting["mod"]
    moderation.mute(room, mia, user, BOB.key, 10)
    Mute.objects.update(until=Mute.objects.get().created)  # as if ten minutes went by
    post_message(room, BOB, "free again")


def test_a_muted_plain_form_post_keeps_the_text_in_the_box(setting, client):
    room, (user, mia) = setting["room"], setting["mod"]
    client.post("/", {"room_name": room.name, "username": "bob"})
    session = client.session
    bob_key = session["parley_guest"]
    said(room, Identity("bob", guest=True, key=f"guest.{bob_key}"), "hi")
    moderation.mute(room, mia, user, f"guest.{bob_key}", 10, "flooding")
    response = client.post(room.get_absolute_url(), {"message": "one more <thing>"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "You are muted in this room until" in page and "flooding" in page
    assert box_text(page) == "one more <thing>"
    assert room.messages.filter(body__contains="one more").count() == 0


async def test_a_muted_socket_is_told_at_once_and_its_text_comes_back():
    room = await database_sync_to_async(Room.objects.for_name)("Django Girls")
    mod_user, mia = await database_sync_to_async(account)("mia", staff=True)
    bob = await open_socket(room.slug, "bob", guest_key=BOB_KEY)
    assert (await bob.connect())[0]
    await database_sync_to_async(post_message)(room, BOB, "hi")
    assert "hi" in await bob.receive_from()
    await database_sync_to_async(moderation.mute)(room, mia, mod_user, BOB.key, 60, "calm down")
    told = await bob.receive_from()
    assert 'id="composer-error"' in told and "You are muted in this room until" in told
    await bob.send_to(frame("but listen"))
    refused = await bob.receive_from()
    assert "calm down" in refused and box_text(refused) == "but listen"
    await bob.disconnect()
    assert await database_sync_to_async(room.messages.count)() == 1


# A ban.


async def test_a_ban_closes_the_open_socket_at_once_and_says_why():
    room = await database_sync_to_async(Room.objects.for_name)("Django Girls")
    mod_user, mia = await database_sync_to_async(account)("mia", staff=True)
    bob = await open_socket(room.slug, "bob", guest_key=BOB_KEY)
    assert (await bob.connect())[0]
    await database_sync_to_async(post_message)(room, BOB, "hi")
    assert "hi" in await bob.receive_from()
    await database_sync_to_async(moderation.ban)(room, mia, mod_user, BOB.key, False, "trolling")
    told = await bob.receive_from()
    assert 'id="identity-ended"' in told
    assert "You are banned from this room." in told and "trolling" in told
    closing = await bob.receive_output(timeout=5)
    assert closing == {
        "type": "websocket.close",
        "code": CLOSE_IDENTITY_ENDED,
        "reason": closing["reason"],
    }
    # And it can't come back.
    again = await open_socket(room.slug, "bob", guest_key=BOB_KEY)
    assert (await again.connect())[0]
    assert "trolling" in await again.receive_from()
    closed = await again.receive_output(timeout=5)
    assert (closed["type"], closed["code"]) == ("websocket.close", CLOSE_BANNED)
    assert "banned" in closed["reason"]


def banned_guest(client, room: Room, address: str = "10.0.0.7") -> str:
    """A guest who joined from `address` and spoke; returns their key."""
    client.post("/", {"room_name": room.name, "username": "bob"}, REMOTE_ADDR=address)
    assert client.get(room.get_absolute_url(), REMOTE_ADDR=address).status_code == 200
    key = f"guest.{client.session['parley_guest']}"
    said(room, Identity("bob", guest=True, key=key), "hi")
    return key


def test_a_banned_person_cant_open_the_page_post_search_or_read_it(setting, client):
    room, (user, mia) = setting["room"], setting["mod"]
    key = banned_guest(client, room)
    moderation.ban(room, mia, user, key, reason="spam")
    page = client.get(room.get_absolute_url(), REMOTE_ADDR="10.0.0.7")
    assert page.status_code == 403
    assert "You are banned from this room" in page.content.decode()
    assert "spam" in page.content.decode() and "hello from bob" not in page.content.decode()
    post = client.post(room.get_absolute_url(), {"message": "let me in"}, REMOTE_ADDR="10.0.0.7")
    assert post.status_code == 403
    assert not room.messages.filter(body="let me in").exists()
    search = client.get(f"/rooms/{room.slug}/search/?q=hello", REMOTE_ADDR="10.0.0.7")
    assert search.status_code == 403
    # Nor read its days.
    today = room.messages.last().created.date().isoformat()
    day = client.get(f"/rooms/{room.slug}/{today}/", REMOTE_ADDR="10.0.0.7")
    assert "hello from bob" not in day.content.decode()
    # Another room is another matter.
    other = Room.objects.for_name("Other Room")
    assert client.get(other.get_absolute_url(), REMOTE_ADDR="10.0.0.7").status_code == 200


@pytest.mark.parametrize("also_address", [True, False])
def test_a_banned_guest_back_with_a_new_session_from_the_same_address(
    setting, client, also_address
):
    room, (user, mia) = setting["room"], setting["mod"]
    key = banned_guest(client, room)
    moderation.ban(room, mia, user, key, also_address=also_address)
    client.cookies.clear()
    client.post("/", {"room_name": room.name, "username": "robert"}, REMOTE_ADDR="10.0.0.7")
    page = client.get(room.get_absolute_url(), REMOTE_ADDR="10.0.0.7")
    assert page.status_code == (403 if also_address else 200)
    # Someone from elsewhere is never caught by it.
    client.cookies.clear()
    client.post("/", {"room_name": room.name, "username": "rita"}, REMOTE_ADDR="10.0.0.9")
    assert client.get(room.get_absolute_url(), REMOTE_ADDR="10.0.0.9").status_code == 200


def test_an_address_ban_needs_an_address_seen_lately(setting):
    room, (user, mia) = setting["room"], setting["mod"]
    with pytest.raises(ValidationError, match="address is not known"):
        moderation.ban(room, mia, user, BOB.key, also_address=True)
    assert not Ban.objects.exists()


async def test_an_address_ban_closes_other_guests_sockets_from_that_address():
    room = await database_sync_to_async(Room.objects.for_name)("Django Girls")
    mod_user, mia = await database_sync_to_async(account)("mia", staff=True)
    sockets = []
    for name, guest_key in (("bob", BOB_KEY), ("robert", "robert-key")):
        socket = await open_socket(room.slug, name, guest_key=guest_key)
        socket.scope["client"] = ("10.0.0.7", 50000)
        assert (await socket.connect())[0]
        sockets.append(socket)
    elsewhere = await open_socket(room.slug, "rita")
    elsewhere.scope["client"] = ("10.0.0.9", 50000)
    assert (await elsewhere.connect())[0]
    await database_sync_to_async(post_message)(room, BOB, "hi")
    for socket in (*sockets, elsewhere):
        assert "hi" in await socket.receive_from()
    await database_sync_to_async(moderation.ban)(room, mia, mod_user, BOB.key, True, "")
    for socket in sockets:
        assert "You are banned from this room." in await socket.receive_from()
        assert (await socket.receive_output(timeout=5))["code"] == CLOSE_IDENTITY_ENDED
    # rita, from elsewhere, is still here: the next message reaches her first.
    await database_sync_to_async(post_message)(room, CAROL, "still here")
    assert "still here" in await elsewhere.receive_from()
    await elsewhere.disconnect()


# Clearing out.


async def test_remove_all_tombstones_every_message_of_that_person_and_pushes_each():
    room = await database_sync_to_async(Room.objects.for_name)("Django Girls")
    mod_user, mia = await database_sync_to_async(account)("mia", staff=True)
    for n in range(3):
        await database_sync_to_async(said)(room, BOB, f"spam {n}")
    kept = await database_sync_to_async(said)(room, CAROL, "a fine message")
    carol = await open_socket(room.slug, "carol")
    assert (await carol.connect())[0]
    gone = await database_sync_to_async(moderation.remove_all)(room, mia, mod_user, BOB.key)
    assert gone == 3
    bobs = await database_sync_to_async(
        lambda: list(room.messages.filter(author_key=BOB.key).values_list("pk", "deleted", "body"))
    )()
    assert all(deleted is not None and body == "" for _, deleted, body in bobs)
    pushed = ""
    while not all(f'id="message-{pk}"' in pushed for pk, *_ in bobs):
        pushed += await carol.receive_from()
    for pk, *_ in bobs:
        drawn = re.search(rf'<article [^>]*id="message-{pk}".*?</article>', pushed, re.DOTALL)
        assert "Message deleted" in drawn[0]
    assert "spam" not in pushed
    await carol.disconnect()
    assert (await database_sync_to_async(Message.objects.get)(pk=kept.pk)).deleted is None
    [action] = await database_sync_to_async(lambda: list(ModerationAction.objects.all()))()
    assert (action.action, action.target_name, action.detail) == (
        Kind.REMOVE_ALL,
        "bob",
        "3 message(s)",
    )


# The page and the log.


def log_in(client, user: User) -> None:
    client.force_login(user)
    client.post("/", {"room_name": "Django Girls"})


def test_the_moderation_page_is_for_moderators_only(setting, client):
    room = setting["room"]
    url = f"/rooms/{room.slug}/moderation/"
    log_in(client, setting["plain"][0])
    assert client.get(url).status_code == 403
    assert "Moderation</a>" not in client.get(room.get_absolute_url()).content.decode()
    log_in(client, setting["mod"][0])
    page = client.get(url)
    assert page.status_code == 200 and "hello from bob" not in page.content.decode()
    assert "bob" in page.content.decode()
    room_page = client.get(room.get_absolute_url()).content.decode()
    assert f'href="{url}">Moderation</a>' in room_page
    # Every message's Delete shows on the moderator's page (its own <style>).
    assert ".message .message__action--delete" in room_page


def test_a_private_room_moderation_page_is_not_there_for_outsiders(client):
    owner_user, olive = account("olive")
    from rooms.memberships import create_private_room

    room = create_private_room(olive, owner_user, "Secret")
    log_in(client, account("pat")[0])
    assert client.get(f"/rooms/{room.slug}/moderation/").status_code == 404
    log_in(client, owner_user)
    assert client.get(f"/rooms/{room.slug}/moderation/").status_code == 200


def test_the_page_does_each_action_and_the_log_lists_every_one(setting, client):
    room = setting["room"]
    url = f"/rooms/{room.slug}/moderation/"
    pat = setting["plain"][1]
    log_in(client, setting["owner"][0])
    steps = [
        {"do": "mute", "target": BOB.key, "minutes": "10", "reason": "calm"},
        {"do": "unmute", "target": BOB.key},
        {"do": "ban", "target": BOB.key, "reason": "spam"},
        {"do": "unban", "target": BOB.key},
        {"do": "remove_all", "target": BOB.key},
        {"do": "appoint", "target": pat.key},
        {"do": "dismiss", "target": pat.key},
    ]
    for step in steps:
        response = client.post(url, step)
        assert response.status_code == 303, (step, response.content.decode()[:500])
    page = client.get(url).content.decode()
    lines = re.findall(r'<li class="moderation__action">(.*?)</li>', page, re.DOTALL)
    shown = [re.sub(r"<[^>]+>|\s+", " ", line) for line in lines]
    wanted = [
        "olive dismissed as moderator pat",
        "olive made a moderator pat",
        "olive removed all messages of bob",
        "olive unbanned bob",
        "olive banned bob",
        "olive unmuted bob",
        "olive muted bob",
    ]
    assert len(shown) == len(wanted)
    for line, words in zip(shown, wanted, strict=True):
        assert words in " ".join(line.split())


def test_the_page_says_why_an_action_was_refused(setting, client):
    room = setting["room"]
    url = f"/rooms/{room.slug}/moderation/"
    log_in(client, setting["mod"][0])
    olive = setting["owner"][1]
    response = client.post(url, {"do": "ban", "target": olive.key})
    assert response.status_code == 403
    assert "moderates this room too" in response.content.decode()
    bad = client.post(url, {"do": "mute", "target": BOB.key, "minutes": "forever"})
    assert bad.status_code == 400 and "whole number of minutes" in bad.content.decode()
    nothing = client.post(url, {"do": "explode", "target": BOB.key})
    assert nothing.status_code == 400
    assert not Ban.objects.exists() and not Mute.objects.exists()


# Two processes on Redis.


def log_in_over_http(base_url: str, username: str) -> object:
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = {"csrfmiddlewaretoken": token, "username": username, "password": "a long passphrase"}
    opener.open(base_url + "/accounts/login/", urllib.parse.urlencode(body).encode())
    return opener, jar


@needs_redis
async def test_a_ban_on_one_process_closes_the_socket_on_the_other(two_servers):
    one, two = two_servers
    setup = (
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('mod2', password='a long passphrase', is_staff=True)"
    )
    run_python(one.env, "manage.py", "shell", "-c", setup, check=True)
    bob_jar = join(two.url, "Across Bans", "bob")
    bob = await room_socket(two, "across-bans", bob_jar)
    await bob.send(json.dumps({"message": "hello"}))
    while "hello" not in await bob.recv():
        pass
    code = (
        "from rooms.models import Message; "
        "print(Message.objects.get(room__slug='across-bans').author_key)"
    )
    key = run_python(one.env, "manage.py", "shell", "-c", code, check=True).stdout.split()[-1]
    opener, _jar = await asyncio.to_thread(log_in_over_http, one.url, "mod2")
    url = one.url + "/rooms/across-bans/moderation/"
    page = (await asyncio.to_thread(opener.open, url)).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = {"csrfmiddlewaretoken": token, "do": "ban", "target": key, "reason": "across"}
    await asyncio.to_thread(opener.open, url, urllib.parse.urlencode(body).encode())
    import websockets

    async def closed() -> websockets.ConnectionClosed:
        told = ""
        try:
            while True:
                told += await bob.recv()
        except websockets.ConnectionClosed as ended:
            return told, ended

    told, ended = await asyncio.wait_for(closed(), LIVE_WITHIN * 4)
    assert "You are banned from this room." in told and "across" in told
    assert ended.rcvd.code == CLOSE_IDENTITY_ENDED
