"""Editing and deleting messages, as people see it in a real Chromium against a real server."""

import re
import signal

import pytest
from playwright.sync_api import Browser, Page, expect

from .helpers import needs_redis
from .pages import bodies, enter, log, say, serious_violations
from .servers import LIVE_WITHIN, Server, run_python

pytestmark = pytest.mark.e2e


def message(page: Page, text: str):
    return log(page).locator(".message", has_text=text)


def edit(page: Page, text: str, new_text: str) -> None:
    message(page, text).get_by_role("button", name="Edit this message").click()
    box = page.get_by_label("Edit your message")
    expect(box).to_be_focused()
    box.fill(new_text)
    box.press("Enter")


def delete(page: Page, text: str) -> None:
    message(page, text).get_by_role("button", name="Delete this message").click()
    log(page).get_by_role("button", name="Delete", exact=True).click()


def shell(server: Server, code: str) -> None:
    """Run Python against the server's database (as an operator would with manage.py)."""
    run_python(server.env, "manage.py", "shell", "-c", code, check=True)


def enter_as_staff(browser: Browser, server: Server, room: str, name: str) -> Page:
    shell(
        server,
        "from django.contrib.auth.models import User; "
        f"User.objects.create_user({name!r}, password='a long passphrase', is_staff=True)",
    )
    page = browser.new_context().new_page()
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("a long passphrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    return page


def test_an_edit_shows_live_for_everyone_in_place(browser, server):
    blocked = []  # by the Content-Security-Policy, on any of their pages, lobby included
    ada = enter(browser, server, "Edits", "ada", blocked=blocked)
    bob = enter(browser, server, "Edits", "bob", blocked=blocked)
    errors = []
    for page in (ada, bob):
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for text in ("see you at 5", "bring snacks"):
        say(ada, text)
        expect(bodies(bob).last).to_have_text(text)
    # The message arrived live on ada's page too: its controls work there.
    edit(ada, "see you at 5", "see you at 6")
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["see you at 6", "bring snacks"])
        expect(message(page, "see you at 6").locator(".message__edited")).to_have_text("edited")
    expect(ada.locator(".message-change")).to_have_count(0)  # the form closed
    expect(ada.get_by_role("combobox", name="Message")).to_be_focused()
    # No htmx errors.
    assert errors == []
    bob.reload()
    expect(bodies(bob)).to_have_text(["see you at 6", "bring snacks"])
    # Nothing blocked by the Content-Security-Policy, the reloaded page included.
    assert blocked == []


def test_an_edit_sent_the_moment_its_form_appears_goes_over_the_socket(browser, server):
    """Enter pressed as soon as the form is drawn: htmx already owns it, so the edit goes
    live without a page load (a plain submit would reload the page and lose its focus)."""
    ada = enter(browser, server, "Quick Edits", "ada")
    bob = enter(browser, server, "Quick Edits", "bob")
    say(ada, "meet at 5")
    expect(bodies(bob).last).to_have_text("meet at 5")
    # Sends from the first moment the page could see the form, before any timer runs.
    ada.evaluate(
        """() => {
          window.stayed = true;
          new MutationObserver((changes, observer) => {
            const field = document.querySelector(".message-change textarea");
            if (!field) return;
            observer.disconnect();
            field.value = "meet at 6";
            field.form.requestSubmit();
          }).observe(document.getElementById("messages"), { childList: true, subtree: true });
        }"""
    )
    message(ada, "meet at 5").get_by_role("button", name="Edit this message").click()
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["meet at 6"])
    assert ada.evaluate("window.stayed") is True  # the same page: no reload
    expect(ada.get_by_role("combobox", name="Message")).to_be_focused()


def test_a_deletion_leaves_a_tombstone_live(browser, server):
    ada = enter(browser, server, "Deletions", "ada")
    bob = enter(browser, server, "Deletions", "bob")
    for text in ("wrong chat, sorry", "hello all"):
        say(ada, text)
        expect(bodies(bob).last).to_have_text(text)
    delete(ada, "wrong chat, sorry")
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["hello all"])
        expect(log(page).locator(".message__tombstone")).to_have_text(["Message deleted"])
        expect(log(page)).not_to_contain_text("wrong chat")
        # The tombstone keeps the message's place.
        expect(log(page).locator(".message").first).to_have_class(re.compile("message--deleted"))


