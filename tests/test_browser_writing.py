"""Writing and reading in a real Chromium: lines, keys, drafts, long texts, the typing cue,
grouped messages and their controls."""

import re

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, say, serious_violations
from .servers import run_python
from .test_browser_reading import HIDE, SHOW, scroll_to_top, seed

pytestmark = pytest.mark.e2e


def box(page: Page):
    return page.get_by_role("combobox", name="Message")


def height(locator) -> float:
    return locator.evaluate("el => el.getBoundingClientRect().height")


def test_shift_enter_starts_a_line_enter_sends_and_the_lines_stay(browser, server):
    ada = enter(browser, server, "Lines", "ada")
    bob = enter(browser, server, "Lines", "bob")
    box(ada).press_sequentially("line one")
    box(ada).press("Shift+Enter")
    box(ada).press_sequentially("line two")
    expect(box(ada)).to_have_value("line one\nline two")
    expect(bodies(bob)).to_have_count(0)  # nothing went yet
    box(ada).press("Enter")
    expect(box(ada)).to_have_value("")
    for page in (ada, bob):
        body = bodies(page).last
        expect(body).to_have_text("line one\nline two", use_inner_text=True)
        expect(body.locator("br")).to_have_count(1)
    # Pasted lines are kept as they are, not joined.
    box(ada).focus()
    ada.keyboard.insert_text("pasted one\npasted two\n\npasted four")
    box(ada).press("Enter")
    expect(bodies(bob).last).to_have_text(
        "pasted one\npasted two\n\npasted four", use_inner_text=True
    )


def test_the_box_grows_with_its_lines_up_to_a_few(browser, server):
    ada = enter(browser, server, "Grows", "ada")
    one = height(box(ada))
    box(ada).fill("1\n2\n3")
    three = height(box(ada))
    assert three > one * 2
    box(ada).fill("\n".join(str(n) for n in range(30)))
    many = height(box(ada))
    assert three < many < one * 8  # a few lines, then it scrolls
    assert box(ada).evaluate("el => el.scrollHeight > el.clientHeight")


def test_without_javascript_the_box_is_a_textarea_with_a_send_button(browser, server):
    ada = enter(browser, server, "Plain Lines", "ada")
    plain = enter(browser, server, "Plain Lines", "nojs", java_script_enabled=False)
    box(plain).press_sequentially("first")
    box(plain).press("Enter")  # a new line, not a send
    box(plain).press_sequentially("second")
    expect(box(plain)).to_have_value("first\nsecond")
    plain.get_by_role("button", name="Send", exact=True).click()
    expect(bodies(plain)).to_have_text(["first\nsecond"], use_inner_text=True)
    expect(bodies(ada)).to_have_text(["first\nsecond"], use_inner_text=True)


def test_the_box_has_focus_on_load_and_keeps_a_draft_per_room(browser, server):
    ada = enter(browser, server, "Drafts", "ada")
    expect(box(ada)).to_be_focused()
    box(ada).fill("half a thought\nand a second line")
    ada.reload()
    expect(box(ada)).to_be_focused()
    expect(box(ada)).to_have_value("half a thought\nand a second line")
    # Another room has its own (empty) box.
    other = ada.context.new_page()
    other.goto(ada.url.replace("/rooms/drafts/", "/"))
    other.get_by_label("Room", exact=True).fill("Elsewhere")
    other.get_by_role("button", name="Enter the room").click()
    expect(box(other)).to_have_value("")
    # Sent, the draft is gone: a reload shows an empty box.
    box(ada).press("Enter")
    expect(bodies(ada)).to_have_text(["half a thought\nand a second line"], use_inner_text=True)
    ada.reload()
    expect(box(ada)).to_have_value("")


