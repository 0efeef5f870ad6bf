"""Reading the room: history pages, day separators, safe formatting, times."""

import datetime
import re
from html.parser import HTMLParser

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms import history
from rooms.models import Message, Room
from rooms.templatetags.chat import chat, day_label, mention_tag

from .helpers import frame, joined_socket, make_room, open_socket, receive_message
from .xss import PAYLOADS


def fill(room: Room, count: int) -> None:
    for n in range(1, count + 1):
        room.post("ada", f"message {n}")


def bodies(html: str) -> list[str]:
    return re.findall(r'<div class="message__body" dir="auto"><p>([^<]*)</p></div>', html)


# -- history pages -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_room_opens_on_the_newest_50_with_a_link_to_older(joined, room):
    fill(room, 120)
    page = joined.get(room.get_absolute_url()).content.decode()
    assert bodies(page) == [f"message {n}" for n in range(71, 121)]
    assert f'href="{room.get_absolute_url()}?before=71"' in page
    assert 'hx-trigger="intersect once, click"' in page
    assert "ws-connect=" in page


@pytest.mark.django_db
def test_older_messages_without_javascript_page_back_and_forth(joined, room):
    fill(room, 120)
    url = room.get_absolute_url()
    older = joined.get(f"{url}?before=71").content.decode()
    assert bodies(older) == [f"message {n}" for n in range(21, 71)]
    assert f'href="{url}?before=21"' in older
    assert f'href="{url}?after=70"' in older
    # Reading back is a plain page: no live updates appended after a gap.
    assert "ws-connect=" not in older
    oldest = joined.get(f"{url}?before=21").content.decode()
    assert bodies(oldest) == [f"message {n}" for n in range(1, 21)]
    assert "The start of Django Girls" in oldest
    assert "?before=" not in oldest
    newer = joined.get(f"{url}?after=20").content.decode()
    assert bodies(newer) == [f"message {n}" for n in range(21, 71)]
    newest = joined.get(f"{url}?after=70").content.decode()
    assert bodies(newest) == [f"message {n}" for n in range(71, 121)]
    assert "ws-connect=" in newest


