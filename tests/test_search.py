"""Search's domain: the query forms, what matches, paging and scope, on whichever database
the run uses (SQLite's FTS5 by default, PostgreSQL's full-text search with DATABASE_URL)."""

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from rooms.search import Results, postgresql, search, sqlite
from rooms.search.highlight import excerpt
from rooms.search.query import MAX_TERMS, Query, parse

from .helpers import fuzzed

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "wanted", "unwanted"),
    [
        ("deploy failed", [("deploy",), ("failed",)], []),
        ('"deploy failed" today', [("deploy", "failed"), ("today",)], []),
        ("deploy -spam", [("deploy",)], [("spam",)]),
        ('-"out of" office', [("office",)], [("out", "of")]),
        ('"lone quote', [("lone", "quote")], []),
        ("Ünïcode ÉCOLE", [("ünïcode",), ("école",)], []),
        ("e-mail foo_bar", [("e", "mail"), ("foo", "bar")], []),
        ("same SAME same", [("same",)], []),
        ("-only -excluded", [], [("only",), ("excluded",)]),
        ("!!! ** () : ^", [], []),
        ('"" - -- "', [], []),
        ("", [], []),
        ("NEAR(a b) OR c*", [("near", "a"), ("b",), ("or",), ("c",)], []),
        ("x\x00y \ud800z", [("xy",), ("z",)], []),  # control characters are ignored
    ],
)
def test_the_parser_keeps_words_phrases_and_exclusions(text, wanted, unwanted):
    assert parse(text) == Query(tuple(wanted), tuple(unwanted))


def test_the_parser_keeps_a_bounded_number_of_terms():
    query = parse(" ".join(f"w{n}" for n in range(500)))
    assert len(query.wanted) == MAX_TERMS


def test_each_backend_renders_only_quoted_words_and_its_own_operators():
    query = parse('deplo "a b" -x -"c d"')
    assert sqlite.render(query) == '("deplo" AND "a" + "b"*) NOT ("x") NOT ("c" + "d")'
    assert postgresql.render(query) == ("('deplo') & ('a' <-> 'b':*) & !('x') & !('c' <-> 'd')")


def found(text: str, **options) -> list[str]:
    return [hit.message.body for hit in search(text, **options).hits]


@pytest.fixture
def said(room):
    for text in (
        "The deployment failed at noon",
        "deploy again tomorrow",
        "Failed tests, not the deployment",
        "lunch at noon?",
        "Café au lait",
    ):
        room.post("ada", text)
    return room


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Newest first; every word must match, in any letter case; the last wanted is a
        # prefix, the others are whole words.
        ("deplo", [
            "Failed tests, not the deployment", "deploy again tomorrow",
            "The deployment failed at noon",
        ]),
        ("DEPLOYMENT fail", ["Failed tests, not the deployment", "The deployment failed at noon"]),
        ("deplo failed", []),
        ("failed deplo", ["Failed tests, not the deployment", "The deployment failed at noon"]),
        ("noon", ["lunch at noon?", "The deployment failed at noon"]),
        # Quoted words match side by side, in that order.
        ('"deployment failed"', ["The deployment failed at noon"]),
        ('"failed deployment"', []),
        ('"deployment fai"', ["The deployment failed at noon"]),
        # -word leaves out the messages that have it.
        ("deplo -failed", ["deploy again tomorrow"]),
        ('noon -"deployment failed"', ["lunch at noon?"]),
        ("deplo -failed -again", []),
        ("deplo -fail", [
            "Failed tests, not the deployment", "deploy again tomorrow",
            "The deployment failed at noon",
        ]),
        ("lunch?", ["lunch at noon?"]),
        ("nothing", []),
    ],
)  # fmt: skip
def test_every_query_form_finds_what_it_says(said, text, expected):
    assert found(text) == expected


def test_a_query_that_asks_for_nothing_finds_nothing_without_asking_the_database(
    said, django_assert_num_queries
):
    for text in ("", "   ", "-deploy", "!!!", '"', "-"):
        with django_assert_num_queries(0):
            results = search(text)
        assert results == Results(parse(text))


