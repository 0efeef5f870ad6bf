"""A living room in a real Chromium: who is here, who is typing, the topic, the lobby."""

import re

import pytest
from playwright.sync_api import Page, expect

from .pages import enter, say

pytestmark = pytest.mark.e2e


def people(page: Page):
    return page.locator("#presence .person__name")


def test_people_see_each_other_come_and_go(browser, server):
    ada = enter(browser, server, "Who Is Here", "ada")
    bob = enter(browser, server, "Who Is Here", "bob")
    for page in (ada, bob):
        expect(people(page)).to_have_text(["ada", "bob"])
        expect(page.locator("#presence")).to_contain_text("Here now: 2")
    # A second tab of bob's is still one bob.
    bob_again = bob.context.new_page()
    bob_again.goto(bob.url)
    expect(bob_again.locator(".room")).to_have_attribute("data-connection", "open")
    expect(people(bob_again)).to_have_text(["ada", "bob"])
    bob_again.close()
    bob.close()
    expect(people(ada)).to_have_text(["ada"])
    expect(ada.locator("#presence")).to_contain_text("Here now: 1")


def test_typing_shows_to_the_others_not_the_typist_and_fades(browser, server):
    ada = enter(browser, server, "Typing", "ada")
    bob = enter(browser, server, "Typing", "bob")
    bob.get_by_role("combobox", name="Message").press_sequentially("hello th")
    cue = ada.get_by_text("bob is typing…")
    expect(cue).to_be_visible()
    # bob got the same cue, and his page hides it.
    expect(bob.locator("#typing .typing__cue")).to_have_count(1)
    expect(bob.locator("#typing .typing__cue")).to_be_hidden()
    # Nobody types any more: the cue goes away by itself.
    expect(cue).to_be_hidden(timeout=15_000)
    # Typing again shows one cue again, not two.
    bob.get_by_role("combobox", name="Message").press_sequentially("ere")
    expect(cue).to_be_visible()
    expect(ada.locator("#typing .typing__cue")).to_have_count(1)


def test_a_new_topic_is_seen_live_by_the_others(browser, server):
    ada = enter(browser, server, "Topical", "ada")
    bob = enter(browser, server, "Topical", "bob")
    ada.get_by_text("Change the topic or description").click()
    ada.get_by_role("textbox", name="Topic", exact=True).fill("Friday <deploys>")
    ada.get_by_role("button", name="Set topic").click()
    expect(bob.locator("#room-about")).to_contain_text("Topic: Friday <deploys>")
    expect(ada.locator("#room-about")).to_contain_text("Topic: Friday <deploys>")
    # Saved, the form closes.
    expect(ada.locator(".about-edit")).not_to_have_attribute("open", "")
    expect(ada.get_by_role("textbox", name="Topic", exact=True)).to_be_hidden()
    # Refused: explained to ada alone, the form stays open, and nothing changes.
    ada.get_by_text("Change the topic or description").click()
    ada.get_by_role("textbox", name="Description", exact=True).fill("x" * 201)
    ada.get_by_role("button", name="Set description").click()
    expect(ada.locator("#about-error")).to_contain_text("at most 200 characters")
    expect(ada.get_by_role("textbox", name="Description", exact=True)).to_be_visible()
    bob.reload()
    expect(bob.locator("#room-about")).to_have_text(re.compile(r"^\s*Topic: Friday <deploys>\s*$"))


def test_without_javascript_the_topic_changes_with_a_plain_form(browser, server):
    plain = enter(browser, server, "Plain Topic", "nojs", java_script_enabled=False)
    plain.get_by_text("Change the topic or description").click()
    plain.get_by_role("textbox", name="Topic", exact=True).fill("set without script")
    plain.get_by_role("button", name="Set topic").click()
    expect(plain.locator("#room-about")).to_contain_text("Topic: set without script")


def test_the_lobby_lists_rooms_and_updates_live(browser, server):
    lobby = browser.new_context().new_page()
    lobby.goto(server.url + "/")
    expect(lobby.locator(".lobby")).to_have_attribute("ws-connect", "/ws/lobby/")
    card = lobby.locator("#room-card-lobby-live")
    expect(card).to_have_count(0)
    ada = enter(browser, server, "Lobby Live", "ada")
    expect(card).to_contain_text("1 person here now")
    say(ada, "fresh <news> from the room")
    expect(card.locator(".room-card__snippet")).to_have_text("ada: fresh <news> from the room")
    bob = enter(browser, server, "Lobby Live", "bob")
    expect(card).to_contain_text("2 people here now")
    bob.close()
    expect(card).to_contain_text("1 person here now")
    assert lobby.locator("#room-card-lobby-live").count() == 1
    # Without JavaScript the lobby is a plain list on page load.
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(server.url + "/")
    expect(plain.locator("#room-card-lobby-live")).to_contain_text("fresh <news> from the room")
    plain.locator("#room-card-lobby-live").get_by_role("link", name="Lobby Live").click()
    expect(plain.get_by_label("Room", exact=True)).to_have_value("Lobby Live")
