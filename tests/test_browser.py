"""What people see in a real Chromium, against a real server process."""

import io
import os
import re
import signal
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from .pages import bodies, enter, log, say, serious_violations
from .servers import Server
from .xss import PAYLOADS

pytestmark = pytest.mark.e2e

SCREENSHOTS = os.environ.get("PARLEY_SCREENSHOTS_DIR")


def test_two_people_chat_both_ways(browser, server):
    blocked = []  # by the Content-Security-Policy, on any of their pages, lobby included
    ada = enter(browser, server, "Both Ways", "ada", blocked=blocked)
    bob = enter(browser, server, "Both Ways", "bob", blocked=blocked)
    say(ada, "hi bob")
    expect(log(bob)).to_contain_text("hi bob")
    say(bob, "hi ada")
    expect(log(ada)).to_contain_text("hi ada")
    expect(log(ada).locator(".message__body")).to_have_text(["hi bob", "hi ada"])
    expect(log(bob).locator(".message__author")).to_have_text(["ada", "bob"])
    # Everything works under the Content-Security-Policy: nothing was blocked.
    assert blocked == []


def test_later_arrivals_and_reloads_see_history(browser, server):
    ada = enter(browser, server, "History", "ada")
    for text in ("one", "two", "three"):
        say(ada, text)
        expect(log(ada)).to_contain_text(text)
    cleo = enter(browser, server, "History", "cleo")
    expect(log(cleo).locator(".message__body")).to_have_text(["one", "two", "three"])
    ada.reload()
    expect(log(ada).locator(".message__body")).to_have_text(["one", "two", "three"])


def test_rooms_are_isolated(browser, server):
    ada = enter(browser, server, "Room A", "ada")
    bob = enter(browser, server, "Room B", "bob")
    say(ada, "only in A")
    expect(log(ada)).to_contain_text("only in A")
    say(bob, "only in B")
    expect(log(bob)).to_contain_text("only in B")
    expect(log(bob)).not_to_contain_text("only in A")
    expect(log(ada)).not_to_contain_text("only in B")


def test_enter_sends_clears_the_box_and_keeps_focus(browser, server):
    ada = enter(browser, server, "Enter", "ada")
    box = ada.get_by_role("combobox", name="Message")
    say(ada, "sent with enter")
    expect(log(ada)).to_contain_text("sent with enter")
    expect(box).to_have_value("")
    expect(box).to_be_focused()


def test_own_messages_look_different(browser, server):
    ada = enter(browser, server, "Mine", "ada")
    bob = enter(browser, server, "Mine", "bob")
    say(ada, "from ada")
    expect(log(bob)).to_contain_text("from ada")
    background = "el => getComputedStyle(el).backgroundColor"
    mine = log(ada).locator(".message").first.evaluate(background)
    theirs = log(bob).locator(".message").first.evaluate(background)
    assert mine != theirs


def test_html_and_script_payloads_show_as_text_and_run_nothing(browser, server):
    ada = enter(browser, server, "Payloads", "ada")
    bob = enter(browser, server, "Payloads", "bob")
    dialogs = []
    for page in (ada, bob):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for payload in PAYLOADS:
        say(ada, payload)
        expect(log(bob).locator(".message__body").last).to_have_text(payload)
    cleo = enter(browser, server, "Payloads", "cleo")
    bob.reload()
    for page in (ada, bob, cleo):
        expect(log(page).locator(".message__body")).to_have_text(PAYLOADS)
        assert page.evaluate("window.__xss") is None
        # Every link in the list is each message's own address (its time).
        ours = ":not(.message__link)"
        injected = f"#messages :is(script, img, svg, iframe, a{ours})"
        assert page.locator(injected).count() == 0
        assert page.locator(f"#messages :is([hx-get]{ours}, [hx-on\\:click])").count() == 0
        assert page.locator("#messages a").count() == len(PAYLOADS)
        assert page.locator("#messages").count() == 1
    assert dialogs == []


def test_the_page_recovers_after_the_server_restarts(browser, server_env):
    own = Server(server_env).start()
    try:
        ada = enter(browser, own, "Restart", "ada")
        bob = enter(browser, own, "Restart", "bob")
        own.stop(signal.SIGKILL)
        for page in (ada, bob):
            expect(page.locator(".room")).to_have_attribute("data-connection", "closed")
            expect(page.get_by_role("status").get_by_text("Reconnecting")).to_be_visible()
        own.start()
        for page in (ada, bob):
            expect(page.locator(".room")).to_have_attribute(
                "data-connection", "open", timeout=30_000
            )
            expect(page.get_by_role("status").get_by_text("Live")).to_be_visible()
            expect(page.get_by_role("status").get_by_text("Reconnecting")).to_be_hidden()
        say(ada, "back again")
        expect(log(bob)).to_contain_text("back again")
    finally:
        own.stop()


