"""Searching, as people do it in a real Chromium against a real server: results under the
box as they type, and the plain form and results page without JavaScript."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, say, serious_violations
from .test_browser_reading import seed

pytestmark = pytest.mark.e2e


def results(page: Page):
    return page.locator("#search-results")


def hits(page: Page):
    return results(page).get_by_role("listitem")


def test_results_appear_as_you_type_and_lead_to_the_message(browser, server):
    blocked = []  # by the Content-Security-Policy
    ada = enter(browser, server, "Quokka Den", "ada", blocked=blocked)
    errors = []
    ada.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for text in (
        "a quokka deploys on fridays",
        "lunch first",
        "the quokka deployment <b>went</b> fine",
    ):
        say(ada, text)
        expect(bodies(ada).last).to_contain_text(text[:10])
    room_url = ada.url
    box = ada.get_by_role("searchbox", name="Search this room")
    box.press_sequentially("quokka depl")  # the last word as a prefix, as it is typed
    expect(hits(ada)).to_have_count(2)
    expect(hits(ada).first).to_contain_text("the quokka deployment <b>went</b> fine")
    expect(hits(ada).first.locator("mark")).to_have_text(["quokka", "deployment"])
    expect(results(ada)).to_contain_text("newest first")
    assert ada.url == room_url  # the room stays open behind its results
    # Escape closes them; typing opens them again.
    box.press("Escape")
    expect(hits(ada)).to_have_count(0)
    expect(results(ada)).to_be_hidden()
    box.press_sequentially(" -fine")
    expect(hits(ada)).to_have_count(1)
    expect(hits(ada)).to_contain_text("a quokka deploys on fridays")
    # A hit opens the room at that message.
    hits(ada).get_by_role("link").click()
    expect(ada).to_have_url(re.compile(r"/rooms/quokka-den/\?at=1#message-\d+$"))
    target = ada.locator(".message:target .message__body")
    expect(target).to_have_text("a quokka deploys on fridays")
    assert errors == blocked == []


def test_the_home_page_searches_every_room(browser, server):
    for room, name in (("Wombat One", "ada"), ("Wombat Two", "bob")):
        page = enter(browser, server, room, name, bypass_csp=True)  # for axe-core
        say(page, f"wombats in {room.lower()}")
        expect(bodies(page).last).to_have_text(f"wombats in {room.lower()}")
    page.goto(server.url + "/")
    page.get_by_role("searchbox", name="Search all messages").press_sequentially("womb")
    expect(hits(page)).to_have_count(2)
    expect(hits(page).locator(".search-hit__room")).to_have_text(["Wombat Two", "Wombat One"])
    # Quotes in the box make a phrase.
    page.get_by_role("searchbox", name="Search all messages").fill('"wombats in wombat one"')
    expect(hits(page)).to_have_text([re.compile("wombats in wombat one")])
    assert serious_violations(page) == []
    # The results page, and a room's results open under its box.
    page.goto(server.url + "/search/?q=wombats")
    expect(hits(page)).to_have_count(2)
    assert serious_violations(page) == []
    page.goto(server.url + "/rooms/wombat-two/")
    page.get_by_role("searchbox", name="Search this room").press_sequentially("wom")
    expect(hits(page)).to_have_count(1)
    assert serious_violations(page) == []


def test_search_works_without_javascript(browser, server):
    plain = enter(
        browser, server, "Numbat Nook", "nojs", java_script_enabled=False, bypass_csp=True
    )
    for text in ("numbats <script>alert(1)</script> at dawn", "nothing to see"):
        say(plain, text)
    plain.get_by_role("searchbox", name="Search this room").fill("numbats scri")
    plain.get_by_role("button", name="Search", exact=True).click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Search Numbat Nook")
    expect(plain).to_have_url(re.compile(r"/rooms/numbat-nook/search/\?q=numbats\+scri$"))
    expect(hits(plain)).to_have_count(1)
    expect(hits(plain).locator("mark")).to_have_text(["numbats", "script", "script"])
    expect(hits(plain)).to_contain_text("<script>alert(1)</script>")
    hits(plain).get_by_role("link").click()
    expect(plain).to_have_url(re.compile(r"/rooms/numbat-nook/\?at=1#message-\d+$"))
    expect(bodies(plain).first).to_contain_text("numbats <script>alert(1)</script> at dawn")


def test_screenshot_of_search_results(browser, server, tmp_path):
    size = {"width": 900, "height": 700}
    ada = enter(browser, server, "Launch Crew", "ada", viewport=size)
    bob = enter(browser, server, "Launch Crew", "bob", viewport=size)
    for page, text in (
        (ada, "Is the **deployment** of the new search ready?"),
        (bob, "Deployed to staging an hour ago."),
        (ada, "Great, let's deploy to production after lunch."),
        (bob, "Lunch first, then the release notes."),
    ):
        say(page, text)
        expect(bodies(ada).last).to_contain_text(text.replace("**", "")[:12])
    ada.get_by_role("searchbox", name="Search this room").press_sequentially("deplo")
    expect(hits(ada)).to_have_count(3)
    expect(hits(ada).first.locator("mark")).to_have_text(["deploy"])
    shots = os.environ.get("PARLEY_SCREENSHOTS_DIR")
    path = (Path(shots) if shots else tmp_path) / "screenshot-search.png"
    ada.screenshot(path=path, animations="disabled")
    assert path.stat().st_size > 10_000


def test_older_results_load_in_place_under_the_box(browser, server, server_env):
    seed(server_env, "Many Notes", 25)
    ada = enter(browser, server, "Many Notes", "ada")
    room_url = ada.url
    ada.get_by_role("searchbox", name="Search this room").press_sequentially("messag")
    expect(hits(ada)).to_have_count(20)
    expect(hits(ada).first).to_contain_text("message 25")
    results(ada).get_by_role("link", name="Older results").click()
    expect(hits(ada)).to_have_count(5)
    expect(hits(ada)).to_contain_text(
        ["message 5", "message 4", "message 3", "message 2", "message 1"]
    )
    assert ada.url == room_url  # still in the room, its results under the box