@pytest.mark.django_db
def test_the_loader_gets_only_older_messages_and_the_next_loader(joined, room):
    fill(room, 120)
    url = room.get_absolute_url()
    reply = joined.get(f"{url}?before=71", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in reply
    assert bodies(reply) == [f"message {n}" for n in range(21, 71)]
    assert 'hx-swap-oob="afterbegin:#messages"' in reply
    assert reply.strip().startswith(f'<a id="older" class="older" href="{url}?before=21"')
    last = joined.get(f"{url}?before=21", headers={"HX-Request": "true"}).content.decode()
    assert bodies(last) == [f"message {n}" for n in range(1, 21)]
    assert '<p id="older" class="older older--start">' in last


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", "-5", "1e3", "", "9" * 40, "١٢"])
def test_a_bad_cursor_shows_the_newest_page(joined, room, value):
    fill(room, 3)
    response = joined.get(f"{room.get_absolute_url()}?before={value}")
    assert response.status_code == 200
    assert bodies(response.content.decode()) == ["message 1", "message 2", "message 3"]


@pytest.mark.django_db
def test_a_small_room_starts_at_its_start(joined, room):
    fill(room, 2)
    page = joined.get(room.get_absolute_url()).content.decode()
    assert "The start of Django Girls" in page
    assert "?before=" not in page


@pytest.mark.django_db
def test_a_page_is_one_keyset_query_never_offset(room):
    fill(room, 120)
    with CaptureQueriesContext(connection) as queries:
        page = history.before(room, 40)
    assert [m.seq for m in page.messages] == list(range(1, 40))
    assert page.older is None
    assert page.newer == 39
    # The page by keyset, then the page's files and its reactions by its ids: never a
    # query per message.
    assert len(queries.captured_queries) == 3
    sql, files, reactions = (query["sql"].upper() for query in queries.captured_queries)
    assert "ROOMS_ATTACHMENT" in files and "OFFSET" not in files
    assert "OFFSET" not in sql
    assert '"SEQ" <' in sql
    assert "ROOMS_REACTION" in reactions and "OFFSET" not in reactions


@pytest.mark.django_db
def test_a_joined_room_page_of_50_messages_reads_only_the_room_once_drawn(joined, room):
    """The session comes from the cache and the newest page is drawn once per room
    revision: a page asked for again reads the room's row and the sidebar's list; after a new
    message, the messages once more. No query per message either way."""
    fill(room, 120)
    url = room.get_absolute_url()
    joined.get(url)  # the session's first page may store its guest key
    with CaptureQueriesContext(connection) as queries:
        page = joined.get(url).content.decode()
    assert bodies(page) == [f"message {n}" for n in range(71, 121)]
    # The room, and the person's list of rooms (the sidebar, rooms/reading.py: one query
    # while this room is all it holds).
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    room.post("ada", "message 121")
    with CaptureQueriesContext(connection) as queries:
        page = joined.get(url).content.decode()
    assert bodies(page) == [f"message {n}" for n in range(72, 122)]
    # The room, its newest page, and that page's files and reactions; the list of rooms; and
    # the guest's session, saved (savepoint, write, release): it keeps how far they read.
    assert len(queries.captured_queries) == 8, [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_the_newest_page_is_drawn_again_for_each_change_of_the_room(joined, room):
    """Edits and deletions take the room's next revision like posts, so a page drawn
    once per revision never shows a message as it was before its change."""
    fill(room, 3)
    url = room.get_absolute_url()
    assert bodies(joined.get(url).content.decode()) == ["message 1", "message 2", "message 3"]
    second = room.messages.get(seq=2)
    room.revise(second.pk, lambda m: m.rewrite("message two"))
    assert bodies(joined.get(url).content.decode()) == ["message 1", "message two", "message 3"]
    room.revise(second.pk, lambda m: m.erase())
    page = joined.get(url).content.decode()
    assert bodies(page) == ["message 1", "message 3"]
    assert "Message deleted" in page


@pytest.mark.django_db
def test_a_page_drawn_today_says_yesterday_tomorrow(joined, room, monkeypatch):
    """The newest page is kept per day too: its separators say "Today" and "Yesterday"."""
    room.post("ada", "said today")
    url = room.get_absolute_url()
    assert '<time datetime="' in joined.get(url).content.decode()
    assert ">Today</time>" in joined.get(url).content.decode()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)
    page = joined.get(url).content.decode()
    assert ">Yesterday</time>" in page
    assert ">Today</time>" not in page


# -- day separators ------------------------------------------------------------------


def posted_at(room: Room, text: str, when: datetime.datetime) -> Message:
    message = room.post("ada", text)
    Message.objects.filter(pk=message.pk).update(created=when)
    return message


@pytest.mark.django_db
def test_day_separators_between_days(joined, room):
    now = timezone.now()
    posted_at(room, "long ago", datetime.datetime(2026, 1, 10, 12, 0, tzinfo=datetime.UTC))
    posted_at(room, "same day", datetime.datetime(2026, 1, 10, 13, 0, tzinfo=datetime.UTC))
    posted_at(room, "yesterday", now - datetime.timedelta(days=1))
    posted_at(room, "today", now)
    page = joined.get(room.get_absolute_url()).content.decode()
    days = re.findall(r'<h2 class="day"><time datetime="([\d-]+)">([^<]+)</time></h2>', page)
    assert days == [
        ("2026-01-10", "Saturday, 10 January 2026"),
        ((now - datetime.timedelta(days=1)).date().isoformat(), "Yesterday"),
        (now.date().isoformat(), "Today"),
    ]
    # Each separator comes right before the first message of its day.
    first_of_yesterday = r"Yesterday</time></h2>\s*<article[^>]*>(?:(?!</article>).)*yesterday"
    assert re.search(first_of_yesterday, page, re.S)


def test_day_label_reads_well_without_script():
    now = timezone.now()
    assert day_label(now) == "Today"
    assert day_label(now - datetime.timedelta(days=1)) == "Yesterday"
    assert (
        day_label(datetime.datetime(2025, 3, 2, 9, tzinfo=datetime.UTC)) == "Sunday, 2 March 2025"
    )
    assert day_label(None) == ""


@pytest.mark.django_db
def test_times_carry_a_machine_readable_datetime(joined, room):
    posted_at(room, "hi", datetime.datetime(2026, 1, 10, 23, 30, tzinfo=datetime.UTC))
    page = joined.get(room.get_absolute_url()).content.decode()
    assert '<time class="time message__time" datetime="2026-01-10T23:30:00+00:00"' in page
    assert ">23:30 UTC</time>" in page  # without script, the zone is named


# -- safe formatting -----------------------------------------------------------------


def test_links_become_clickable_and_keep_their_sentence():
    html = chat("see https://example.com/a?b=1&c=2, then (http://x.org/wiki/A_(b)).")
    assert html == (
        '<p>see <a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener nofollow ugc">https://example.com/a?b=1&amp;c=2</a>, then ('
        '<a href="http://x.org/wiki/A_(b)" target="_blank" rel="noopener nofollow ugc">'
        "http://x.org/wiki/A_(b)</a>).</p>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "data:text/html,<script>x</script>",
        "ftp://example.com",
        "http://",
        "<a href='http://x.org'>x</a>",
    ],
)
def test_nothing_but_http_becomes_a_link(text):
    html = chat(text)
    if "http://x.org" in text:
        # The address in a pasted tag is linked, the tag around it stays text.
        assert html.startswith("<p>&lt;a href=&#x27;")
        assert html.count("<a ") == 1
        assert 'href="http://x.org"' in html
    else:
        assert "<a " not in html


