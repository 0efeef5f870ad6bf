"""German in a real Chromium: a German browser gets German pages, times and day labels read
German (Intl in the page's language), the language form switches and sticks, and a
picture of a German room for the README."""

import datetime
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .pages import bodies, enter, log, serious_violations
from .pages import say as say_in_english
from .servers import Server
from .test_browser import sunset
from .test_browser_reading import seed

pytestmark = pytest.mark.e2e


def enter_in_german(browser: Browser, server: Server, room: str, name: str, **context) -> Page:
    """A German browser (it asks for de-DE): the lobby's form in German, then the room."""
    page = browser.new_context(locale="de-DE", **context).new_page()
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label("Raum", exact=True).fill(room)
    page.get_by_label("Dein Name").fill(name)
    page.get_by_role("button", name="Raum betreten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room)
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    return page


def say(page: Page, text: str) -> None:
    """Type into the German message box and send with Enter (static/js/room.js)."""
    box = page.get_by_role("combobox", name="Nachricht")
    box.fill(text)
    box.press("Enter")


def test_times_and_days_read_german_in_a_german_browser(browser, server, server_env):
    room = "Zeiten"
    now = datetime.datetime.now(datetime.UTC)
    # One message yesterday at noon, one five minutes ago (each `step` after `at`).
    yesterday = (now - datetime.timedelta(days=1)).replace(hour=12, minute=0, second=0)
    seed(server_env, room, 1, at=(yesterday - datetime.timedelta(minutes=1)).isoformat())
    seed(server_env, room, 1, at=(now - datetime.timedelta(minutes=6, seconds=30)).isoformat())
    page = enter_in_german(browser, server, room, "ada", bypass_csp=True)
    times = log(page).locator(".message__time")
    expect(times.last).to_have_text("vor 5 Minuten")
    expect(log(page).locator(".day")).to_have_text(["Gestern", "Heute"])
    say(page, "Hallo!")
    expect(bodies(page).last).to_have_text("Hallo!")
    expect(times.last).to_have_text("gerade eben")
    # The full date on hover, in German too.
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
    expect(times.last).to_have_attribute("title", re.compile(rf"^{weekday[now.weekday()]}, "))
    assert serious_violations(page) == []


def test_the_language_form_switches_and_sticks_in_a_browser(browser, server):
    page = browser.new_context(locale="en-US").new_page()
    page.goto(server.url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()
    # Back on the same page, in German.
    expect(page).to_have_url(server.url + "/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    # It sticks, whatever the browser asks for.
    page.goto(server.url + "/")
    expect(page.get_by_role("button", name="Raum betreten")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Einen Raum betreten")
    expect(page.get_by_label("Sprache").locator("option")).to_have_text(["English", "Deutsch"])
    expect(page.get_by_label("Sprache")).to_have_value("de")
    # And back.
    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Wechseln (Sprache)").click()
    expect(page.get_by_role("button", name="Enter the room")).to_be_visible()


def test_a_german_reader_on_an_english_site_hears_the_room_in_german(browser, server):
    """Live pushes read as the page they reach: a message and who is here arrive in German
    to the German browser, in English to the English one, in the same room."""
    room = "Sprachen"
    ada = enter(browser, server, room, "ada", locale="en-US")
    bert = enter_in_german(browser, server, room, "bert")
    expect(ada.locator("#presence .badge")).to_have_text(["guest", "guest"])
    expect(bert.locator("#presence .badge")).to_have_text(["Gast", "Gast"])
    say_in_english(ada, "Hello, bert")
    pushed = log(bert).locator(".message", has_text="Hello, bert")
    expect(pushed.get_by_role("button", name="Antworten auf diese Nachricht")).to_be_visible()
    say(bert, "Hallo, ada")
    heard = log(ada).locator(".message", has_text="Hallo, ada")
    expect(heard.get_by_role("button", name=re.compile("^Reply"))).to_be_visible()
    # A refusal of the German page's own send is German.
    say(bert, "x" * 2001)
    expect(bert.locator("#composer-error")).to_contain_text("höchstens")


@pytest.fixture
def german_site(server_env):
    """A site whose own language is German: its pushes are German too (docs/templates.md)."""
    process = Server({**server_env, "LANGUAGE_CODE": "de"}).start()
    yield process
    process.stop()


def test_screenshot_of_the_room_in_german(browser, german_site, tmp_path):
    size = {"width": 900, "height": 860}
    room = "Kaffeeküche"
    anna = enter_in_german(browser, german_site, room, "anna", viewport=size)
    ben = enter_in_german(browser, german_site, room, "ben", viewport=size)
    say(anna, "Hallo! Ist hier der WebSocket-Workshop?")
    say(anna, "Ich habe Fragen mitgebracht.")
    expect(log(ben).locator(".message")).to_have_count(2)
    first = log(ben).locator(".message", has_text="WebSocket-Workshop").first
    first.get_by_role("button", name="Antworten auf diese Nachricht").click()
    expect(ben.locator("#composer-reply")).to_contain_text("Antwort an")
    say(ben, "Ja. Nachrichten erscheinen bei allen sofort.")
    expect(log(anna).locator(".message")).to_have_count(3)
    answer = log(anna).locator(".message", has_text="bei allen sofort")
    answer.get_by_role("button", name="Reagieren auf diese Nachricht").click()
    answer.get_by_role("button", name="🎉", exact=True).click()
    expect(answer.locator(".reaction__button")).to_have_text(["🎉 1"])
    ben.get_by_label("Dateien anhängen").set_input_files(
        {"name": "sonnenuntergang.png", "mimeType": "image/png", "buffer": sunset()}
    )
    say(ben, "Der Blick vom Veranstaltungsort:")
    expect(log(anna).locator("img.attachment__thumbnail")).to_have_count(1)
    say(anna, "Und **fett**, _kursiv_ und `Code` gehen auch.")
    expect(log(anna).locator(".message")).to_have_count(5)
    # Everything pushed to the page is German on a German site.
    expect(log(anna).locator(".badge").first).to_have_text("Gast")
    expect(anna.locator("#presence")).to_contain_text("Jetzt hier: 2")
    anna.wait_for_function("() => document.querySelector('img.attachment__thumbnail').complete")
    anna.get_by_role("combobox", name="Nachricht").blur()
    anna.mouse.move(0, 0)
    shots = os.environ.get("PARLEY_SCREENSHOTS_DIR")
    target = Path(shots) if shots else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    path = target / "screenshot-de.png"
    anna.screenshot(path=path, animations="disabled")
    assert path.stat().st_size > 10_000