def test_up_edits_your_last_message_and_escape_closes_the_edit(browser, server):
    ada = enter(browser, server, "Up Key", "ada")
    bob = enter(browser, server, "Up Key", "bob")
    say(ada, "my first")
    say(ada, "my second\nwith two lines")
    expect(bodies(ada)).to_have_count(2)
    say(bob, "bob's, newest")
    expect(bodies(ada)).to_have_count(3)
    box(ada).press("ArrowUp")
    edit = ada.get_by_label("Edit your message")
    expect(edit).to_be_focused()
    expect(edit).to_have_value("my second\nwith two lines")  # ada's last, lines kept, not bob's
    assert edit.evaluate("el => el.selectionStart") == len("my second\nwith two lines")
    edit.press("Escape")
    expect(edit).to_have_count(0)
    expect(box(ada)).to_be_focused()
    # Again, and this time saved with Enter, a line added with Shift+Enter.
    box(ada).press("ArrowUp")
    edit.press("Shift+Enter")
    edit.press_sequentially("and a third")
    edit.press("Enter")
    expect(bodies(bob).nth(1)).to_have_text(
        "my second\nwith two lines\nand a third", use_inner_text=True
    )
    expect(box(ada)).to_be_focused()
    # Up in a box with text in it moves the caret, as in any textarea: no edit opens.
    box(ada).fill("typing")
    box(ada).press("ArrowUp")
    expect(edit).to_have_count(0)


def test_sending_while_reading_older_messages_brings_you_down(browser, server, server_env):
    seed(server_env, "Own Send", 45)
    ada = enter(browser, server, "Own Send", "ada", viewport={"width": 800, "height": 600})
    scroll_to_top(ada)
    expect(log(ada).locator(".message").last).not_to_be_in_viewport()
    say(ada, "mine, from up there")
    newest = log(ada).locator(".message").last
    expect(newest).to_contain_text("mine, from up there")
    expect(newest).to_be_in_viewport()
    expect(ada.get_by_role("button", name="New messages ↓")).to_be_hidden()


def test_a_long_paste_is_kept_whole_and_refused_with_the_reason(browser, server):
    ada = enter(browser, server, "Long Paste", "ada")
    box(ada).focus()
    ada.keyboard.insert_text("x" * 2345)
    expect(box(ada)).to_have_value("x" * 2345)  # not cut at 2,000
    box(ada).press("Enter")
    expect(ada.locator("#composer-error")).to_contain_text("at most 2000 characters")
    expect(ada.locator("#composer-error")).to_contain_text("2345")
    kept = ada.get_by_role("region", name="Not sent yet").get_by_role("listitem")
    expect(kept.locator(".unsent__text")).to_have_text(["x" * 2345])


def test_a_long_name_is_kept_whole_and_refused_with_the_reason(browser, server):
    page = browser.new_context().new_page()
    page.goto(server.url + "/")
    page.get_by_label("Room", exact=True).fill("Long Names")
    page.get_by_label("Your name").focus()
    page.keyboard.insert_text("n" * 45)
    expect(page.get_by_label("Your name")).to_have_value("n" * 45)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.locator(".field__error")).to_contain_text("at most 40 characters")
    expect(page.get_by_label("Your name")).to_have_value("n" * 45)


def test_a_typing_cue_goes_when_that_persons_message_arrives(browser, server):
    ada = enter(browser, server, "Cue Goes", "ada")
    bob = enter(browser, server, "Cue Goes", "bob")
    cleo = enter(browser, server, "Cue Goes", "cleo")
    box(bob).press_sequentially("almost")
    box(cleo).press_sequentially("me too")
    expect(ada.locator("#typing .typing__cue")).to_have_count(2)
    box(bob).press("Enter")
    expect(bodies(ada)).to_have_text(["almost"])
    # Gone from the page at once (not just faded later), and only bob's.
    expect(ada.locator("#typing .typing__cue")).to_have_text(["cleo is typing…"])