def test_only_the_author_sees_the_controls(browser, server):
    ada = enter(browser, server, "Controls", "ada")
    bob = enter(browser, server, "Controls", "bob")
    say(ada, "ada's words")
    expect(log(bob)).to_contain_text("ada's words")
    say(bob, "bob's words")
    expect(log(ada)).to_contain_text("bob's words")
    for page, mine, theirs in ((ada, "ada's", "bob's"), (bob, "bob's", "ada's")):
        for name in ("Edit this message", "Delete this message"):
            expect(message(page, mine).get_by_role("button", name=name)).to_be_visible()
            expect(message(page, theirs).get_by_role("button", name=name)).to_be_hidden()
    # A reload draws history with the same rule.
    bob.reload()
    expect(message(bob, "ada's").get_by_role("button", name="Edit this message")).to_be_hidden()


def test_an_edit_to_a_message_older_than_the_page_stays_out_of_it(browser, server):
    shell(
        server,
        "from rooms.models import Room; room = Room.objects.for_name('Long Room'); "
        "[room.post('bob', f'old {n}', author_key='guest.bob') for n in range(52)]",
    )
    ada = enter(browser, server, "Long Room", "ada")
    expect(bodies(ada)).to_have_count(50)
    expect(bodies(ada).first).to_have_text("old 2")
    # An edit the page hears about (the once-a-second check reads it from the record).
    shell(
        server,
        "from rooms import editing; from rooms.identity import Identity; "
        "from rooms.models import Room; room = Room.objects.get(slug='long-room'); "
        "bob = Identity('bob', True, 'guest.bob'); "
        "editing.edit_message(room, bob, room.messages.get(seq=1).pk, 'old 0, edited')",
    )
    say(ada, "new")  # after the edit in the room's order: once it shows, the edit arrived
    expect(bodies(ada).last).to_have_text("new")
    expect(bodies(ada)).to_have_count(51)
    expect(bodies(ada).first).to_have_text("old 2")


def test_an_edit_can_be_cancelled(browser, server):
    ada = enter(browser, server, "Cancel", "ada")
    say(ada, "keep this")
    message(ada, "keep this").get_by_role("button", name="Edit this message").click()
    ada.get_by_label("Edit your message").fill("or not")
    ada.get_by_role("link", name="Cancel").click()
    expect(ada.locator(".message-change")).to_have_count(0)
    expect(bodies(ada)).to_have_text(["keep this"])
    expect(ada).to_have_url(re.compile(r"/rooms/cancel/$"))


def test_saving_an_edit_that_changes_nothing_just_closes_the_form(browser, server):
    ada = enter(browser, server, "Unchanged", "ada")
    say(ada, "fine as it is")
    edit(ada, "fine as it is", "fine as it is")
    expect(ada.locator(".message-change")).to_have_count(0)
    expect(log(ada).locator(".message__edited")).to_have_count(0)


def test_a_moderator_deletes_anyones_message_and_it_goes_for_everyone(browser, server):
    ada = enter(browser, server, "Moderated", "ada")
    bob = enter(browser, server, "Moderated", "bob")
    say(bob, "buy cheap watches")
    expect(log(ada)).to_contain_text("buy cheap watches")
    mod = enter_as_staff(browser, server, "Moderated", "moderator")
    spam = message(mod, "buy cheap watches")
    expect(spam.get_by_role("button", name="Delete this message")).to_be_visible()
    expect(spam.get_by_role("button", name="Edit this message")).to_be_hidden()
    delete(mod, "buy cheap watches")
    for page in (ada, bob, mod):
        expect(log(page).locator(".message__tombstone")).to_have_text(["Message deleted"])
        expect(log(page)).not_to_contain_text("cheap watches")


def lose_the_server(ada, bob, texts, server: Server) -> None:
    """Bob says things that ada sees, then ada's server dies: her page is away."""
    for text in texts:
        say(bob, text)
        expect(bodies(ada).last).to_have_text(text)
    ada.evaluate("window.notReloaded = true")
    server.stop(signal.SIGKILL)
    expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")


