"""Reading the room in a real Chromium: older history, days and times, unread, scrolling."""

import datetime
import re

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, say, serious_violations
from .servers import run_python

pytestmark = pytest.mark.e2e


def seed(server_env, room: str, count: int, at: str | None = None, step: int = 60) -> None:
    """Messages said before anyone opens the page: 'message 1'...; `at` dates the first
    one (ISO, UTC) and each next one comes `step` seconds later."""
    code = f"""
import datetime
from rooms.models import Message, Room
room = Room.objects.for_name({room!r})
for n in range(1, {count} + 1):
    message = room.post("bob", f"message {{n}}")
    if {at!r}:
        when = datetime.datetime.fromisoformat({at!r}) + datetime.timedelta(seconds={step} * n)
        Message.objects.filter(pk=message.pk).update(created=when)
"""
    run_python(server_env, "manage.py", "shell", "-c", code, check=True)


def scroller(page: Page):
    return page.locator(".room__scroller")


def scroll_to_top(page: Page) -> None:
    scroller(page).evaluate("el => el.scrollTop = -el.scrollHeight")


def numbers(first: int, last: int) -> list[str]:
    return [f"message {n}" for n in range(first, last + 1)]


def test_scrolling_up_loads_older_pages_in_place(browser, server, server_env):
    # Four messages a day from 1 January: pages begin and end in the middle of days.
    seed(server_env, "Long Read", 120, at="2026-01-01T00:00:00+00:00", step=6 * 3600)
    ada = enter(
        browser,
        server,
        "Long Read",
        "ada",
        viewport={"width": 800, "height": 600},
        timezone_id="UTC",
        locale="en-GB",
    )
    expect(bodies(ada)).to_have_text(numbers(71, 120))
    oldest_shown = log(ada).locator(".message[data-seq='71']")
    scroll_to_top(ada)
    expect(bodies(ada)).to_have_text(numbers(21, 120))
    # The reader stays where they were: the message at the top before is still in view.
    expect(oldest_shown).to_be_in_viewport()
    scroll_to_top(ada)
    expect(bodies(ada)).to_have_text(numbers(1, 120))
    expect(ada.get_by_text("The start of Long Read")).to_be_visible()
    # One separator per day, each before the first message of its day.
    days = [f"{d:%A}, {d.day} {d:%B %Y}" for d in (datetime.date(2026, 1, n) for n in range(1, 32))]
    expect(log(ada).locator(".day")).to_have_text(days)
    expect(log(ada).locator(".day + .message")).to_have_count(31)
    expect(log(ada).locator(".day + .message[data-seq='68']")).to_have_count(1)
    # Live messages still land once, at the end, after the history pages.
    say(ada, "and now")
    expect(bodies(ada)).to_have_text([*numbers(1, 120), "and now"])
    expect(log(ada).locator(".day").last).to_have_text("Today")


def test_without_javascript_older_messages_is_a_link(browser, server, server_env):
    seed(server_env, "Plain Read", 70)
    plain = enter(browser, server, "Plain Read", "nojs", java_script_enabled=False)
    expect(bodies(plain)).to_have_text(numbers(21, 70))
    plain.get_by_role("link", name="Older messages").click()
    expect(plain).to_have_url(re.compile(r"\?before=21$"))
    expect(bodies(plain)).to_have_text(numbers(1, 20))
    expect(plain.get_by_text("The start of Plain Read")).to_be_visible()
    plain.get_by_role("link", name="Newest messages").click()
    expect(bodies(plain)).to_have_text(numbers(21, 70))


def test_a_reader_at_the_bottom_follows_new_messages(browser, server, server_env):
    seed(server_env, "Follow", 40)
    ada = enter(browser, server, "Follow", "ada", viewport={"width": 800, "height": 600})
    bob = enter(browser, server, "Follow", "bob")
    say(bob, "the newest one")
    newest = log(ada).locator(".message").last
    expect(newest).to_contain_text("the newest one")
    expect(newest).to_be_in_viewport()
    expect(ada.get_by_role("button", name="New messages ↓")).to_be_hidden()


def test_a_reader_of_older_messages_is_not_moved_and_gets_a_cue(browser, server, server_env):
    seed(server_env, "Stay Put", 45)
    ada = enter(browser, server, "Stay Put", "ada", viewport={"width": 800, "height": 600})
    bob = enter(browser, server, "Stay Put", "bob")
    reading = log(ada).locator(".message[data-seq='20']")
    reading.scroll_into_view_if_needed()
    top = reading.evaluate("el => el.getBoundingClientRect().top")
    for n in range(3):
        say(bob, f"while ada reads {n}")
    expect(log(ada).locator(".message").last).to_contain_text("while ada reads 2")
    cue = ada.get_by_role("button", name="New messages ↓")
    expect(cue).to_be_visible()
    # Not yanked down: what ada was reading has not moved.
    # (Scroll anchoring may round to a fraction of a pixel; a yank moves it by messages.)
    assert abs(reading.evaluate("el => el.getBoundingClientRect().top") - top) < 1
    expect(log(ada).locator(".message").last).not_to_be_in_viewport()
    cue.click()
    expect(log(ada).locator(".message").last).to_be_in_viewport()
    expect(cue).to_be_hidden()