def test_mentions_are_marked_with_a_tag_for_the_name():
    html = chat("thanks @Ada. and @bob-the-builder, not mail@ada.org or @@x")
    assert html == (
        f'<p>thanks <span class="mention" data-mention="{mention_tag("ada")}">@Ada</span>. and '
        f'<span class="mention" data-mention="{mention_tag("bob-the-builder")}">'
        "@bob-the-builder</span>, not mail@ada.org or @@x</p>"
    )
    assert re.fullmatch(r"n[0-9a-f]{12}", mention_tag("Zoë <3"))


def test_line_breaks_are_kept():
    assert chat("one\ntwo\n\nthree") == "<p>one<br>\ntwo</p>\n<p>three</p>"


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "**bold** and _italic_ and *also*",
            "<p><strong>bold</strong> and <em>italic</em> and <em>also</em></p>",
        ),
        ("run `rm -rf <dir>` with @ada", "<p>run <code>rm -rf &lt;dir&gt;</code> with <span"),
        (
            "```\nfor x in y:\n    print('<b>')\n```",
            '<pre tabindex="0"><code>for x in y:\n    print(&#x27;&lt;b&gt;&#x27;)\n</code></pre>',
        ),
        ("```python\nx = 1\n```", '<pre tabindex="0"><code>python\nx = 1\n</code></pre>'),
        ("> quoted\n\nreply", "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>reply</p>"),
        ("snake_case_name and 2 * 3 * 4", "<p>snake_case_name and 2 * 3 * 4</p>"),
        ("\\*not italic\\*", "<p>*not italic*</p>"),
        # Not in the set: these stay text as typed.
        (
            "# not a heading\n- not a list\n1. nor this",
            "<p># not a heading<br>\n- not a list<br>\n1. nor this</p>",
        ),
        ("[hidden](http://x.org) ![img](http://x.org/i.png)", "<p>[hidden](<a href="),
        ("<b>no html</b> &amp;", "<p>&lt;b&gt;no html&lt;/b&gt; &amp;amp;</p>"),
    ],
)
def test_a_small_set_of_formats(text, html):
    assert chat(text).startswith(html)


def test_a_mention_or_a_link_in_code_stays_code():
    assert chat("`@ada https://x.org`") == "<p><code>@ada https://x.org</code></p>"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
@pytest.mark.parametrize(
    "payload", [*PAYLOADS, "<script>alert(1)</script><img src=x onerror=alert(2)>"]
)
async def test_the_xss_corpus_stays_text_live_and_in_history(client, payload):
    """Formatted, pushed live, and drawn in the room's page, by someone whose name is
    markup too."""
    html = chat(payload)
    assert html.startswith("<p>") and html.endswith("</p>")
    inner = html[3:-4]
    assert "<" not in inner and ">" not in inner
    assert (
        inner.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        == payload
    )
    if "{{ 7|add:7 }}" in payload:  # shown as typed, never rendered as a template
        assert inner == "{{ 7|add:7 }} {% now &#x27;Y&#x27; %}" and "14" not in html
    room = await make_room("Payload Room")
    socket = await open_socket(room.slug, "<b>eve</b>")
    assert (await socket.connect())[0]
    await socket.send_to(frame(payload))
    push = await receive_message(socket)
    await socket.disconnect()
    assert "<script" not in push and "<img" not in push
    await database_sync_to_async(client.post)("/", {"room_name": room.name, "username": "bob"})
    page = (await database_sync_to_async(client.get)(room.get_absolute_url())).content.decode()
    for drawn in (push, page):
        body = drawn.split('<div class="message__body" dir="auto">', 1)[1].split("</div>", 1)[0]
        assert body == html
        assert '"' not in body
        assert payload not in drawn or "<" not in payload
        assert "&lt;b&gt;eve&lt;/b&gt;" in drawn and "<b>eve</b>" not in drawn


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


