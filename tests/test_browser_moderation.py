"""Moderating a room, as people see it in a real Chromium against a real server: a ban
ends the banned person's page with the reason, "Remove all their messages" clears them
from everyone's page live, and a muted person's box says why and until when."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .pages import bodies, enter, log, say, serious_violations
from .servers import Server, run_python

pytestmark = pytest.mark.e2e


def shell(server: Server, code: str) -> None:
    run_python(server.env, "manage.py", "shell", "-c", code, check=True)


def enter_as_moderator(browser: Browser, server: Server, room: str, name: str) -> Page:
    """A member who moderates the room (given the role as staff would in the admin),
    in their own browser, on the room's moderation page."""
    slug = room.lower().replace(" ", "-")
    shell(
        server,
        "from django.contrib.auth.models import User; "
        "from rooms.models import Membership, Room; "
        # The server is shared by the module's tests: one mia for all of them.
        f"user = User.objects.filter(username={name!r}).first() "
        f"or User.objects.create_user({name!r}, password='a long passphrase'); "
        f"room = Room.objects.for_name({room!r}); "
        "Membership.objects.create(room=room, key=f'user.{user.pk}', user=user, "
        f"name={name!r}, role='moderator')",
    )
    # bypass_csp: axe is injected as an inline script, which the policy rightly blocks.
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("a long passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{server.url}/rooms/{slug}/")
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    page.get_by_role("link", name="Moderation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Moderate {room}")
    return page


def person(page: Page, name: str):
    return page.locator(".moderation__person", has=page.locator("strong", has_text=name))


def test_a_moderator_bans_bob_whose_page_says_why_and_stops(browser, server):
    bob = enter(browser, server, "Bans", "bob")
    say(bob, "buy cheap watches")
    expect(bodies(bob)).to_have_text(["buy cheap watches"])
    mia = enter_as_moderator(browser, server, "Bans", "mia")
    assert serious_violations(mia) == []
    bans = person(mia, "bob").locator("form", has=mia.get_by_role("button", name="Ban bob"))
    bans.get_by_label("Reason").fill("spam")
    bans.get_by_role("button", name="Ban bob").click()
    expect(mia.get_by_role("list", name="Banned")).to_contain_text("bob")
    # Bob's page: told why, at once, and it sends nothing more.
    expect(bob.locator(".room")).to_have_attribute("data-connection", "ended")
    expect(bob.locator("#identity-ended")).to_have_text(
        "You are banned from this room. Reason: spam"
    )
    expect(bob.locator(".ended")).to_be_visible()
    # Coming back: the room is not there for him.
    bob.reload()
    expect(bob.get_by_role("heading", level=1)).to_have_text("You are banned from this room.")
    expect(bob.get_by_role("alert")).to_contain_text("spam")
    expect(bob.get_by_role("log")).to_have_count(0)
    # The log says so.
    mia.reload()
    expect(mia.get_by_role("list", name="What moderators did")).to_contain_text("mia banned bob")


def test_removing_all_of_a_persons_messages_goes_live_for_everyone(browser, server):
    carol = enter(browser, server, "Clear Out", "carol")
    ada = enter(browser, server, "Clear Out", "ada")
    for text in ("spam one", "spam two"):
        say(carol, text)
    say(ada, "not spam")
    expect(bodies(ada)).to_have_text(["spam one", "spam two", "not spam"])
    mia = enter_as_moderator(browser, server, "Clear Out", "mia")
    person(mia, "carol").get_by_role("button", name="Remove all their messages carol").click()
    expect(mia.get_by_role("list", name="What moderators did")).to_contain_text(
        re.compile(r"mia removed all messages of carol")
    )
    # Ada, a third person, sees them go without reloading; her own stays.
    expect(bodies(ada)).to_have_text(["not spam"])
    expect(log(ada).locator(".message__tombstone")).to_have_text(["Message deleted"] * 2)
    expect(bodies(carol)).to_have_text(["not spam"])


def test_a_muted_persons_box_says_why_and_keeps_the_text(browser, server):
    bob = enter(browser, server, "Quiet", "bob")
    say(bob, "LOUD")
    expect(bodies(bob)).to_have_text(["LOUD"])
    mia = enter_as_moderator(browser, server, "Quiet", "mia")
    mutes = person(mia, "bob").locator("form", has=mia.get_by_role("button", name="Mute bob"))
    mutes.get_by_label("Mute for").select_option(label="1 hour")
    mutes.get_by_label("Reason").fill("shouting")
    mutes.get_by_role("button", name="Mute bob").click()
    expect(mia.get_by_role("list", name="Muted now")).to_contain_text("bob")
    # Told at once, before trying.
    error = bob.locator("#composer-error")
    expect(error).to_contain_text("You are muted in this room until")
    expect(error).to_contain_text("Reason: shouting")
    say(bob, "STILL LOUD")
    expect(error).to_contain_text("Reason: shouting")
    # What he typed is kept, with why it was not sent.
    kept = bob.get_by_role("region", name="Not sent yet").get_by_role("listitem")
    expect(kept.locator(".unsent__text")).to_have_text(["STILL LOUD"])
    expect(kept.locator(".unsent__reason")).to_contain_text(["You are muted in this room"])
    expect(bodies(bob)).to_have_text(["LOUD"])
