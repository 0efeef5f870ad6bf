"""My rooms, in a real Chromium: the sidebar's unread counts arrive live and clear on every
device once the room is read; a drawer on phones; the same list without JavaScript."""

import re
import time

import pytest
from django.utils.text import slugify
from playwright.sync_api import Browser, Page, expect

from .helpers import needs_redis
from .pages import enter, say, serious_violations
from .servers import Server, run_python

pytestmark = pytest.mark.e2e

PASSWORD = "a long passphrase"


def make_member(server: Server, name: str) -> None:
    code = (
        "from django.contrib.auth.models import User; "
        f"User.objects.filter(username={name!r}).exists() or "
        f"User.objects.create_user({name!r}, password={PASSWORD!r})"
    )
    run_python(server.env, "manage.py", "shell", "-c", code, check=True)


def log_in(browser: Browser, server: Server, name: str, **context) -> Page:
    """A member's device: a browser context of its own, logged in."""
    page = browser.new_context(**context).new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    return page


def go_in(page: Page, room: str) -> None:
    """Into a room through the join form, as people do; waits until the page is live."""
    page.get_by_role("link", name="Parley").click()
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room)
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")


def my_rooms(page: Page):
    return page.get_by_role("navigation", name="My rooms")


def entry(page: Page, room: str):
    """A room's link in the sidebar."""
    return my_rooms(page).get_by_role("link", name=re.compile(rf"^{re.escape(room)}\b"))