hostile = st.text(
    alphabet=st.sampled_from(list("<>\"'&/:=@ \nahjtpsvcrix.()[]`;-_")) | st.characters(),
    max_size=80,
)
with_links = st.lists(
    st.sampled_from(
        ["https://", "http://", "javascript:", "@", "<a href=", '"', "'", " ", "x.org/?a=1&b", "&"]
    )
    | hostile,
    max_size=8,
).map("".join)


@given(st.one_of(hostile, with_links))
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_formatting_adds_only_its_own_tags_and_escapes_the_rest(text):
    html = chat(text)
    parser = Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in {"p", "br", "strong", "em", "code", "pre", "blockquote", "a", "span"}
        if tag not in {"a", "span"}:
            assert attrs == ({"tabindex": "0"} if tag == "pre" else {})
        if tag == "a":
            assert set(attrs) == {"href", "target", "rel"}
            assert attrs["rel"] == "noopener nofollow ugc"
            assert re.match(r"https?://", attrs["href"])
        if tag == "span":
            assert set(attrs) == {"class", "data-mention"}
            assert re.fullmatch(r"n[0-9a-f]{12}", attrs["data-mention"])
    # Formatting takes away only its own marks: every letter and digit typed is read, in order.
    assert [c for c in parser.text if c.isalnum()] == [c for c in text if c.isalnum()]
    # Every special character that was typed comes out as an entity.
    ours = r"</?(p|br|strong|em|code|pre|blockquote)>|<(a|span|pre)\b[^>]*>|</(a|span)>"
    stripped = re.sub(ours, "", html)
    assert not re.search(r"[<>\"']", stripped)
    # No bare ampersand anywhere, links included: an entity typed stays text.
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", html)


@pytest.mark.django_db
def test_a_message_is_drawn_formatted_in_page_and_push(joined, room):
    room.post("bob", "hi @ada\nhttps://example.com <b>")
    page = joined.get(room.get_absolute_url()).content.decode()
    expected = (
        f'<p>hi <span class="mention" data-mention="{mention_tag("ada")}">@ada</span><br>\n'
        '<a href="https://example.com" target="_blank" rel="noopener nofollow ugc">'
        "https://example.com</a> &lt;b&gt;</p>"
    )
    assert expected in page
    # The reader's own mention tag gets the highlight rule, in the nonce'd style.
    assert f'.mention[data-mention="{mention_tag("ada")}"]' in page


# Grouping: one person's messages within minutes of each other, under one name and time.


def grouped(html: str) -> list[bool]:
    """For each message on a page, whether it is drawn as continuing the one before."""
    return ["message--continued" in tag for tag in re.findall(r'<article class="[^"]*"', html)]


@pytest.mark.django_db
def test_a_persons_messages_within_minutes_are_grouped_under_one_name(joined, room):
    ada, bob = "guest.ada", "guest.bob"
    room.post("ada", "one", author_key=ada)
    room.post("ada", "two", author_key=ada)  # continues
    room.post("bob", "three", author_key=bob)  # another person
    room.post("bob", "four", author_key=bob)  # continues
    Message.objects.filter(body="four").update(
        created=timezone.now() - datetime.timedelta(minutes=6)
    )
    room.post("bob", "five", author_key=bob)  # six minutes after: a new group
    last = room.post("bob", "six", author_key=bob)
    Message.objects.filter(pk=last.pk).update(deleted=timezone.now(), body="")
    room.post("bob", "seven", author_key=bob)  # after a deleted one: a new group
    room.post("cleo", "eight")  # a message from before keys is nobody's
    room.post("cleo", "nine")
    expected = [False, True, False, True, False, True, False, False, False]
    assert list(room.messages.order_by("seq").values_list("continues", flat=True)) == expected
    page = joined.get("/rooms/django-girls/").content.decode()
    assert grouped(page) == expected


@pytest.mark.django_db(transaction=True)
async def test_a_live_message_joins_the_group_above_it():
    await make_room()
    ada = await joined_socket()
    await ada.send_to(frame("first"))
    assert "message--continued" not in await receive_message(ada)
    await ada.send_to(frame("second"))
    assert 'class="message message--continued"' in await receive_message(ada)
    await ada.disconnect()


def test_initials_and_a_colour_per_name():
    from rooms.templatetags.chat import HUES, hue, initials

    assert [initials(n) for n in ["Ada Lovelace", "bob", "grace b hopper", "ñandú"]] == [
        "AL",
        "B",
        "GB",
        "Ñ",
    ]
    assert hue("Ada") == hue("ada") and all(0 <= hue(f"p{n}") < HUES for n in range(50))
    assert len({hue(f"p{n}") for n in range(50)}) > HUES // 2