def test_without_javascript_people_join_read_and_send(browser, server):
    live = enter(browser, server, "No Script", "ada")
    say(live, "before")
    expect(log(live)).to_contain_text("before")
    plain = enter(browser, server, "No Script", "nojs", java_script_enabled=False)
    expect(log(plain)).to_contain_text("before")
    say(plain, "sent by a plain form")
    expect(plain).to_have_url(re.compile(r"/rooms/no-script/#message-\d+$"))
    expect(log(plain).locator(".message__body")).to_have_text(["before", "sent by a plain form"])
    expect(log(live)).to_contain_text("sent by a plain form")
    # A refused message comes back with its reason, on the same page.
    say(plain, "   ")
    expect(plain.locator("#composer-error")).to_have_text("Write something before sending.")


def test_a_refused_message_is_explained_and_kept(browser, server):
    ada = enter(browser, server, "Refused", "ada")
    ada.evaluate("document.getElementById('message-input').removeAttribute('maxlength')")
    say(ada, "x" * 2001)
    expect(ada.get_by_role("alert")).to_contain_text("at most 2000 characters")
    # Kept under the box with the reason ("Not sent yet"), the box ready for the next one.
    kept = ada.get_by_role("region", name="Not sent yet").get_by_role("listitem")
    expect(kept.locator(".unsent__text")).to_have_text(["x" * 2001])
    expect(ada.get_by_role("combobox", name="Message")).to_have_value("")
    say(ada, "short and fine")
    expect(log(ada)).to_contain_text("short and fine")
    expect(ada.locator("#composer-error")).to_be_empty()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_has_no_serious_violations(browser, server, scheme):
    page = enter(
        browser, server, "Accessible", f"reader-{scheme}", color_scheme=scheme, bypass_csp=True
    )
    say(page, "a message to check contrast on")
    expect(log(page)).to_contain_text("a message to check contrast on")
    for url in (server.url + "/", page.url):
        page.goto(url)
        serious = serious_violations(page)
        assert serious == [], f"{scheme} {url}: {serious}"


def test_the_room_is_live_region_and_usable_at_320px(browser, server):
    page = enter(browser, server, "Narrow", "ada", viewport={"width": 320, "height": 640})
    messages = page.locator("#messages")
    expect(messages).to_have_attribute("role", "log")
    expect(messages).to_have_attribute("aria-live", "polite")
    say(page, "a rather long message " * 10)
    expect(log(page)).to_contain_text("a rather long message")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_keyboard_alone_joins_and_sends_with_visible_focus(browser, server):
    page = browser.new_context().new_page()
    page.goto(server.url + "/")
    outline = "() => getComputedStyle(document.activeElement).outlineStyle"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "room_name":
            break
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    page.keyboard.type("kim")
    assert page.evaluate("document.activeElement.name") == "username"
    assert page.evaluate(outline) != "none"
    page.keyboard.press("Enter")
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    # Round the page's controls (the box's file button among them) back to the box.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "message-input":
            break
    assert page.evaluate(outline) != "none"
    page.keyboard.type("typed, never clicked")
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text("typed, never clicked")


