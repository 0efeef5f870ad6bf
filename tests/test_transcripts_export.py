"""A day, or a whole room, as plain text and JSON: streamed, tombstones kept, text as typed."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.test import AsyncClient

from rooms import exports, transcripts
from rooms.models import Message, Reaction, store_messages

from .test_transcripts import at, said
from .xss import PAYLOADS

# Downloads are streamed through the database's thread: the record must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def download(client, path: str) -> tuple[StreamingHttpResponse, str]:
    """Fetch through the ASGI handler, as the server does, with `client`'s session."""

    async def fetch():
        asgi = AsyncClient()
        asgi.cookies = client.cookies
        response = await asgi.get(path)
        if not response.streaming:
            return response, response.content.decode()
        return response, b"".join([part async for part in response.streaming_content]).decode()

    return async_to_sync(fetch)()


@pytest.fixture
def day(room):
    """A day with a reply, an edit, reactions, a multi-line text and a deletion."""
    hello = said(room, "ada", "hello", at(3, 10, 15, 3))
    reply = room.new_message("bob", "line one\nline two", reply_to=hello)
    store_messages([reply])
    Message.objects.filter(pk=reply.pk).update(created=at(3, 10, 16))
    gone = said(room, "carol", "oops", at(3, 11))
    room.revise(gone.pk, lambda message: message.erase())
    room.revise(hello.pk, lambda message: message.rewrite("hello, all"))
    Reaction.objects.create(message=hello, text="👍", author="bob", author_key="k1")
    Reaction.objects.create(message=hello, text="👍", author="carol", author_key="k2")
    said(room, "ada", "the next day", at(4, 9))
    return room


def test_a_day_as_plain_text(joined, day):
    response, text = download(joined, "/rooms/django-girls/2026-12-03/?format=txt")
    assert response.status_code == 200
    # Streamed asynchronously: under ASGI a synchronous stream would be read whole first.
    assert isinstance(response, StreamingHttpResponse) and response.is_async
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="django-girls-2026-12-03.txt"'
    hello = Message.objects.get(author="ada", seq=1)
    assert text.splitlines() == [
        "2026-12-03 10:15:03 ada: hello, all (edited)",
        "    [reactions: 👍 2]",
        "2026-12-03 10:16:00 bob: line one",
        "    line two",
        f"    (in reply to message {hello.pk})",
        "2026-12-03 11:00:00 carol: [message deleted]",
    ]


def test_a_day_as_json(joined, day):
    response, text = download(joined, "/rooms/django-girls/2026-12-03/?format=json")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="django-girls-2026-12-03.json"'
    hello, reply, gone = json.loads(text)
    assert hello["author"] == "ada" and hello["body"] == "hello, all"
    assert hello["created"] == "2026-12-03T10:15:03+00:00"
    assert hello["edited"] is not None and hello["deleted"] is None
    assert hello["reactions"] == [{"text": "👍", "count": 2, "names": ["bob", "carol"]}]
    assert reply["reply_to"] == hello["id"] and reply["body"] == "line one\nline two"
    assert [hello["seq"], reply["seq"], gone["seq"]] == [1, 2, 3]
    # A tombstone: in its place, with when it went, and no text.
    assert gone["author"] == "carol" and gone["body"] == "" and gone["deleted"]
    assert set(hello) == {
        "id",
        "seq",
        "author",
        "guest",
        "created",
        "edited",
        "deleted",
        "reply_to",
        "body",
        "attachments",
        "reactions",
    }


def test_an_empty_day_downloads_as_empty(joined, day):
    _, text = download(joined, "/rooms/django-girls/2026-12-05/?format=json")
    assert json.loads(text) == []
    _, text = download(joined, "/rooms/django-girls/2026-12-05/?format=txt")
    assert text == ""


def test_an_unknown_format_is_a_clear_400(joined, day):
    response = joined.get("/rooms/django-girls/2026-12-03/?format=pdf")
    assert response.status_code == 400
    assert exports.UNKNOWN_FORMAT in response.content.decode()


def test_hostile_text_stays_plain_text_in_downloads(joined, room):
    for n, payload in enumerate(PAYLOADS):
        said(room, "mallory", payload, at(3, 9, n))
    _, text = download(joined, "/rooms/django-girls/2026-12-03/?format=txt")
    assert f"mallory: {PAYLOADS[0]}" in text
    _, text = download(joined, "/rooms/django-girls/2026-12-03/?format=json")
    assert [record["body"] for record in json.loads(text)] == PAYLOADS


def test_many_messages_are_read_a_page_at_a_time(room):
    for n in range(7):
        room.post("ada", f"message {n}")
    pages = list(transcripts.in_pages(room.messages.all(), size=3))
    assert [[m.body for m in page] for page in pages] == [
        ["message 0", "message 1", "message 2"],
        ["message 3", "message 4", "message 5"],
        ["message 6"],
    ]
    # Read lazily: nothing past the first page before it has been written.
    reads = []

    def counted():
        for page in transcripts.in_pages(room.messages.all(), size=3):
            reads.append(page)
            yield page

    pieces = exports.as_json(counted())
    start = next(pieces) + next(pieces)
    assert len(reads) == 1
    rest = "".join(pieces)
    assert len(reads) == 3
    assert [r["body"] for r in json.loads(start + rest)] == [f"message {n}" for n in range(7)]


def staff(client, name="mod", is_staff=True):
    user = User.objects.create_user(name, password="x", is_staff=is_staff)
    client.force_login(user)
    return client


def test_staff_export_the_whole_room(client, day):
    response, text = download(staff(client), "/rooms/django-girls/export/?format=json")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="django-girls-all-')
    assert [record["body"] for record in json.loads(text)] == [
        "hello, all",
        "line one\nline two",
        "",
        "the next day",
    ]
    _, text = download(client, "/rooms/django-girls/export/?format=txt")
    assert text.splitlines()[-1] == "2026-12-04 09:00:00 ada: the next day"


def test_the_whole_room_export_is_for_staff_and_owners_only(client, joined, day):
    # Joined as a guest: not even asked to log in, refused.
    response = client.get("/rooms/django-girls/export/?format=txt")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    member = staff(client, "grace", is_staff=False)
    response = member.get("/rooms/django-girls/export/?format=txt")
    assert response.status_code == 403
    assert "owner and staff can export a whole room." in response.content.decode()
    response = staff(client, "mod").get("/rooms/django-girls/export/?format=csv")
    assert response.status_code == 400