def test_logging_in_from_a_room_comes_back_to_it(browser, server):
    ada = enter(browser, server, "Come Back", "ada")
    ada.get_by_role("link", name="Sign up").click()
    ada.get_by_label("Username").fill("ada_member")
    ada.get_by_label("Password", exact=True).fill("a long passphrase 1")
    ada.get_by_label("Password confirmation").fill("a long passphrase 1")
    ada.get_by_role("button", name="Create account").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Come Back")
    expect(ada.locator(".room__me")).to_contain_text("You are ada_member")
    ada.get_by_role("button", name="Log out").click()
    ada.goto(server.url + "/")  # back in as a guest, then logging in from the room
    ada.get_by_label("Room", exact=True).fill("Come Back")
    ada.get_by_label("Your name").fill("ada the guest")
    ada.get_by_role("button", name="Enter the room").click()
    expect(ada.locator(".room__me")).to_contain_text("You are ada the guest")
    ada.get_by_role("link", name="Log in").click()
    ada.get_by_label("Username").fill("ada_member")
    ada.get_by_label("Password").fill("a long passphrase 1")
    ada.get_by_role("button", name="Log in").click()
    expect(ada.get_by_role("heading", level=1)).to_have_text("Come Back")
    expect(ada.locator(".room__me")).to_contain_text("You are ada_member")


def test_a_persons_messages_in_a_row_read_under_one_name(browser, server):
    ada = enter(browser, server, "Grouped", "ada")
    bob = enter(browser, server, "Grouped", "bob")
    say(ada, "one")
    say(ada, "two")
    say(bob, "three")
    expect(bodies(bob)).to_have_count(3)
    bob.reload()  # live, and drawn by the server: the same
    for page in (ada, bob):
        rows = log(page).locator(".message")
        expect(rows.nth(0).locator(".avatar")).to_have_text("A")
        expect(rows.nth(0).locator(".message__author")).to_have_css("position", "static")
        # The second shows no initials, and its name and time are there for screen readers only.
        expect(rows.nth(1).locator(".avatar")).to_be_hidden()
        expect(rows.nth(1).locator(".message__author")).to_have_css("position", "absolute")
        assert height(rows.nth(1)) < height(rows.nth(0)) * 0.7
        expect(rows.nth(2).locator(".avatar")).to_have_text("B")


def test_edit_and_delete_show_on_hover_and_keyboard_focus_and_always_on_touch(browser, server):
    ada = enter(browser, server, "Hover Controls", "ada")
    say(ada, "mine")
    mine = log(ada).locator(".message").first
    actions = mine.locator(".message__actions")
    ada.mouse.move(1, 1)
    expect(actions).to_have_css("opacity", "0")
    mine.hover()
    expect(actions).to_have_css("opacity", "1")
    ada.mouse.move(1, 1)
    expect(actions).to_have_css("opacity", "0")
    mine.get_by_role("button", name="Edit this message").focus()
    expect(actions).to_have_css("opacity", "1")
    phone = enter(
        browser,
        server,
        "Hover Controls",
        "ada on a phone",
        has_touch=True,
        is_mobile=True,
        viewport={"width": 390, "height": 844},
    )
    say(phone, "from the phone")
    theirs = log(phone).locator(".message").last
    expect(theirs.locator(".message__actions")).to_have_css("opacity", "1")
    expect(theirs.get_by_role("button", name="Edit this message")).to_be_visible()


FORMATTED = (
    "**bold** and _italic_ and `code`, for @bob\n"
    "> a quoted line\n\n"
    "```\n" + "a long line of code that does not wrap " * 6 + "\n```"
)


