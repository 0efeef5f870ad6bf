"""The search pages: a plain form and a results page, and the results alone for htmx."""

import re

import pytest

from rooms.models import Room

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def hits(html: str) -> list[str]:
    """The text of each hit, marks left in, in the order shown."""
    return re.findall(r'<span class="search-hit__text" dir="auto">(.*?)</span>', html)


@pytest.fixture
def rooms(room):
    other = Room.objects.for_name("Ops")
    room.post("ada", "the deployment is done")
    other.post("bob", "deploy <script>alert(1)</script> again")
    return room, other


def test_the_results_page_works_without_javascript(client, rooms):
    response = client.get("/search/", {"q": "deplo"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form class="search" role="search" method="get" action="/search/"' in html
    assert 'value="deplo"' in html  # the box keeps what was asked
    assert hits(html) == [
        "<mark>deploy</mark> &lt;script&gt;alert(1)&lt;/script&gt; again",
        "the <mark>deployment</mark> is done",
    ]
    # Each hit links to its message's own address, with who said it and where.
    newest = rooms[1].messages.get()
    assert f'href="/rooms/ops/messages/{newest.pk}/"' in html
    assert '<span class="search-hit__author" dir="auto">bob</span> in ' in html
    assert '<span class="search-hit__room" dir="auto">Ops</span>' in html


def test_a_room_search_keeps_to_the_room(joined, rooms):
    html = joined.get("/rooms/django-girls/search/", {"q": "deplo"}).content.decode()
    assert hits(html) == ["the <mark>deployment</mark> is done"]
    assert 'action="/rooms/django-girls/search/"' in html
    assert joined.get("/rooms/nowhere/search/", {"q": "deplo"}).status_code == 404


def test_the_room_page_and_the_home_page_have_a_search_box(joined, rooms):
    for page, action, label in (
        ("/rooms/django-girls/", "/rooms/django-girls/search/", "Search this room"),
        ("/", "/search/", "Search all messages"),
    ):
        html = joined.get(page).content.decode()
        assert f'role="search" method="get" action="{action}"' in html
        assert f'aria-label="{label}"' in html


def test_htmx_gets_the_results_alone(client, rooms):
    response = client.get("/search/", {"q": "deplo"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html
    assert len(hits(html)) == 2
    # An emptied box closes the results: nothing to draw.
    empty = client.get("/search/", {"q": "  "}, headers=HTMX).content.decode()
    assert "<" not in empty


def test_hostile_text_is_escaped_in_the_box_the_results_and_the_title(client, rooms):
    asked = '<script>alert("q")</script> "><img src=x onerror=alert(1)>'
    html = client.get("/search/", {"q": asked}).content.decode()
    assert "<script>alert" not in html and "<img" not in html
    html = client.get("/search/", {"q": "script"}).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;<mark>script</mark>&gt;alert(1)" in html


def test_results_page_older_by_keyset(client, room):
    posted = [room.post("ada", f"note {n}") for n in range(25)]
    html = client.get("/search/", {"q": "note"}).content.decode()
    assert len(hits(html)) == 20
    older = posted[5].pk
    older_url = f"/search/?q=note&amp;before={older}"
    # A link, which htmx follows in place under the box.
    assert f'href="{older_url}" hx-get="{older_url}" hx-target="#search-results"' in html
    html = client.get("/search/", {"q": "note", "before": older}).content.decode()
    assert hits(html) == [f"<mark>note</mark> {n}" for n in range(4, -1, -1)]
    assert "Older results" not in html


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ("-deploy", "words after a minus only leave messages out"),
        ("!!! ???", "Nothing to search for: type a word to find."),
        ('"', "Nothing to search for"),
        ("zebra", 'No messages match “<span dir="auto">zebra</span>”.'),
    ],
)
def test_a_search_that_finds_nothing_says_why(client, rooms, asked, said):
    for headers in ({}, HTMX):
        response = client.get("/search/", {"q": asked}, headers=headers)
        assert response.status_code == 200
        assert said in response.content.decode()


@pytest.mark.parametrize(
    "query_string",
    [
        "q=%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        "q=%00%01deploy",
        "q=" + "deploy%20" * 200,
        "q=%22deploy",
        "q=deploy&before=abc",
        "q=deploy&before=-1",
        "q=deploy&before=99999999999999999999999",
        "q=deploy&q=other",
        "q=NEAR(deploy%20*)%20OR%20%5E%3A",
        "q=%27%3B%20DROP%20TABLE%20rooms_message%3B--",
    ],
)
def test_bad_input_never_breaks_the_page(client, rooms, query_string):
    for headers in ({}, HTMX):
        response = client.get(f"/search/?{query_string}", headers=headers)
        assert response.status_code == 200


def test_too_many_searches_are_refused_with_a_reason(joined, rooms, rate_limited):
    client = joined
    for _ in range(30):
        assert client.get("/search/", {"q": "deplo"}, headers=HTMX).status_code == 200
    response = client.get("/search/", {"q": "deplo"}, headers=HTMX)
    assert response.status_code == 429
    assert "at most 30 searches every 10 seconds" in response.content.decode()
    page = client.get("/search/", {"q": "deplo"})
    assert page.status_code == 429
    assert 'role="alert">Slow down' in page.content.decode()
    # An empty box costs nothing.
    assert client.get("/search/", {"q": ""}).status_code == 200


def test_searches_from_one_address_are_counted_together(client, rooms, rate_limited, settings):
    settings.RATE_LIMITS_PER_ADDRESS = {**settings.RATE_LIMITS_PER_ADDRESS, "search": (3, 10)}
    for _ in range(3):
        assert client.get("/search/", {"q": "deplo"}).status_code == 200
    response = client.get("/search/", {"q": "deplo"})
    assert response.status_code == 429
    assert "Too many searches from your address" in response.content.decode()
