"""A room's days: one page per day, readable and linkable, with the days around it."""

import datetime
import re

import pytest
from django.utils import timezone

from rooms.models import Message, Room

from .xss import PAYLOADS

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def said(room: Room, author: str, text: str, at: datetime.datetime) -> Message:
    """A message of the room's past, said at `at` (stored in order, as messages are)."""
    message = room.post(author, text)
    Message.objects.filter(pk=message.pk).update(created=at)
    message.created = at
    return message


def at(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, second, tzinfo=UTC)


def bodies(html: str) -> list[str]:
    return re.findall(r'<div class="message__body" dir="auto"><p>(.*?)</p></div>', html)


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found and found[1]


@pytest.fixture
def week(room):
    """Messages on 1, 3 (both sides of its midnights) and 7 December; none in between."""
    said(room, "ada", "first of december", at(1, 9))
    said(room, "bob", "just before the third", at(2, 23, 59, 59))
    said(room, "ada", "third at midnight", at(3, 0, 0, 0))
    said(room, "bob", "third in the evening", at(3, 23, 59, 59))
    said(room, "ada", "fourth at midnight", at(4, 0, 0, 0))
    said(room, "ada", "seventh", at(7, 10))
    return room


def test_a_day_shows_that_days_messages_only_midnight_to_midnight(joined, week):
    page = joined.get("/rooms/django-girls/2026-12-03/")
    assert page.status_code == 200
    html = page.content.decode()
    assert bodies(html) == ["third at midnight", "third in the evening"]
    assert "Thursday 3 December 2026" in html
    assert "midnight to midnight UTC" in html
    # Each message drawn as in the room: its own id to link to, its time linking to it.
    third = Message.objects.get(body="third at midnight")
    assert f'id="message-{third.pk}"' in html
    assert f'href="{third.get_absolute_url()}"' in html
    # A plain page: no socket, no message box.
    assert "ws-connect" not in html
    assert 'class="composer"' not in html


def test_earlier_and_later_lead_to_the_nearest_days_with_messages(joined, week):
    html = joined.get("/rooms/django-girls/2026-12-04/").content.decode()
    assert link(html, "prev") == "/rooms/django-girls/2026-12-03/"
    assert link(html, "next") == "/rooms/django-girls/2026-12-07/"
    # A day after the 2nd's last second: the 2nd, though it is only one message.
    html = joined.get("/rooms/django-girls/2026-12-03/").content.decode()
    assert link(html, "prev") == "/rooms/django-girls/2026-12-02/"
    assert link(html, "next") == "/rooms/django-girls/2026-12-04/"


def test_the_first_and_last_days_have_no_link_beyond_them(joined, week):
    first = joined.get("/rooms/django-girls/2026-12-01/").content.decode()
    assert link(first, "prev") is None
    assert link(first, "next") == "/rooms/django-girls/2026-12-02/"
    last = joined.get("/rooms/django-girls/2026-12-07/").content.decode()
    assert link(last, "prev") == "/rooms/django-girls/2026-12-04/"
    assert link(last, "next") is None


def test_a_day_with_nothing_says_so_and_links_to_the_days_around(joined, week):
    page = joined.get("/rooms/django-girls/2026-12-05/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing was said on this day." in html
    assert bodies(html) == []
    assert link(html, "prev") == "/rooms/django-girls/2026-12-04/"
    assert link(html, "next") == "/rooms/django-girls/2026-12-07/"
    # Nothing to download either.
    assert "?format=" not in html


def test_a_room_with_no_messages_has_empty_days_and_no_links(joined, room):
    html = joined.get("/rooms/django-girls/2026-12-05/").content.decode()
    assert "Nothing was said on this day." in html
    assert link(html, "prev") is None and link(html, "next") is None


@pytest.mark.parametrize(
    "path", ["2026-02-30", "2026-13-01", "2026-00-10", "0000-01-01", "9999-12-31", "2026-1-01"]
)
def test_a_date_that_is_no_day_is_not_found(joined, room, path):
    assert joined.get(f"/rooms/django-girls/{path}/").status_code == 404


def test_an_unknown_room_is_not_found(joined, room):
    assert joined.get("/rooms/nowhere/2026-12-03/").status_code == 404


def test_someone_who_has_not_joined_is_sent_to_join(client, week):
    response = client.get("/rooms/django-girls/2026-12-03/")
    assert response.status_code == 302
    assert response["Location"] == "/?room=Django+Girls"


def test_days_follow_the_sites_zone(joined, room, settings):
    """In a zone east of UTC, 23:30 UTC on the 2nd is already the 3rd."""
    settings.TIME_ZONE = "Europe/Berlin"
    said(room, "ada", "late in london", at(2, 23, 30))
    said(room, "ada", "early in berlin", at(3, 0, 30))
    html = joined.get("/rooms/django-girls/2026-12-03/").content.decode()
    assert bodies(html) == ["late in london", "early in berlin"]
    assert "midnight to midnight Europe/Berlin" in html


def test_the_room_links_to_todays_transcript(joined, room):
    room.post("ada", "hello")
    html = joined.get(room.get_absolute_url()).content.decode()
    today = timezone.localdate().isoformat()
    assert f'href="/rooms/django-girls/{today}/" title="Today' in html
    assert 'older days">Transcript</a>' in html
    day = joined.get(f"/rooms/django-girls/{today}/").content.decode()
    assert bodies(day) == ["hello"]


def test_deleted_messages_and_replies_show_as_in_the_room(joined, room):
    original = said(room, "ada", "the original", at(3, 9))
    reply = room.new_message("bob", "a reply", reply_to=original)
    from rooms.models import store_messages

    store_messages([reply])
    Message.objects.filter(pk=reply.pk).update(created=at(3, 10))
    room.revise(original.pk, lambda message: message.erase())
    html = joined.get("/rooms/django-girls/2026-12-03/").content.decode()
    assert "Message deleted" in html
    assert bodies(html) == ["a reply"]


def test_hostile_text_is_escaped_on_a_day_page(joined, room):
    for n, payload in enumerate(PAYLOADS):
        said(room, "mallory", payload, at(3, 9, n))
    html = joined.get("/rooms/django-girls/2026-12-03/").content.decode()
    assert "<script>window.__xss" not in html
    assert "&lt;script&gt;window.__xss = &#x27;script&#x27;&lt;/script&gt;" in html
    assert len(bodies(html)) == len(PAYLOADS)