HIDE = """() => {
    Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
    Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_returning_to_the_tab_shows_where_new_messages_start(browser, server):
    ada = enter(browser, server, "Away", "ada")
    bob = enter(browser, server, "Away", "bob")
    say(bob, "before ada left")
    expect(log(ada)).to_contain_text("before ada left")
    ada.evaluate(HIDE)
    for text in ("while away 1", "while away 2"):
        say(bob, text)
        expect(log(ada)).to_contain_text(text)
    expect(ada.get_by_role("separator", name="New messages")).to_have_count(0)
    ada.evaluate(SHOW)
    divider = ada.get_by_role("separator", name="New messages")
    expect(divider).to_be_visible()
    expect(log(ada).locator(".unread + .message .message__body")).to_have_text("while away 1")
    # Away and back again: still one divider, moved to the newer messages.
    ada.evaluate(HIDE)
    say(bob, "second absence")
    expect(log(ada)).to_contain_text("second absence")
    ada.evaluate(SHOW)
    expect(log(ada).locator(".unread")).to_have_count(1)
    expect(log(ada).locator(".unread + .message .message__body")).to_have_text("second absence")


@pytest.mark.parametrize(
    ("zone", "day", "times"),
    [
        ("Asia/Tokyo", "Sunday, 11 January 2026", ["11 Jan, 08:31", "11 Jan, 09:01"]),
        ("America/Los_Angeles", "Saturday, 10 January 2026", ["10 Jan, 15:31", "10 Jan, 16:01"]),
    ],
)
def test_times_and_days_show_in_the_readers_zone(browser, server, server_env, zone, day, times):
    # 23:31 and 00:01 UTC: two days in UTC, one day in Tokyo and in Los Angeles.
    seed(server_env, f"Zones {zone}", 2, at="2026-01-10T23:01:00+00:00", step=1800)
    page = enter(browser, server, f"Zones {zone}", "ada", timezone_id=zone, locale="en-GB")
    expect(log(page).locator(".day")).to_have_text([day])
    expect(log(page).locator(".message__time")).to_have_text(times)
    say(page, "fresh")
    expect(log(page).locator(".message__time").last).to_have_text("just now")
    expect(log(page).locator(".day").last).to_have_text("Today")


def test_without_javascript_times_and_days_read_in_utc(browser, server, server_env):
    seed(server_env, "Zones Plain", 2, at="2026-01-10T23:01:00+00:00", step=1800)
    page = enter(browser, server, "Zones Plain", "nojs", java_script_enabled=False)
    expect(log(page).locator(".day")).to_have_text(
        ["Saturday, 10 January 2026", "Sunday, 11 January 2026"]
    )
    expect(log(page).locator(".message__time")).to_have_text(["23:31 UTC", "00:01 UTC"])


def test_links_and_mentions(browser, server):
    ada = enter(browser, server, "Mentions", "ada")
    bob = enter(browser, server, "Mentions", "bob")
    cleo = enter(browser, server, "Mentions", "cleo")
    say(ada, "@bob look at https://example.com/page?x=1.")
    for page in (bob, cleo):
        expect(log(page)).to_contain_text("@bob look at")
        link = log(page).get_by_role("link", name="https://example.com/page?x=1")
        expect(link).to_have_attribute("href", "https://example.com/page?x=1")
        expect(link).to_have_attribute("rel", "noopener nofollow ugc")
    background = "el => getComputedStyle(el).backgroundColor"
    mentioned = log(bob).locator(".message").last.evaluate(background)
    other = log(cleo).locator(".message").last.evaluate(background)
    assert mentioned != other
    assert log(bob).locator(".mention").evaluate(background) != (
        log(cleo).locator(".mention").evaluate(background)
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reading_marks_pass_accessibility_checks(browser, server, server_env, scheme):
    room = f"Marks {scheme}"
    seed(server_env, room, 40, at="2026-01-10T08:00:00+00:00")
    ada = enter(browser, server, room, "ada", color_scheme=scheme, bypass_csp=True)
    bob = enter(browser, server, room, "bob", color_scheme=scheme)
    ada.evaluate(HIDE)
    say(bob, "@ada see https://example.com")
    expect(log(ada)).to_contain_text("@ada see")
    ada.evaluate(SHOW)
    expect(ada.get_by_role("separator", name="New messages")).to_be_visible()
    log(ada).locator(".message[data-seq='5']").scroll_into_view_if_needed()
    say(bob, "one more")
    expect(ada.get_by_role("button", name="New messages ↓")).to_be_visible()
    serious = serious_violations(ada)
    assert serious == []
