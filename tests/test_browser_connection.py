"""The room's connection in a real Chromium: a name that ended in another tab, coming
back soon after the server does, and what a page without JavaScript shows."""

import re
import signal

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, say
from .servers import Server

pytestmark = pytest.mark.e2e

# static/js/connection.js waits at most this long between tries; htmx's own backoff
# waits up to 64 s. A little room for a loaded machine.
MOST_WAIT_MS = 3_000
WITHIN_MS = MOST_WAIT_MS + 2_000


@pytest.fixture
def own_server(server_env):
    """A server this test may stop and start."""
    process = Server(server_env).start()
    yield process
    process.stop()


def box(page: Page):
    return page.get_by_role("combobox", name="Message")


def join_in(page: Page, server: Server, room: str, name: str) -> None:
    """Joins (or picks another name) through the form in a tab of the same browser."""
    page.goto(server.url + "/")
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room)


# 17: a name that ended in another tab.


def test_renamed_in_another_tab_the_page_explains_keeps_the_draft_and_sends_nothing(
    browser, server
):
    ada = enter(browser, server, "Renamed", "ada")
    box(ada).fill("a draft typed as ada")
    other_tab = ada.context.new_page()
    join_in(other_tab, server, "Renamed", "bob")
    ended = ada.locator(".ended")
    expect(ended).to_be_visible()
    expect(ended).to_contain_text(re.compile(r"You are now bob\s+guest\s+in this browser"))
    expect(ada.locator(".room")).to_have_attribute("data-connection", "ended")
    expect(ada.get_by_role("status").get_by_text("Reconnecting")).to_be_hidden()
    # Sending goes nowhere: the page stays, and so does the draft.
    box(ada).press("Enter")
    ada.get_by_role("button", name="Send").click()
    expect(box(ada)).to_have_value("a draft typed as ada")
    expect(ada).to_have_url(server.url + "/rooms/renamed/")
    # Nothing was posted as bob (or as ada): the next thing the room sees is a marker.
    say(other_tab, "marker from bob")
    expect(bodies(other_tab)).to_have_text(["marker from bob"])
    # Rejoining draws the room for bob, with the draft back in the box.
    ended.get_by_role("link", name="Rejoin the room").click()
    expect(ada.locator(".room__me")).to_contain_text("You are bob")
    expect(box(ada)).to_have_value("a draft typed as ada")
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open")


