"""Nothing typed is lost, in a real Chromium: what cannot go now waits under the box as
"Not sent yet", with why, and goes by itself (once) when it can."""

import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, WebSocketRoute, expect

from .pages import bodies, enter, say, serious_violations
from .servers import Server, stored_messages

pytestmark = pytest.mark.e2e

NO_CONNECTION = "No connection to the server. It goes by itself when the connection is back."


def unsent(page: Page):
    return page.get_by_role("region", name="Not sent yet")


def box(page: Page):
    return page.get_by_role("combobox", name="Message")


def test_a_send_with_the_server_down_stays_on_the_page_and_goes_once_it_is_back(
    browser, server_env
):
    own = Server(server_env).start()
    try:
        ada = enter(browser, own, "Down", "ada")
        room_url = ada.url
        say(ada, "before")
        expect(bodies(ada)).to_have_text(["before"])
        # The server's answer to it (its key under the box) may come just after the
        # message itself: only once it is in does the tab count it as sent.
        expect(ada.locator("#composer-error")).to_have_attribute("data-key", re.compile(r"\w"))
        own.stop()
        expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")

        say(ada, "typed while down")
        say(ada, "changed my mind")
        # The page stays (no "This site can't be reached"), the box is ready for more,
        # and both wait under it with why.
        expect(ada).to_have_url(room_url)
        expect(box(ada)).to_have_value("")
        waiting = unsent(ada).get_by_role("listitem")
        expect(waiting.locator(".unsent__text")).to_have_text(
            ["typed while down", "changed my mind"]
        )
        expect(waiting.locator(".unsent__reason")).to_have_text([NO_CONNECTION] * 2)
        waiting.filter(has_text="changed my mind").get_by_role("button", name="Discard").click()
        expect(waiting).to_have_count(1)
        # Retrying by hand while still down: it keeps waiting, with its reason.
        waiting.get_by_role("button", name="Retry").click()
        expect(waiting.locator(".unsent__reason")).to_have_text([NO_CONNECTION])

        # A reload while the server is down: the browser's error page; the tab keeps the list.
        with pytest.raises(PlaywrightError):
            ada.reload()
        own.start()
        bob = enter(browser, own, "Down", "bob")
        ada.goto(room_url)
        expect(bodies(bob)).to_have_text(["before", "typed while down"])
        expect(bodies(ada)).to_have_text(["before", "typed while down"])
        expect(unsent(ada)).to_be_hidden()

        # Down again, with the page open: the message goes by itself when the socket is back.
        own.stop()
        expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")
        say(ada, "goes by itself")
        expect(unsent(ada).locator(".unsent__text")).to_have_text(["goes by itself"])
        own.start()
        expect(ada.locator(".room")).to_have_attribute("data-connection", "open", timeout=60_000)
        expect(unsent(ada)).to_be_hidden()
        expect(bob.locator(".room")).to_have_attribute("data-connection", "open", timeout=60_000)
        say(bob, "marker")
        # Each exactly once, in order, for both; the discarded one never went.
        for page in (ada, bob):
            expect(bodies(page)).to_have_text(
                ["before", "typed while down", "goes by itself", "marker"]
            )
        assert stored_messages(own.env, "down") == 4
    finally:
        own.stop()


