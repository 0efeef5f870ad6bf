"""Direct messages (rooms/direct.py): starting a conversation, finding it again, its page,
the form without JavaScript, and that nobody outside it gets in."""

import datetime

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from rooms import direct, limits
from rooms.editing import Refused
from rooms.identity import Identity, member_key
from rooms.models import Membership, Room

from .helpers import frame, next_is, receive_message, socket_for

pytestmark = pytest.mark.django_db(transaction=True)

GUEST = Identity("ada", guest=True, key="guest.ada")


def member(name: str) -> User:
    return User.objects.create_user(name, password="a long passphrase")


def me(user: User) -> Identity:
    return Identity(user.get_username(), guest=False, key=member_key(user.pk))


def start(user: User, *names: str) -> Room:
    return direct.start_conversation(me(user), user, list(names))


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return " ".join(error.value.message_dict[direct.FIELD])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def people(db) -> dict[str, User]:
    return {name: member(name) for name in ("ada", "bob", "carol", "dan")}


# The domain function.


def test_a_conversation_is_a_direct_room_with_everyone_in_it(people):
    room = start(people["ada"], "bob", "carol")
    assert room.kind == Room.Kind.DIRECT and not room.is_open
    assert room.name == "bob, carol"
    # An address nobody guesses from the names.
    assert room.slug.startswith("bob-carol-") and room.slug != "bob-carol"
    found = Membership.objects.filter(room=room).order_by("key")
    assert [(m.key, m.user.username, m.name, m.role) for m in found] == sorted(
        (member_key(people[name].pk), name, name, "member") for name in ("ada", "bob", "carol")
    )


def test_the_same_people_find_the_same_conversation_in_any_order_by_any_of_them(people):
    room = start(people["ada"], "bob", "carol")
    assert start(people["ada"], "carol", "bob") == room
    assert start(people["carol"], "bob", "ada") == room
    assert start(people["bob"], "carol", "ada") == room
    # Named in another letter case, twice, or with oneself: the same people.
    assert start(people["bob"], "CAROL", "Ada", "ada", "bob") == room
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1


def test_different_people_get_different_conversations(people):
    rooms = {
        start(people["ada"], "bob"),
        start(people["ada"], "carol"),
        start(people["ada"], "bob", "carol"),
        start(people["bob"], "carol"),
        start(people["bob"], "carol", "dan"),
    }
    assert len(rooms) == 5
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 5


def test_guests_and_nobody_are_refused(people):
    for identity in (GUEST, None):
        with pytest.raises(Refused, match="Sign in to message someone"):
            direct.start_conversation(identity, None, ["bob"])
    # A guest's session with a member's account object passed in is still a guest.
    with pytest.raises(Refused):
        direct.start_conversation(GUEST, people["ada"], ["bob"])
    assert not Room.objects.exists()


def test_unknown_and_inactive_names_are_listed_and_nothing_is_made(people):
    people["dan"].is_active = False
    people["dan"].save()
    with pytest.raises(ValidationError) as error:
        start(people["ada"], "bob", "zed", "dan", "yan")
    assert refusal(error) == "No member goes by these names: zed, dan, yan. Check the spelling."
    with pytest.raises(ValidationError) as error:
        start(people["ada"], "bob", "zed")
    assert refusal(error) == "No member goes by this name: zed. Check the spelling."
    assert not Room.objects.exists()


def test_oneself_alone_or_nobody_is_refused(people):
    for names in ([], ["ada"], ["ADA", "ada"]):
        with pytest.raises(ValidationError) as error:
            start(people["ada"], *names)
        assert refusal(error) == direct.NOBODY
    assert not Room.objects.exists()


def test_at_most_eight_others(people):
    for n in range(8):
        member(f"p{n}")
    eight = [f"p{n}" for n in range(8)]
    assert start(people["ada"], *eight, "ada").memberships.count() == 9
    with pytest.raises(ValidationError) as error:
        start(people["ada"], *eight, "bob")
    assert refusal(error) == direct.TOO_MANY