def test_a_page_that_was_away_shows_edits_and_deletions_without_a_reload(browser, server_env):
    own = Server(server_env).start()
    try:
        ada = enter(browser, own, "Away", "ada")
        bob = enter(browser, own, "Away", "bob")
        lose_the_server(ada, bob, ("stays", "fix me", "drop me"), own)
        # While ada's page is away, bob's edit and deletion go into the record.
        shell(
            own,
            "from rooms import editing; from rooms.identity import Identity; "
            "from rooms.models import Room; "
            "room = Room.objects.get(slug='away'); "
            # bob's key, which his browser's messages carry.
            "bob = Identity('bob', True, room.messages.get(body='fix me').author_key); "
            "editing.edit_message(room, bob, room.messages.get(body='fix me').pk, 'fixed'); "
            "editing.delete_message(room, bob, room.messages.get(body='drop me').pk); "
            "room.post('bob', 'and a new one')",
        )
        own.start()
        expect(bodies(ada)).to_have_text(["stays", "fixed", "and a new one"], timeout=30_000)
        expect(message(ada, "fixed").locator(".message__edited")).to_be_visible()
        expect(log(ada).locator(".message__tombstone")).to_have_text(["Message deleted"])
        expect(log(ada)).not_to_contain_text("drop me")
        assert ada.evaluate("window.notReloaded") is True
        expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
    finally:
        own.stop()


def test_without_javascript_people_edit_and_delete_with_plain_pages(browser, server):
    live = enter(browser, server, "Plain Edits", "ada")
    plain = enter(browser, server, "Plain Edits", "nojs", java_script_enabled=False)
    say(plain, "plian typo")
    expect(log(live)).to_contain_text("plian typo")
    message(plain, "plian typo").get_by_role("button", name="Edit this message").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Edit a message")
    plain.get_by_label("Edit your message").fill("plain typo")
    plain.get_by_role("button", name="Save").click()
    expect(plain).to_have_url(re.compile(r"/rooms/plain-edits/#message-\d+$"))
    expect(bodies(plain)).to_have_text(["plain typo"])
    expect(bodies(live)).to_have_text(["plain typo"])
    message(plain, "plain typo").get_by_role("button", name="Delete this message").click()
    plain.get_by_role("button", name="Delete", exact=True).click()
    expect(log(plain).locator(".message__tombstone")).to_have_text(["Message deleted"])
    expect(log(live).locator(".message__tombstone")).to_have_text(["Message deleted"])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_controls_and_forms_have_no_serious_accessibility_violations(browser, server, scheme):
    room = f"Accessible Edits {scheme}"
    page = enter(browser, server, room, f"ed-{scheme}", color_scheme=scheme, bypass_csp=True)
    for text in ("an edited one", "a deleted one", "an open one"):
        say(page, text)
        expect(bodies(page).last).to_have_text(text)
    edit(page, "an edited one", "an edited one, edited")
    expect(message(page, "edited one, edited").locator(".message__edited")).to_be_visible()
    delete(page, "a deleted one")
    expect(log(page).locator(".message__tombstone")).to_have_count(1)
    message(page, "an open one").get_by_role("button", name="Edit this message").click()
    expect(page.get_by_label("Edit your message")).to_be_visible()
    serious = serious_violations(page)
    assert serious == [], f"{scheme}: {serious}"


@needs_redis
def test_a_page_whose_process_died_shows_edits_made_through_another(browser, two_servers):
    one, two = two_servers
    ada = enter(browser, one, "Edit Failover", "ada")
    bob = enter(browser, two, "Edit Failover", "bob")
    lose_the_server(ada, bob, ("first", "second", "third"), one)
    edit(bob, "second", "second, edited")
    expect(bodies(bob)).to_have_text(["first", "second, edited", "third"])
    delete(bob, "third")
    expect(log(bob).locator(".message__tombstone")).to_have_count(1)
    edit(bob, "second, edited", "second, edited again")
    expect(bodies(bob)).to_have_text(["first", "second, edited again"])
    one.start()
    expect(bodies(ada)).to_have_text(["first", "second, edited again"], timeout=30_000)
    expect(log(ada).locator(".message__tombstone")).to_have_text(["Message deleted"])
    assert ada.evaluate("window.notReloaded") is True
    # And live again both ways (the recheck is off: conftest.py two_servers).
    say(ada, "back")
    expect(bodies(bob).last).to_have_text("back", timeout=LIVE_WITHIN * 1000)
    say(bob, "and forth")
    expect(bodies(ada).last).to_have_text("and forth", timeout=LIVE_WITHIN * 1000)