def test_a_lost_acknowledgement_is_sent_again_under_its_key_and_said_once(browser, server):
    """The message reaches the server, but the connection drops before its answer reaches
    the page: the page sends it again on reconnecting, under the same key, and the server
    answers as it did the first time instead of storing it twice."""
    ada = enter(browser, server, "Lost Answer", "ada")
    bob = enter(browser, server, "Lost Answer", "bob")
    sent: list[str] = []  # the keys the page sent "lose its answer" under
    lost = {"done": False}

    def between(page_side: WebSocketRoute) -> None:
        """Between the page and the server: on the first socket that carries the message,
        nothing the server says after it reaches the page, and once the server has
        answered it (so it is stored), the connection drops."""
        server_side = page_side.connect_to_server()
        losing = {"key": None}

        def from_page(text) -> None:
            server_side.send(text)
            if isinstance(text, str) and "lose its answer" in text:
                sent.append(key := json.loads(text)["key"])
                if not lost["done"]:
                    losing["key"] = key

        def from_server(text) -> None:
            if losing["key"] is None:
                page_side.send(text)
            elif f'data-key="{losing["key"]}"' in text:  # its answer: lost with the connection
                lost["done"] = True
                server_side.close()
                page_side.close(code=1006)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    ada.route_web_socket(re.compile(r"/ws/rooms/"), between)
    ada.reload()  # the page's socket goes through `between` from now on
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
    say(ada, "lose its answer")
    # Bob has it at once; ada's page gets it, and its answer, from the socket it reopens.
    expect(bodies(bob)).to_have_text(["lose its answer"])
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open", timeout=20_000)
    expect(bodies(ada)).to_have_text(["lose its answer"])
    expect(unsent(ada)).to_be_hidden()
    # Said once, for both, and stored once: the next thing either sees is bob's marker.
    say(bob, "marker")
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["lose its answer", "marker"])
    assert stored_messages(server.env, "lost-answer") == 2
    assert lost["done"] and len(sent) == 2 and sent[0] == sent[1], sent  # sent again, same key


def test_a_burst_over_the_rate_limit_keeps_every_refused_message_with_its_reason(
    browser, server_env
):
    limited = Server({**server_env, "RATE_LIMITS": "on"}).start()
    try:
        ada = enter(browser, limited, "Burst", "ada")
        # More than two counting windows hold (8 each), sent as fast as the page can:
        # some are refused whichever moment the burst starts at.
        texts = [f"quick {n}" for n in range(1, 18)]
        ada.evaluate(
            """texts => {
                const form = document.querySelector('.composer');
                for (const text of texts) {
                    form.elements.message.value = text;
                    form.requestSubmit();
                }
            }""",
            texts,
        )
        posted = bodies(ada)
        kept = unsent(ada).get_by_role("listitem")
        # Every message answered: shown in the room, or kept with why.
        ada.wait_for_function(
            "n => document.querySelectorAll('#messages .message').length"
            " + document.querySelectorAll('#unsent .unsent__item').length === n",
            arg=len(texts),
        )
        expect(kept).not_to_have_count(0)
        shown = posted.all_inner_texts()
        waiting = kept.locator(".unsent__text").all_inner_texts()
        assert sorted(shown + waiting, key=texts.index) == texts
        expect(kept.locator(".unsent__reason")).to_have_text(
            [re.compile("^Slow down")] * len(waiting)
        )
        expect(box(ada)).to_have_value("")
        assert stored_messages(limited.env, "burst") == len(shown)
    finally:
        limited.stop()


def test_a_refused_message_stays_in_the_list_with_its_reason(browser, server):
    ada = enter(browser, server, "Refused Kept", "ada")
    ada.evaluate("document.getElementById('message-input').removeAttribute('maxlength')")
    say(ada, "x" * 2001)
    kept = unsent(ada).get_by_role("listitem")
    expect(kept.locator(".unsent__text")).to_have_text(["x" * 2001])
    expect(kept.locator(".unsent__reason")).to_contain_text(["at most 2000 characters"])
    expect(ada.locator("#composer-error")).to_contain_text("at most 2000 characters")
    say(ada, "short and fine")
    expect(bodies(ada)).to_have_text(["short and fine"])
    expect(ada.locator("#composer-error")).to_be_empty()
    kept.get_by_role("button", name="Discard").click()
    expect(unsent(ada)).to_be_hidden()
    # Blank text has nothing to keep: refused with the reason, and not listed.
    say(ada, "   ")
    expect(ada.locator("#composer-error")).to_have_text("Write something before sending.")
    expect(unsent(ada)).to_be_hidden()
    ada.reload()
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
    expect(unsent(ada)).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_list_has_no_serious_accessibility_violations(browser, server, scheme):
    ada = enter(
        browser, server, "Unsent Look", f"ada-{scheme}", color_scheme=scheme, bypass_csp=True
    )
    ada.evaluate("document.getElementById('message-input').removeAttribute('maxlength')")
    say(ada, "y" * 2001)
    expect(unsent(ada).get_by_role("listitem")).to_have_count(1)
    assert serious_violations(ada) == []