def test_deleted_messages_never_match(room):
    message = room.post("ada", "secret plans")
    room.revise(message.pk, lambda m: m.erase())
    assert found("secret") == found("plans") == []
    # Even a row marked deleted that still had its text (as an old import might).
    other = room.post("ada", "secret again")
    type(other).objects.filter(pk=other.pk).update(deleted=other.created)
    assert found("secret") == []


def test_an_edited_message_matches_its_new_text_only(room):
    message = room.post("ada", "meet at the station")
    room.revise(message.pk, lambda m: m.rewrite("meet at the harbour"))
    assert found("station") == []
    assert found("harbour") == ["meet at the harbour"]
    assert found("meet") == ["meet at the harbour"]


def test_results_come_a_page_at_a_time_by_keyset(room):
    posted = [room.post("ada", f"update number {n}") for n in range(5)]
    first = search("update", limit=2)
    assert [hit.message for hit in first.hits] == posted[:2:-1][:2]
    second = search("update", limit=2, before=first.older)
    assert [hit.message for hit in second.hits] == [posted[2], posted[1]]
    last = search("update", limit=2, before=second.older)
    assert [hit.message for hit in last.hits] == [posted[0]]
    assert last.older is None
    # A message posted meanwhile does not shift the pages already seen.
    room.post("ada", "update number 5")
    assert search("update", limit=2, before=first.older) == second


def test_a_search_keeps_to_the_rooms_it_is_given(room):
    other = type(room).objects.for_name("Elsewhere")
    here = room.post("ada", "ship it")
    there = other.post("bob", "ship it too")
    assert [hit.message for hit in search("ship").hits] == [there, here]
    assert [hit.message for hit in search("ship", rooms=[room]).hits] == [here]
    rooms = type(room).objects.filter(slug="elsewhere")
    assert [hit.message for hit in search("ship", rooms=rooms).hits] == [there]
    assert search("ship", rooms=[]).hits == []


def test_each_hit_carries_its_room_and_its_marked_text(room, django_assert_num_queries):
    room.post("ada", "Deploy <script>alert(1)</script> now")
    with django_assert_num_queries(1):
        [hit] = search("script deplo").hits
        assert hit.message.get_absolute_url() == f"/rooms/django-girls/messages/{hit.message.pk}/"
    assert hit.excerpt == (
        "<mark>Deploy</mark> &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; now"
    )


def test_words_from_any_script_are_found_and_marked(room):
    room.post("ada", "Добрый вечер, ÉCOLE ouverte")
    [hit] = search("вечер éc").hits
    assert hit.excerpt == "Добрый <mark>вечер</mark>, <mark>ÉCOLE</mark> ouverte"


def test_words_with_accents_are_found_as_written(said):
    assert found("café") == ["Café au lait"]
    # SQLite's tokenizer leaves accents out, PostgreSQL's 'simple' configuration keeps them.
    assert found("cafe") == (["Café au lait"] if connection.vendor == "sqlite" else [])


@given(st.text(max_size=300))
@fuzzed(200)
def test_no_text_makes_a_search_fail(room, text):
    search(text, rooms=[room])


def test_excerpts_escape_and_mark_prefixes():
    assert excerpt("a <b>bold</b> & boldly", [], "bold") == (
        "a &lt;b&gt;<mark>bold</mark>&lt;/b&gt; &amp; <mark>boldly</mark>"
    )
    # Words searched whole are marked whole; only the last word wanted is a prefix.
    assert excerpt("deploy the deployment, then test it", ["deploy"], "te") == (
        "<mark>deploy</mark> the deployment, then <mark>test</mark> it"
    )
    assert excerpt("nothing here", ["x"]) == "nothing here"
    assert excerpt("line\none\u202e two", ["two"]) == "line one <mark>two</mark>"


def test_a_long_message_is_cut_to_a_window_around_its_first_match():
    text = "start " + "filler " * 100 + "needle in the middle " + "tail " * 100
    shown = excerpt(text, ["needle"])
    assert shown.startswith("…filler") and shown.endswith("tail…")
    assert "<mark>needle</mark>" in shown
    assert len(shown) < 300
    assert excerpt("x" * 1000, ["y"]).endswith("…")