def test_formatting_shows_for_everyone_and_code_scrolls_sideways(browser, server):
    ada = enter(browser, server, "Formats", "ada")
    bob = enter(browser, server, "Formats", "bob", viewport={"width": 390, "height": 844})
    say(ada, FORMATTED)
    body = bodies(bob).last
    expect(body.locator("strong")).to_have_text("bold")
    expect(body.locator("em")).to_have_text("italic")
    expect(body.locator("p code")).to_have_text("code")
    expect(body.locator("blockquote")).to_have_text("a quoted line")
    expect(body.locator(".mention")).to_have_text("@bob")
    code = body.locator("pre")
    expect(code).to_contain_text("a long line of code")
    assert code.evaluate("el => el.scrollWidth > el.clientWidth")  # scrolls inside the message
    assert bob.evaluate("document.documentElement.scrollWidth") <= 390  # the page does not


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_formats_grouping_and_initials_pass_accessibility_checks(browser, server, scheme):
    ada = enter(browser, server, f"Checked {scheme}", "ada", color_scheme=scheme, bypass_csp=True)
    say(ada, FORMATTED)
    say(ada, "grouped under the one before\nwith a second line")
    expect(bodies(ada)).to_have_count(2)
    log(ada).locator(".message").first.hover()
    assert serious_violations(ada) == []


def test_a_hidden_tab_counts_unread_messages_in_its_title_and_icon(browser, server):
    ada = enter(browser, server, "Unread Title", "ada")
    bob = enter(browser, server, "Unread Title", "bob")
    icon = ada.locator("link[rel=icon]")
    plain = icon.evaluate("el => el.href")
    assert ada.request.get(plain).headers["content-type"] == "image/svg+xml"
    expect(ada).to_have_title("Unread Title · Parley")
    ada.evaluate(HIDE)
    say(bob, "one")
    say(bob, "two")
    expect(ada).to_have_title("(2) Unread Title · Parley")
    unread = icon.evaluate("el => el.href")
    assert unread != plain and ada.request.get(unread).ok
    ada.evaluate(SHOW)
    expect(ada).to_have_title("Unread Title · Parley")
    assert icon.evaluate("el => el.href") == plain


# Stands in for the browser's notifications: records what the page would show.
NOTIFICATIONS = """
window.Notification = class {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options) { (window.shown ||= []).push([title, options.body]); }
};
"""


def test_a_mention_raises_a_notification_once_it_is_turned_on(browser, server):
    ada = enter(browser, server, "Notify Room", "ada")
    bob = enter(browser, server, "Notify Room", "bob")
    ada.context.add_init_script(NOTIFICATIONS)
    ada.reload()
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
    toggle = ada.get_by_label("Notify me when I'm mentioned")
    ada.evaluate(HIDE)
    say(bob, "@ada before it is on")
    expect(log(ada)).to_contain_text("before it is on")
    ada.evaluate(SHOW)
    toggle.check()
    ada.evaluate(HIDE)
    say(bob, "not for anyone")
    say(bob, "hey @ada, look")
    expect(log(ada)).to_contain_text("hey @ada, look")
    ada.evaluate(SHOW)
    say(bob, "@ada while you look")  # the tab is shown: no notification
    expect(log(ada)).to_contain_text("while you look")
    assert ada.evaluate("window.shown") == [["bob in Notify Room", "hey @ada, look"]]
    ada.reload()  # the choice is kept
    expect(ada.get_by_label("Notify me when I'm mentioned")).to_be_checked()


def test_without_javascript_there_is_no_notification_toggle(browser, server):
    plain = enter(browser, server, "Notify Plain", "nojs", java_script_enabled=False)
    expect(plain.get_by_label("Notify me when I'm mentioned")).to_be_hidden()


def test_times_read_the_same_in_the_lobby_and_the_room(browser, server, server_env):
    ada = enter(browser, server, "Same Time", "ada", timezone_id="Asia/Tokyo", locale="en-GB")
    say(ada, "said a while ago")
    expect(bodies(ada)).to_have_count(1)
    code = (
        "import datetime; from django.utils import timezone; from rooms.models import Message; "
        "Message.objects.filter(body='said a while ago')"
        ".update(created=timezone.now() - datetime.timedelta(minutes=90))"
    )
    run_python(server_env, "manage.py", "shell", "-c", code, check=True)
    ada.reload()
    in_room = log(ada).locator(".message__time").first
    expect(in_room).to_have_text(re.compile(r"^(\d+ \w+, )?\d\d:\d\d$"))  # Tokyo's, no zone
    label = in_room.inner_text()
    ada.goto(server.url + "/")
    expect(ada.locator("#room-card-same-time time")).to_have_text(label)
    plain = browser.new_context(java_script_enabled=False).new_page()
    plain.goto(server.url + "/")
    expect(plain.locator("#room-card-same-time time")).to_have_text(
        re.compile(r"^\d+ \w+, \d\d:\d\d UTC$")
    )