def errors_of(page: Page) -> list[str]:
    """Console errors from now on (htmx logs an out-of-band target it cannot find as one)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_every_push_lands_once_in_order_and_a_change_to_unshown_history_stays_out(
    browser, server_env
):
    own = Server(server_env).start()
    try:
        shell(
            own,
            "from rooms.models import Room; room = Room.objects.for_name('Landing'); "
            "[room.post('bob', f'old {n}', author_key='guest.bob') for n in range(52)]",
        )
        ada = enter(browser, own, "Landing", "ada")
        errors = errors_of(ada)
        shown = [f"old {n}" for n in range(2, 52)]
        expect(bodies(ada)).to_have_text(shown)
        bob = "bob = Identity('bob', True, 'guest.bob'); "
        edits = (
            "from rooms import editing; from rooms.identity import Identity; "
            "from rooms.models import Room; room = Room.objects.get(slug='landing'); " + bob
        )
        # Older than the page's history: the page has no copy, and gets none, without an error.
        shell(own, edits + "editing.edit_message(room, bob, room.messages.get(seq=1).pk, 'x0')")
        # A shown message changed twice (read from the record by the once-a-second check):
        # its newest text, in its place, once.
        for text in ("old 30, edited", "old 30, edited again"):
            shell(
                own,
                edits + f"editing.edit_message(room, bob, room.messages.get(seq=31).pk, {text!r})",
            )
        say(ada, "live")  # after the edits in the room's order: once it shows, they arrived
        shown[28] = "old 30, edited again"
        expect(bodies(ada)).to_have_text([*shown, "live"])
        # Two live pushes for one message (edited twice from the page).
        edit(ada, "live", "live, edited")
        expect(bodies(ada).last).to_have_text("live, edited")
        edit(ada, "live, edited", "live again")
        expect(bodies(ada)).to_have_text([*shown, "live again"])
        # Away: edits of shown messages and new ones, then a catch-up on reconnecting.
        ada.evaluate("window.notReloaded = true")
        own.stop(signal.SIGKILL)
        expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")
        shell(
            own,
            edits + "editing.edit_message(room, bob, room.messages.get(seq=1).pk, 'x1'); "
            "editing.edit_message(room, bob, room.messages.get(seq=52).pk, 'old 51, fixed'); "
            "editing.delete_message(room, bob, room.messages.get(seq=10).pk); "
            "[room.post('bob', f'away {n}', author_key='guest.bob') for n in range(3)]; "
            "editing.edit_message(room, bob, room.messages.get(seq=54).pk, 'away 0, fixed')",
        )
        own.start()
        expect(ada.locator(".room")).to_have_attribute("data-connection", "open", timeout=30_000)
        shown[-1] = "old 51, fixed"
        shown.remove("old 9")
        after = [*shown, "live again", "away 0, fixed", "away 1", "away 2"]
        expect(bodies(ada)).to_have_text(after)
        expect(log(ada).locator(".message__tombstone")).to_have_count(1)
        expect(log(ada)).not_to_contain_text("x0")
        expect(log(ada)).not_to_contain_text("x1")
        seqs = log(ada).locator(".message").evaluate_all("ms => ms.map(m => +m.dataset.seq)")
        assert seqs == list(range(3, 57))
        # Live again, in order.
        say(ada, "back")
        expect(bodies(ada).last).to_have_text("back")
        expect(bodies(ada)).to_have_count(len(after) + 1)
        assert ada.evaluate("window.notReloaded") is True
        expect(ada.locator("#offstage .message")).to_have_count(0)
        # Only the refused reconnects while the server was down (htmx logs each as an Event).
        assert {e for e in errors if "ERR_CONNECTION_REFUSED" not in e} <= {"[object Event]"}
    finally:
        own.stop()
