"""Reactions, replies and every message's own address, as people see them in a real Chromium
against a real server, with JavaScript and without."""

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, say, serious_violations
from .servers import run_python

pytestmark = pytest.mark.e2e


def message(page: Page, text: str):
    """The message whose own text (not a quote of it) has `text`."""
    return log(page).locator(".message", has=page.locator(".message__body", has_text=text))


def chip(page: Page, text: str, reaction: str):
    return message(page, text).locator(".reaction__button", has_text=reaction)


def react(page: Page, text: str, reaction: str) -> None:
    message(page, text).get_by_role("button", name="React to this message").click()
    picker = message(page, text).locator(".message-react")
    picker.get_by_role("button", name=reaction, exact=True).click()


def test_reactions_show_live_with_counts_who_gave_them_and_ones_own_marked(browser, server):
    blocked: list[str] = []
    ada = enter(browser, server, "Reacting", "ada", blocked=blocked)
    bob = enter(browser, server, "Reacting", "bob", blocked=blocked)
    errors: list[str] = []
    for page in (ada, bob):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    say(bob, "cake in the kitchen")
    expect(bodies(ada)).to_have_text(["cake in the kitchen"])
    react(ada, "cake in the kitchen", "🎉")
    for page in (ada, bob):
        expect(chip(page, "cake", "🎉")).to_have_text("🎉 1")
    expect(ada.locator(".message-react")).to_have_count(0)  # the picker closed
    # Bob gives the same one from the chip itself; then a few words of his own.
    chip(bob, "cake", "🎉").click()
    for page in (ada, bob):
        expect(chip(page, "cake", "🎉")).to_have_text("🎉 2")
    message(bob, "cake").get_by_role("button", name="React to this message").click()
    words = bob.get_by_label("Or a few words")
    words.fill("yum!")
    words.press("Enter")
    for page in (ada, bob):
        expect(chip(page, "cake", "yum!")).to_have_text("yum! 1")
    # Pointing at one shows who gave it.
    chip(ada, "cake", "🎉").hover()
    who = chip(ada, "cake", "🎉").evaluate("b => getComputedStyle(b, '::after').content")
    assert who == '"ada, bob"'

    # One's own reactions look selected: the same bytes, styled by each page.
    def looks(page: Page, reaction: str) -> str:
        return chip(page, "cake", reaction).evaluate("b => getComputedStyle(b).backgroundColor")

    assert looks(ada, "yum!") != looks(bob, "yum!")
    assert looks(ada, "🎉") == looks(bob, "yum!")  # given by each of them
    # Ada takes hers back: one left, bob's.
    chip(ada, "cake", "🎉").click()
    for page in (ada, bob):
        expect(chip(page, "cake", "🎉")).to_have_text("🎉 1")
    assert errors == [] and blocked == []
    bob.reload()
    expect(message(bob, "cake").locator(".reaction__button")).to_have_text(["🎉 1", "yum! 1"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reactions_quotes_the_picker_and_the_reply_bar_are_accessible(browser, server, scheme):
    room = f"Accessible Talk {scheme}"
    ada = enter(browser, server, room, f"ada-{scheme}", color_scheme=scheme, bypass_csp=True)
    say(ada, "first")
    react(ada, "first", "👍")
    expect(chip(ada, "first", "👍")).to_have_text("👍 1")
    message(ada, "first").get_by_role("button", name="Reply to this message").click()
    expect(ada.locator("#composer-reply")).to_contain_text("Replying to")
    say(ada, "second")
    expect(message(ada, "second").locator(".quote")).to_be_visible()
    # The picker open in one message, a reply being written under the other.
    message(ada, "second").get_by_role("button", name="React to this message").click()
    expect(ada.get_by_label("Or a few words")).to_be_visible()
    message(ada, "first").get_by_role("button", name="Reply to this message").click()
    expect(ada.locator("#composer-reply")).to_contain_text("Replying to")
    assert serious_violations(ada) == []


def test_a_reply_quotes_its_original_which_a_click_brings_into_view(browser, server):
    ada = enter(browser, server, "Replying", "ada")
    bob = enter(browser, server, "Replying", "bob")
    say(ada, "who has the projector key?")
    say(ada, "and the remote")
    expect(bodies(bob)).to_have_count(2)
    message(bob, "projector").get_by_role("button", name="Reply to this message").click()
    bar = bob.locator("#composer-reply")
    expect(bar).to_contain_text("Replying to ada who has the projector key?")
    box = bob.get_by_role("combobox", name="Message")
    expect(box).to_be_focused()
    say(bob, "I do")
    expect(bar).to_be_empty()  # the reply went with that message
    for page in (ada, bob):
        reply = message(page, "I do")
        expect(reply.locator(".quote")).to_have_text("ada who has the projector key?")
    # The next message is no reply.
    say(bob, "and the remote is on the shelf")
    expect(message(ada, "on the shelf").locator(".quote")).to_have_count(0)
    # Escape drops a reply being written, and keeps the text.
    message(bob, "on the shelf").get_by_role("button", name="Reply to this message").click()
    expect(bar).to_contain_text("Replying to bob and the remote is on the shelf")
    box.fill("never mind")
    box.press("Escape")
    expect(bar).to_be_empty()
    expect(box).to_have_value("never mind")
    # Clicking the quote brings the original into view and lights it up.
    message(ada, "I do").locator(".quote").click()
    expect(message(ada, "projector")).to_have_class("message message--found")
    assert ada.url.endswith("/rooms/replying/")  # the page stayed
    # Deleting the original shows in the reply at once.
    message(ada, "projector").get_by_role("button", name="Delete this message").click()
    log(ada).get_by_role("button", name="Delete", exact=True).click()
    for page in (ada, bob):
        expect(message(page, "I do").locator(".quote")).to_have_text("ada Message deleted")


def test_a_quote_of_a_message_far_back_opens_the_room_around_it(browser, server):
    ada = enter(browser, server, "Far Back", "ada")
    # Seventy messages said before, so the first is not on the page.
    run_python(
        server.env,
        "manage.py",
        "shell",
        "-c",
        "from rooms.models import Room\n"
        "room = Room.objects.get(slug='far-back')\n"
        "for n in range(1, 71): room.post('bob', f'old message {n}', author_key='guest.bob')",
        check=True,
    )
    ada.reload()
    expect(bodies(ada).first).not_to_have_text("old message 1")
    pk = (
        run_python(
            server.env,
            "manage.py",
            "shell",
            "-c",
            "from rooms.models import Message\nprint(Message.objects.get(body='old message 1').pk)",
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    ada.goto(f"{server.url}/rooms/far-back/?reply={pk}")
    expect(ada.locator("#composer-reply")).to_contain_text("bob old message 1")
    say(ada, "about that first one")
    quote = message(ada, "about that first one").locator(".quote")
    expect(quote).to_have_text("bob old message 1")
    quote.click()
    # The room opened at the message, with what was said around it, and it stands out.
    expect(ada).to_have_url(f"{server.url}/rooms/far-back/?at=1#message-{pk}")
    original = log(ada).locator(f"#message-{pk}")
    expect(original).to_be_in_viewport()
    assert original.evaluate("m => m.matches(':target')")
    expect(ada.get_by_role("link", name="Newer messages")).to_be_visible()


def test_reactions_and_replies_work_without_javascript(browser, server):
    ada = enter(browser, server, "Plain Talk", "ada")
    plain = enter(browser, server, "Plain Talk", "nojs", java_script_enabled=False)
    say(ada, "anyone here?")
    expect(message(ada, "anyone here?")).to_be_visible()  # stored, so the reload has it
    plain.reload()
    message(plain, "anyone here?").get_by_role("button", name="React to this message").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("React to a message")
    plain.get_by_role("button", name="👀", exact=True).click()
    # Back in the room; ada saw it live.
    expect(chip(plain, "anyone here?", "👀")).to_have_text("👀 1")
    expect(chip(ada, "anyone here?", "👀")).to_have_text("👀 1")
    message(plain, "anyone here?").get_by_role("button", name="Reply to this message").click()
    expect(plain.locator("#composer-reply")).to_contain_text("Replying to ada anyone here?")
    say(plain, "yes, me")
    for page in (ada, plain):
        expect(message(page, "yes, me").locator(".quote")).to_have_text("ada anyone here?")