def test_at_offers_people_to_mention_picked_with_the_keyboard(browser, server):
    ada = enter(browser, server, "Mention Picks", "ada")
    bob = enter(browser, server, "Mention Picks", "bobby")
    say(bob, "hello")
    cleo = enter(browser, server, "Mention Picks", "bea")
    box(ada).press_sequentially("hi @b")
    listbox = ada.get_by_role("listbox", name="People to mention")
    expect(listbox.get_by_role("option")).to_have_text(["bea here now", "bobby here now"])
    expect(box(ada)).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option", name="bea")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box(ada)).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box(ada).press("ArrowDown")
    expect(listbox.get_by_role("option", name="bobby")).to_have_attribute("aria-selected", "true")
    box(ada).press("Enter")  # picks; does not send
    expect(box(ada)).to_have_value("hi @bobby ")
    expect(listbox).to_be_hidden()
    expect(box(ada)).to_have_attribute("aria-expanded", "false")
    box(ada).press_sequentially("and @be")
    expect(listbox.get_by_role("option")).to_have_text(["bea here now"])
    box(ada).press("Escape")
    expect(listbox).to_be_hidden()
    box(ada).press("Enter")  # the list closed: Enter sends
    expect(bodies(cleo).last).to_have_text("hi @bobby and @be")
    expect(bodies(cleo).last.locator(".mention")).to_have_text(["@bobby", "@be"])
    # A click picks too.
    box(ada).press_sequentially("@bo")
    listbox.get_by_role("option", name="bobby").click()
    expect(box(ada)).to_have_value("@bobby ")
    expect(box(ada)).to_be_focused()


def test_a_join_form_error_keeps_the_lobby_below_it(browser, server):
    bob = enter(browser, server, "Lobby Stays", "bob")
    say(bob, "anyone?")
    page = browser.new_context().new_page()
    page.goto(server.url + "/")
    page.get_by_label("Your name").fill("ada")
    page.get_by_role("button", name="Enter the room").click()  # no room named
    expect(page.locator(".field__error")).to_contain_text("Name the room you want to join.")
    expect(page.get_by_role("link", name="Lobby Stays")).to_be_visible()


def test_twice_as_many_messages_fit_on_a_laptop_and_the_header_keeps_to_a_fifth_of_a_phone(
    browser, server, server_env
):
    # Three people in runs of one to three messages, as chat goes (benchmarks/screen.py).
    code = """
from rooms.models import Room
room = Room.objects.for_name("Fits")
for n, who in enumerate("aabcbbaccabcbbaccabab", 1):
    room.post(who, f"message {n}: a short line", author_key=f"guest.{who}")
"""
    run_python(server_env, "manage.py", "shell", "-c", code, check=True)
    visible = """() => {
        const log = document.querySelector('.room__scroller').getBoundingClientRect();
        return [...document.querySelectorAll('#messages > .message')].filter((m) => {
            const r = m.getBoundingClientRect();
            return r.top >= log.top - 1 && r.bottom <= log.bottom + 1;
        }).length;
    }"""
    laptop = enter(browser, server, "Fits", "ada", viewport={"width": 1280, "height": 800})
    assert laptop.evaluate(visible) >= 12  # 6 before grouping and the denser rows
    assert laptop.locator(".room").evaluate("el => el.getBoundingClientRect().width") > 1100
    phone = enter(browser, server, "Fits", "bea", viewport={"width": 390, "height": 844})
    headers = phone.evaluate(
        "document.querySelector('.site-header').getBoundingClientRect().height"
        " + document.querySelector('.room__header').getBoundingClientRect().height"
    )
    assert headers <= 844 / 5