def sunset(width: int = 720, height: int = 300) -> bytes:
    """A picture to share: a sky fading into a sea, and a sun."""
    sky = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Image.merge(
        "RGB",
        [
            band.point(lambda v, k=k: int(v * k))
            for k, band in zip((0.95, 0.55, 0.35), sky.split(), strict=True)
        ],
    )
    draw = ImageDraw.Draw(picture)
    draw.ellipse(
        (width // 2 - 50, height // 2 - 50, width // 2 + 50, height // 2 + 50), fill=(255, 214, 102)
    )
    draw.rectangle((0, height * 2 // 3, width, height), fill=(27, 73, 101))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_of_two_people_chatting(browser, server, scheme, tmp_path):
    size = {"width": 900, "height": 860}
    room = f"Django Girls {scheme}"
    ada = enter(browser, server, room, "ada", color_scheme=scheme, viewport=size)
    bob = enter(browser, server, room, "bob", color_scheme=scheme, viewport=size)
    say(ada, "Hi! Is this the WebSocket workshop?")
    say(ada, "I brought questions.")
    expect(log(bob).locator(".message")).to_have_count(2)
    # Bob answers the first, with a quote of it; both react to his answer.
    first = log(bob).locator(".message", has_text="WebSocket workshop").first
    first.get_by_role("button", name="Reply to this message").click()
    expect(bob.locator("#composer-reply")).to_contain_text("Replying to")
    say(bob, "It is. Messages show up for everyone at once.")
    say(bob, "A few lines in one message:\nShift+Enter starts a new line,\nEnter sends.")
    expect(log(ada).locator(".message")).to_have_count(4)
    answer = log(ada).locator(".message", has_text="everyone at once")
    answer.get_by_role("button", name="React to this message").click()
    answer.get_by_role("button", name="🎉", exact=True).click()
    expect(answer.locator(".reaction__button")).to_have_text(["🎉 1"])
    log(bob).locator(".message", has_text="everyone at once").locator(".reaction").click()
    expect(answer.locator(".reaction__button")).to_have_text(["🎉 2"])
    # A picture, and formatting.
    bob.get_by_label("Attach files").set_input_files(
        {"name": "sunset.png", "mimeType": "image/png", "buffer": sunset()}
    )
    say(bob, "The view from the venue:")
    expect(log(ada).locator("img.attachment__thumbnail")).to_have_count(1)
    say(ada, "And <b>HTML</b> stays plain text, while **bold**, _italic_ and `code` work.")
    expect(log(ada).locator(".message")).to_have_count(6)
    image = log(ada).locator("img.attachment__thumbnail")
    expect(image).to_have_attribute("width", "480")
    ada.wait_for_function("() => document.querySelector('img.attachment__thumbnail').complete")
    expect(log(ada).locator("strong")).to_have_text("bold")
    ada.get_by_role("combobox", name="Message").blur()
    ada.mouse.move(0, 0)  # no message pointed at: its actions stay hidden
    target = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"screenshot-{scheme}.png"
    ada.screenshot(path=path, animations="disabled")
    assert path.stat().st_size > 10_000


def test_a_message_already_on_the_page_is_never_shown_twice(browser, server):
    ada = enter(browser, server, "Twice", "ada")
    bob = enter(browser, server, "Twice", "bob")
    for text in ("one", "two", "three"):
        say(bob, text)
        expect(log(ada)).to_contain_text(text)
    expect(ada.locator("#cursor")).to_have_value(re.compile(r"^\d+$"))
    newest = ada.locator("#cursor").input_value()
    # A catch-up reply that repeats what the page already shows (as when it races a
    # live push): rewind the page's cursor and replay the socket's open event.
    ada.evaluate(
        """() => {
            document.getElementById('cursor').value = '0';
            document.querySelector('.room').dispatchEvent(
                new CustomEvent('htmx:wsOpen', {bubbles: true}));
        }"""
    )
    expect(ada.locator("#cursor")).to_have_value(newest)
    say(bob, "four")
    expect(bodies(ada)).to_have_text(["one", "two", "three", "four"])
    assert ada.locator("#messages > .message").count() == 4


def test_with_the_socket_down_a_send_stays_on_the_page(browser, server):
    ada = enter(browser, server, "Fallback", "ada")
    bob = enter(browser, server, "Fallback", "bob")
    # The socket drops (as when the network does): the page never posts the plain way,
    # it keeps the message and sends it when the socket is back.
    ada.evaluate("htmx.find('.room')['htmx-internal-data'].webSocket.socket.close(4000)")
    expect(ada.get_by_role("status").get_by_text("Reconnecting")).to_be_visible()
    say(ada, "sent while the socket was down")
    expect(ada.get_by_role("region", name="Not sent yet")).to_contain_text(
        "sent while the socket was down"
    )
    expect(ada).to_have_url(re.compile(r"/rooms/fallback/$"))
    ada.reload()
    expect(bodies(ada)).to_have_text(["sent while the socket was down"])
    expect(bodies(bob)).to_have_text(["sent while the socket was down"])


def test_a_workshop_link_asks_first_then_brings_the_person_into_the_room(browser, server):
    page = browser.new_context().new_page()
    page.goto(server.url + "/room/Workshop Link/ada/")
    # The link fills in the join form; the person's own click joins.
    expect(page.get_by_label("Room", exact=True)).to_have_value("Workshop Link")
    expect(page.get_by_label("Your name")).to_have_value("ada")
    page.get_by_role("button", name="Enter the room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Workshop Link")
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    # Already in under that name: the link goes straight to the room.
    page.goto(server.url + "/room/Workshop Link/ada/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Workshop Link")
    page.context.close()