def test_logged_out_in_another_tab_the_page_explains_and_keeps_the_draft(browser, server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/accounts/signup/")
    page.get_by_label("Username").fill("leaver")
    page.get_by_label("Password", exact=True).fill("a long passphrase 42")
    page.get_by_label("Password confirmation").fill("a long passphrase 42")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Room", exact=True).fill("Logged Out")
    page.get_by_role("button", name="Enter the room").click()
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    box(page).fill("typed before leaving")
    other_tab = context.new_page()
    other_tab.goto(server.url + "/")
    other_tab.get_by_role("button", name="Log out").click()
    expect(page.locator(".ended")).to_contain_text("You left this room in another tab")
    box(page).press("Enter")
    expect(box(page)).to_have_value("typed before leaving")
    expect(page).to_have_url(server.url + "/rooms/logged-out/")
    # Rejoining leads to the join form, room filled in, and the draft waits for the room.
    page.get_by_role("link", name="Rejoin the room").click()
    expect(page.get_by_label("Room", exact=True)).to_have_value("Logged Out")
    page.get_by_label("Your name").fill("guest-leaver")
    page.get_by_role("button", name="Enter the room").click()
    expect(page.locator(".room__me")).to_contain_text("You are guest-leaver")
    expect(box(page)).to_have_value("typed before leaving")
    expect(bodies(page)).to_have_count(0)


def test_without_javascript_a_send_from_the_old_name_is_refused_and_kept(browser, server):
    plain = enter(browser, server, "Plain Rename", "ada", java_script_enabled=False)
    other_tab = plain.context.new_page()
    join_in(other_tab, server, "Plain Rename", "bob")
    say(plain, "meant as ada")
    expect(plain.locator("#composer-error")).to_contain_text(
        "Not sent: you are now bob in this browser"
    )
    expect(box(plain)).to_have_value("meant as ada")
    expect(plain.locator(".room__me")).to_contain_text("You are bob")
    expect(bodies(plain)).to_have_count(0)


# 18: coming back within seconds of the server.


def test_the_page_is_live_again_within_seconds_of_the_server(browser, own_server):
    ada = enter(browser, own_server, "Soon Back", "ada")
    status = ada.get_by_role("status")
    expect(status.get_by_text("Live", exact=True)).to_be_visible()
    # The server process dies: the page's socket really drops, and the person is told.
    own_server.stop(signal.SIGKILL)
    expect(status.get_by_text("Reconnecting")).to_be_visible()
    expect(status.get_by_text("Live", exact=True)).to_be_hidden()
    expect(status.get_by_role("button", name="Reconnect now")).to_be_visible()
    # Several tries fail while the server is down; htmx's backoff would wait up to 8,
    # 16, 32 and 64 s before the later ones, the page at most a few seconds.
    for _ in range(7):
        ada.wait_for_event("websocket", timeout=WITHIN_MS)
    expect(status.get_by_text("Reconnecting")).to_be_visible()
    own_server.start()
    expect(status.get_by_text("Live", exact=True)).to_be_visible(timeout=WITHIN_MS)
    expect(status.get_by_text("Reconnecting")).to_be_hidden()
    expect(status.get_by_role("button", name="Reconnect now")).to_be_hidden()
    say(ada, "back soon")
    expect(log(ada)).to_contain_text("back soon")


def frozen_while_down(browser, server: Server, room: str) -> Page:
    """A live page whose server then stops, with the page's clock stopped: no timer
    ever brings it back, only what the page does at once."""
    context = browser.new_context()
    context.clock.install()
    page = context.new_page()
    join_in(page, server, room, "ada")
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    server.stop(signal.SIGKILL)
    expect(page.locator(".room")).to_have_attribute("data-connection", "closed")
    page.clock.pause_at(page.evaluate("Date.now()") + 1)
    server.start()
    # A try that failed just before the pause sets up the next one now (htmx does that
    # on a timer of 0 ms), which then waits like every other.
    page.clock.run_for(1)
    return page


def test_reconnect_now_reconnects_at_once(browser, own_server):
    page = frozen_while_down(browser, own_server, "Reconnect Now")
    page.get_by_role("button", name="Reconnect now").click()
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    expect(page.get_by_role("button", name="Reconnect now")).to_be_hidden()


def test_back_online_reconnects_at_once(browser, own_server):
    page = frozen_while_down(browser, own_server, "Back Online")
    page.context.set_offline(True)
    page.context.set_offline(False)
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")


def test_a_tab_shown_again_reconnects_at_once(browser, own_server):
    page = frozen_while_down(browser, own_server, "Shown Again")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")


# 19: what shows without JavaScript, and on the first paint.


def test_without_javascript_no_live_status_and_you_are_here(browser, server):
    plain = enter(browser, server, "Still Page", "nojs", java_script_enabled=False)
    expect(plain.get_by_text("Connecting…", exact=True)).to_be_hidden()
    expect(plain.get_by_role("status")).to_be_hidden()
    expect(plain.locator("#presence")).to_contain_text("Here now: 1")
    expect(plain.locator("#presence .person__name")).to_have_text(["nojs"])


def test_the_first_paint_already_lists_you(browser, server):
    context = browser.new_context()
    # What the page shows before any script or socket could change it.
    context.add_init_script(
        """document.addEventListener("DOMContentLoaded", () => {
            window.firstPaint = document.getElementById("presence").textContent;
        }, {capture: true, once: true});"""
    )
    page = context.new_page()
    join_in(page, server, "First Paint", "ada")
    # The heading can show before the document has finished parsing: wait for the event.
    first = page.wait_for_function("() => window.firstPaint").json_value()
    assert re.search(r"Here now: 1\s+ada", first), first
    expect(page.get_by_role("status")).to_contain_text("Live")