def test_starting_conversations_is_rate_limited(people, rate_limited):
    count = limits.LIMITS["room"][0]
    for _ in range(count):
        start(people["ada"], "bob")
    with pytest.raises(ValidationError) as error:
        start(people["ada"], "bob")
    assert limits.is_rate_limited(error.value, direct.FIELD)
    assert "Slow down" in refusal(error)
    # Unknown names count too: the answer names them, so trying names is limited.
    for _ in range(count):
        with pytest.raises(ValidationError) as error:
            start(people["carol"], "nobody")
        assert not limits.is_rate_limited(error.value, direct.FIELD)
    with pytest.raises(ValidationError) as error:
        start(people["carol"], "nobody")
    assert limits.is_rate_limited(error.value, direct.FIELD)


def test_started_at_the_same_moment_elsewhere_the_stored_one_is_returned(people, monkeypatch):
    """Both looked and found nothing; the other stored it first: this one's insert meets
    the unique key and returns theirs, with nothing made twice."""
    theirs = start(people["bob"], "ada")
    looked = []

    def not_yet(key: str):
        looked.append(key)
        return None if len(looked) == 1 else Room.objects.filter(direct_key=key).first()

    monkeypatch.setattr(direct, "find", not_yet)
    assert start(people["ada"], "bob") == theirs
    assert len(looked) == 2
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 1
    assert Membership.objects.count() == 2


def test_a_names_letters_a_slug_cant_hold_still_make_an_address(db):
    ada = member("ada")
    member("Σωκράτης")
    room = start(ada, "σωκράτης")
    assert room.name == "Σωκράτης" and room.slug.startswith("conversation-")


def test_conversations_of_lists_mine_newest_activity_first(people):
    older = start(people["ada"], "bob")
    newer = start(people["carol"], "ada", "dan")
    not_mine = start(people["bob"], "carol")
    Room.objects.for_name("Open Room")
    assert direct.conversations_of(me(people["ada"])) == [newer, older]
    # Said something in the older one: now it is the newest.
    older.post("bob", "hello", guest=False, author_key=member_key(people["bob"].pk))
    Room.objects.filter(pk=older.pk).update(
        last_activity=timezone.now() + datetime.timedelta(seconds=1)
    )
    found = direct.conversations_of(me(people["ada"]))
    assert found == [older, newer]
    assert [room.people for room in found] == [["bob"], ["carol", "dan"]]
    assert direct.conversations_of(me(people["bob"])) == [older, not_mine]
    assert direct.conversations_of(GUEST) == direct.conversations_of(None) == []


# The pages.


def test_the_form_asks_members_for_names_and_guests_to_sign_in(people, client):
    page = signed_in(people["ada"]).get("/messages/new/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="people"' in text and "Names, separated by commas" in text
    # A link can name the person: the form comes filled in (and sends nothing by itself).
    filled = signed_in(people["ada"]).get("/messages/new/?to=bob").content.decode()
    assert 'name="people" value="bob"' in filled
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()
    for visitor in (client, guest_client()):
        text = visitor.get("/messages/new/").content.decode()
        assert 'name="people"' not in text
        assert "Conversations are between members" in text
        assert 'href="/accounts/login/?next=/messages/new/"' in text


def guest_client() -> Client:
    guest = Client()
    assert guest.post("/", {"room_name": "Lobby", "username": "eve"}).status_code == 303
    return guest


def test_posting_the_form_goes_to_the_conversation_and_again_to_the_same(people):
    ada = signed_in(people["ada"])
    response = ada.post("/messages/new/", {"people": "bob, carol"})
    assert response.status_code == 303
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response["Location"] == room.get_absolute_url()
    again = signed_in(people["carol"]).post("/messages/new/", {"people": "ada,bob"})
    assert (again.status_code, again["Location"]) == (303, room.get_absolute_url())


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Name the members you want to talk to."),
        ("   ", "Name the members you want to talk to."),
        ("ada", direct.NOBODY),
        ("bob, <b>zed</b>", "No member goes by this name: &lt;b&gt;zed&lt;/b&gt;."),
        ("x" * 401, "at most 400 characters"),
    ],
)
def test_the_form_says_what_is_wrong_beside_the_field(people, typed, error):
    response = signed_in(people["ada"]).post("/messages/new/", {"people": typed})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'class="field__error" id="id_people_error"' in text
    assert error in text.replace("&#x27;", "'")
    assert "<b>zed" not in text
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_the_form_over_the_limit_is_429(people, rate_limited):
    ada = signed_in(people["ada"])
    for _ in range(limits.LIMITS["room"][0]):
        assert ada.post("/messages/new/", {"people": "bob"}).status_code == 303
    response = ada.post("/messages/new/", {"people": "bob"})
    assert response.status_code == 429
    assert "Slow down" in response.content.decode()