def heard(page: Page, room: str) -> str:
    """What a screen reader announces for a room's link: Chromium's own accessible name, which
    holds the count CSS draws ("3 unread"; Playwright's own reading leaves CSS counters out)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        selector = f".my-rooms .my-room__link[href='/rooms/{slugify(room)}/']"
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})
        named = [n for n in tree["nodes"] if n.get("role", {}).get("value") == "link"]
        return " ".join(named[0]["name"]["value"].split())
    finally:
        cdp.detach()


def wait_until(page: Page, condition: str, timeout: float = 10) -> None:
    """Wait until a JavaScript expression holds on the page (evaluated from outside, so the
    page's Content-Security-Policy, which forbids eval, allows it)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"{condition} never held")
        page.wait_for_timeout(50)


def expect_heard(page: Page, room: str, said: str, timeout: float = 10) -> None:
    """Wait until the room's link is announced as `said` (as `expect` waits for a locator)."""
    deadline = time.monotonic() + timeout
    while (now := heard(page, room)) != said:
        if time.monotonic() > deadline:
            raise AssertionError(f"{room!r} is announced as {now!r}, not {said!r}")
        page.wait_for_timeout(50)


def test_counts_arrive_live_and_clear_on_every_device(browser, server):
    make_member(server, "adele")
    laptop = log_in(browser, server, "adele")
    go_in(laptop, "Side B")
    go_in(laptop, "Side A")
    expect_heard(laptop, "Side B", "Side B")
    phone = log_in(browser, server, "adele")
    go_in(phone, "Side A")
    bob = enter(browser, server, "Side B", "bob")
    say(bob, "hello there")
    for device in (laptop, phone):
        expect_heard(device, "Side B", "Side B 1 unread")
    # The page's own room never shows a count; ada's own messages never count.
    say(laptop, "ada in A")
    expect_heard(laptop, "Side A", "Side A")
    say(bob, "@adele are you coming?")
    for device in (laptop, phone):
        expect_heard(device, "Side B", "Side B 2 unread mentioned")
    # Reading B on the laptop clears it there (drawn read) and on the phone, live.
    entry(laptop, "Side B").click()
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Side B")
    expect(laptop.locator(".room")).to_have_attribute("data-connection", "open")
    expect_heard(phone, "Side B", "Side B")
    # Read on the laptop as it comes in: the phone's mark for it comes, then goes.
    phone.evaluate(
        """() => {
          window.marksCame = 0;
          new MutationObserver((changes) => {
            for (const change of changes) {
              window.marksCame += [...change.addedNodes].filter((n) => n.nodeType === 1).length;
            }
          }).observe(document.querySelector(".my-room:has([href='/rooms/side-b/']) .unread-marks"),
                     { childList: true });
        }"""
    )
    say(bob, "and now?")
    expect(laptop.get_by_role("log")).to_contain_text("and now?")
    wait_until(phone, "window.marksCame >= 1")
    expect(phone.locator(".my-room:has([href='/rooms/side-b/']) .unread-marks > i")).to_have_count(
        0
    )
    expect_heard(phone, "Side B", "Side B")
    # A page drawn afresh agrees.
    phone.reload()
    expect_heard(phone, "Side B", "Side B")


def test_the_unread_divider_starts_where_the_member_read_on_another_device(browser, server):
    make_member(server, "dee_member")
    bob = enter(browser, server, "Divided", "bob")
    say(bob, "seen before")
    laptop = log_in(browser, server, "dee_member")
    go_in(laptop, "Divided")
    expect(laptop.get_by_role("log")).to_contain_text("seen before")
    go_in(laptop, "Elsewhere")
    for text in ("first new", "second new"):
        say(bob, text)
    expect_heard(laptop, "Divided", "Divided 2 unread")
    phone = log_in(browser, server, "dee_member")
    go_in(phone, "Divided")
    divider = phone.get_by_role("separator", name="New messages")
    expect(divider).to_be_visible()
    expect(phone.locator(".unread + .message .message__body")).to_have_text("first new")
    expect_heard(laptop, "Divided", "Divided")


HIDE = """() => {
    Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_your_own_messages_never_count(browser, server):
    make_member(server, "ofelia")
    laptop = log_in(browser, server, "ofelia")
    go_in(laptop, "Own B")
    go_in(laptop, "Own A")
    # Her phone, in a tab she is not looking at, so it tells nobody it read anything.
    phone = log_in(browser, server, "ofelia")
    go_in(phone, "Own B")
    phone.evaluate(HIDE)
    say(phone, "from my phone")
    marks = laptop.locator(".my-room:has([href='/rooms/own-b/']) .unread-marks > i")
    expect(marks).to_have_count(1)
    expect_heard(laptop, "Own B", "Own B")
    bob = enter(browser, server, "Own B", "bob")
    say(bob, "hi ofelia")
    expect(marks).to_have_count(2)
    expect_heard(laptop, "Own B", "Own B 1 unread")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_sidebar_passes_accessibility_checks(browser, server, scheme):
    ada = enter(browser, server, f"Axe One {scheme}", "ava", color_scheme=scheme, bypass_csp=True)
    go_in(ada, f"Axe Two {scheme}")
    bob = enter(browser, server, f"Axe One {scheme}", "bob")
    say(bob, "@ava hello")
    expect_heard(ada, f"Axe One {scheme}", f"Axe One {scheme} 1 unread mentioned")
    assert serious_violations(ada) == []


def test_on_a_phone_the_list_is_a_drawer(browser, server):
    phone = enter(browser, server, "Drawer One", "ava", viewport={"width": 375, "height": 700})
    go_in(phone, "Drawer Two")
    bob = enter(browser, server, "Drawer One", "bob")
    say(bob, "psst")
    toggle = my_rooms(phone).get_by_text("My rooms")
    expect(toggle).to_be_visible()
    expect(entry(phone, "Drawer One")).to_be_hidden()
    # The room itself keeps the screen.
    expect(phone.get_by_role("combobox", name="Message")).to_be_in_viewport()
    toggle.click()
    expect(entry(phone, "Drawer One")).to_be_visible()
    expect_heard(phone, "Drawer One", "Drawer One 1 unread")
    # Wide, the list is always there and has no toggle.
    wide = enter(browser, server, "Drawer Two", "cleo", viewport={"width": 1200, "height": 700})
    go_in(wide, "Drawer One")
    expect(my_rooms(wide).get_by_text("My rooms")).to_be_hidden()
    expect(entry(wide, "Drawer Two")).to_be_visible()


def test_without_javascript_the_list_has_counts_drawn_at_load(browser, server):
    plain = enter(browser, server, "Plain One", "nojs", java_script_enabled=False)
    plain.get_by_role("link", name="change name or room").click()
    plain.get_by_label("Room", exact=True).fill("Plain Two")
    plain.get_by_role("button", name="Enter the room").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Plain Two")
    bob = enter(browser, server, "Plain One", "bob")
    say(bob, "one")
    say(bob, "@nojs two")
    # Both stored (shown to bob by the server) before the page without scripts is drawn.
    expect(bob.locator("#messages .message__body")).to_have_count(2)
    plain.reload()
    expect_heard(plain, "Plain One", "Plain One 2 unread mentioned")
    # Leave, a plain form: back on the same page, without that room.
    my_rooms(plain).get_by_role("button", name="Leave Plain One").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Plain Two")
    expect(entry(plain, "Plain One")).to_have_count(0)


@needs_redis
def test_a_count_crosses_between_two_server_processes(browser, two_servers):
    one, two = two_servers
    ada = enter(browser, one, "Across B", "ava")
    go_in(ada, "Across A")
    bob = enter(browser, two, "Across B", "bob")
    say(bob, "from the other process")
    expect_heard(ada, "Across B", "Across B 1 unread")
