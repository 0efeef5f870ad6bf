"""A private room as people use it, in a real Chromium against a real server."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .helpers import needs_redis
from .pages import bodies, enter, say, serious_violations
from .servers import LIVE_WITHIN, Server, run_python
from .test_browser_my_rooms import expect_heard, go_in

pytestmark = pytest.mark.e2e


def sign_in(browser: Browser, server: Server, name: str, **context) -> Page:
    run_python(
        server.env,
        "manage.py",
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({name!r}, password='a long passphrase')",
        check=True,
    )
    page = browser.new_context(**context).new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("a long passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Join a room")).to_be_visible()
    return page


def make_room_and_invite(owner: Page, name: str) -> str:
    """The owner makes a private room and an invitation link that welcomes guests."""
    owner.get_by_role("link", name="New private room").click()
    owner.get_by_label("Room", exact=True).fill(name)
    owner.get_by_role("button", name="Make the room").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text(f"Members of {name}")
    owner.get_by_label("Guests may join with it (no account)").check()
    owner.get_by_role("button", name="Make an invitation link").click()
    link = owner.get_by_label("Invitation link")
    expect(link).to_have_count(1)
    assert serious_violations(owner) == []
    return link.input_value()


def come_in(browser: Browser, link: str, name: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    return page


def test_invited_people_talk_in_a_private_room_and_nobody_else_gets_in(browser, server):
    olive = sign_in(browser, server, "olive", bypass_csp=True)  # for axe-core
    link = make_room_and_invite(olive, "Plans")
    bob = come_in(browser, link, "bob")
    expect(bob.get_by_role("heading", level=1)).to_have_text("Plans")
    olive.get_by_role("link", name="Back to Plans").click()
    expect(olive.locator(".room")).to_have_attribute("data-connection", "open")
    say(bob, "hi olive")
    expect(bodies(olive).last).to_have_text("hi olive")
    say(olive, "welcome, bob")
    expect(bodies(bob).last).to_have_text("welcome, bob")
    # Someone who was not invited: the room is not there, and not in the lobby.
    carol = enter(browser, server, "Lounge", "carol")
    response = carol.goto(olive.url)
    assert response.status == 404
    carol.goto(server.url + "/")
    expect(carol.locator("#rooms")).not_to_contain_text("Plans")
    # The owner removes bob: his page stops at once and says why; his text stays.
    bob.get_by_role("combobox", name="Message").fill("one more thing")
    olive.get_by_role("link", name="Members").click()
    olive.get_by_role("button", name="Remove bob").click()
    expect(olive.locator(".members__list")).not_to_contain_text("bob")
    expect(bob.locator(".ended")).to_contain_text("You were removed from this room")
    expect(bob.get_by_role("combobox", name="Message")).to_have_value("one more thing")
    assert bob.reload().status == 404


@needs_redis
def test_a_removal_on_one_process_shuts_a_socket_on_another(browser, two_servers):
    one, two = two_servers
    olive = sign_in(browser, one, "olive2", bypass_csp=True)  # for axe-core
    link = make_room_and_invite(olive, "Across")
    bob = come_in(browser, link.replace(one.url, two.url), "bob")
    olive.get_by_role("link", name="Back to Across").click()
    say(olive, "across processes")
    expect(bodies(bob).last).to_have_text("across processes", timeout=LIVE_WITHIN * 1000)
    olive.get_by_role("link", name="Members").click()
    olive.get_by_role("button", name="Remove bob").click()
    expect(bob.locator(".ended")).to_contain_text("You were removed from this room")


def test_screenshot_of_a_private_room_with_my_rooms(browser, server, tmp_path):
    size = {"width": 1100, "height": 720}
    olive = sign_in(browser, server, "olivia", viewport=size, bypass_csp=True)  # for axe-core
    for room in ("Lounge Talk", "Design Review"):
        go_in(olive, room)
    olive.get_by_role("link", name="Parley").click()
    link = make_room_and_invite(olive, "Launch Plans")
    bob = come_in(browser, link, "bob")
    olive.get_by_role("link", name="Back to Launch Plans").click()
    expect(olive.locator(".room")).to_have_attribute("data-connection", "open")
    for page, text in (
        (olive, "Only the launch crew can read this room."),
        (bob, "Great. Is the date still **Thursday**?"),
        (olive, "Thursday at 10. The press kit goes out an hour before."),
        (bob, "I'll have the release notes ready tonight."),
    ):
        say(page, text)
        expect(bodies(olive).last).to_contain_text(text.replace("**", "")[:12])
    carol = enter(browser, server, "Lounge Talk", "carol")
    say(carol, "Coffee anyone?")
    say(carol, "The new machine is in.")
    go_in(carol, "Design Review")
    say(carol, "@olivia can you look at the mockups?")
    expect_heard(olive, "Lounge Talk", "Lounge Talk 2 unread")
    expect_heard(olive, "Design Review", "Design Review 1 unread mentioned")
    shots = os.environ.get("PARLEY_SCREENSHOTS_DIR")
    path = (Path(shots) if shots else tmp_path) / "screenshot-teams.png"
    olive.screenshot(path=path, animations="disabled")
    assert path.stat().st_size > 10_000