def test_a_guest_posting_the_form_is_refused(people, client):
    for visitor in (client, guest_client()):
        response = visitor.post("/messages/new/", {"people": "bob"})
        assert response.status_code == 403
        assert "Sign in to message someone" in response.content.decode()
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()


def test_the_home_page_links_to_the_form_and_lists_conversations_for_members(people):
    start(people["ada"], "bob")
    start(people["carol"], "ada", "dan")
    text = signed_in(people["ada"]).get("/").content.decode()
    assert 'href="/messages/new/">Message someone</a>' in text
    listed = text[text.index("Your conversations") :]
    assert listed.index(">carol<") < listed.index(">dan<") < listed.index(">bob<")
    bob = signed_in(people["bob"]).get("/").content.decode()
    assert "Your conversations" in bob and ">carol<" not in bob
    guest = guest_client().get("/").content.decode()
    assert "Message someone" not in guest and "Your conversations" not in guest


def test_the_room_page_names_the_others_to_each_of_them(people):
    room = start(people["ada"], "bob", "carol")
    for name, others in (("ada", "bob, carol"), ("bob", "ada, carol"), ("carol", "ada, bob")):
        text = signed_in(people[name]).get(room.get_absolute_url()).content.decode()
        heading = text[text.index('<h1 id="room-title">') : text.index("</h1>")]
        shown = heading.replace('<span class="conversation__name" dir="auto">', "")
        assert shown.replace("</span>", "").endswith(others)
        assert f"<title>{others} · Parley</title>" in text
        assert "only the people in this conversation can read it" in text
        assert "change name or room" not in text


def test_nobody_outside_the_conversation_sees_its_page(people, client):
    room = start(people["ada"], "bob")
    said = room.post("ada", "just us", guest=False, author_key=member_key(people["ada"].pk))
    for outsider in (signed_in(people["carol"]), guest_client(), client):
        # Nor its address, its message's, the lobby's listing or search.
        for url in (room.get_absolute_url(), said.get_absolute_url(), "/", "/search/?q=just"):
            response = outsider.get(url)
            assert "just us" not in response.content.decode()
        assert outsider.get(room.get_absolute_url()).status_code == 404
        assert outsider.get(said.get_absolute_url()).status_code == 404
        post = outsider.post(room.get_absolute_url(), {"message": "let me in"})
        assert post.status_code == 404
    assert list(room.messages.values_list("body", flat=True)) == ["just us"]


# The socket.


@pytest.mark.usefixtures("fresh_channel_layer")
async def test_the_people_in_a_conversation_talk_live_and_an_outsider_is_refused(people):
    room = await database_sync_to_async(start)(people["ada"], "bob")
    ada, bob, carol = [
        socket_for(await database_sync_to_async(signed_in)(people[name]), room.slug)
        for name in ("ada", "bob", "carol")
    ]
    assert (await ada.connect())[0] and (await bob.connect())[0]
    await carol.connect()
    closing = await carol.receive_output(timeout=5)
    # Refused the way an unknown room is, with nothing sent first.
    assert closing == {"type": "websocket.close", "code": 4004, "reason": "No such room."}
    await ada.send_to(frame("hello bob"))
    assert "hello bob" in await receive_message(ada)
    assert "hello bob" in await next_is(bob, "hello bob")
    await bob.send_to(frame("hi ada"))
    assert "hi ada" in await receive_message(ada)
    await ada.disconnect()
    await bob.disconnect()


def test_my_rooms_names_a_conversation_by_the_others_and_starting_again_brings_it_back(people):
    room = start(people["ada"], "bob", "carol")
    bob = signed_in(people["bob"])
    bob.post("/", {"room_name": "Lounge"})
    page = bob.get("/rooms/lounge/").content.decode()
    # bob's list says who else is in it, not the name it was started under.
    assert '<span class="my-room__name">ada, carol</span>' in page
    assert bob.post(f"/rooms/{room.slug}/leave/").status_code == 303
    assert bob.get(room.get_absolute_url()).status_code == 404
    assert start(people["bob"], "carol", "ada") == room
    assert bob.get(room.get_absolute_url()).status_code == 200
