"""Text that tries to escape its message: bidi overrides, stacked marks, a wall of lines."""

import pytest
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, say

pytestmark = pytest.mark.e2e

SPOOF = "payment to \u202eRUE 0001\u202c done"
# Each letter carries 15 marks above and 15 below: drawn stacked, far past the line.
ZALGO = "".join(
    letter
    + "".join(chr(0x0300 + i) for i in range(15))
    + "".join(chr(0x0316 + i) for i in range(15))
    for letter in "zalgo text"
)
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


# Whether the body's last line is drawn inside the body's box (not clipped away).
LAST_LINE_SHOWN = """body => {
    const range = document.createRange();
    range.selectNodeContents(body.lastChild);
    return range.getBoundingClientRect().bottom <= body.getBoundingClientRect().bottom;
}"""


def character_lefts(page: Page, text: str) -> list[float]:
    """Where each visible character of the message body with `text` is drawn, in typed order."""
    return page.evaluate(
        """([text, controls]) => {
            const body = [...document.querySelectorAll("#messages .message__body")]
                .find(el => el.textContent.replace(new RegExp(`[${controls}]`, "g"), "") === text);
            const node = body.firstChild, lefts = [];
            for (let i = 0; i < node.length; i++) {
                if (controls.includes(node.data[i]) || node.data[i] === " ") continue;
                const range = document.createRange();
                range.setStart(node, i);
                range.setEnd(node, i + 1);
                lefts.push(range.getBoundingClientRect().left);
            }
            return lefts;
        }""",
        [text, BIDI_CONTROLS],
    )


def test_a_bidi_override_does_not_reorder_a_message(browser, server):
    ada = enter(browser, server, "Bidi", "ada")
    bob = enter(browser, server, "Bidi", "bob")
    say(ada, SPOOF)
    say(ada, "next one")
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["payment to RUE 0001 done", "next one"])
        # Left to right in the order typed: not "payment to 1000 EUR done".
        for text in ("payment to RUE 0001 done", "next one"):
            lefts = character_lefts(page, text)
            assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts), text


def test_stacked_marks_stay_inside_their_message(browser, server):
    ada = enter(browser, server, "Zalgo", "ada")
    for text in ("the one before", ZALGO, "the one after"):
        say(ada, text)
    messages = log(ada).locator(".message")
    expect(messages).to_have_count(3)
    before, zalgo, after = (messages.nth(i).bounding_box() for i in range(3))
    assert before["y"] + before["height"] <= zalgo["y"]
    assert zalgo["y"] + zalgo["height"] <= after["y"]
    # The neighbours look the same whether the marks are drawn or not: none reach them.
    neighbours = [messages.nth(0), messages.nth(2)]
    drawn = [message.screenshot(animations="disabled") for message in neighbours]
    bodies(ada).nth(1).evaluate("el => { el.style.visibility = 'hidden'; }")
    assert drawn == [message.screenshot(animations="disabled") for message in neighbours]


def test_a_long_message_folds_behind_show_more(browser, server):
    ada = enter(browser, server, "Long", "ada")
    bob = enter(browser, server, "Long", "bob")
    # Three hundred lines, as a script can send them (the box itself is one line).
    token = ada.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = ada.request.post(
        server.url + "/rooms/long/",
        form={"csrfmiddlewaretoken": token, "message": "line\n" * 299 + "the last line"},
        max_redirects=0,
    )
    assert response.status == 303
    say(ada, "short")
    for page in (ada, bob):
        long = log(page).locator(".message").first
        body = long.locator(".message__body")
        expect(body).to_contain_text("the last line")
        expect(log(page).get_by_text("short")).to_be_visible()
        assert long.bounding_box()["height"] <= 400
        assert not body.evaluate(LAST_LINE_SHOWN)
        long.get_by_text("Show more").click()
        expect(long.get_by_text("Show less")).to_be_visible()
        assert long.bounding_box()["height"] > 300 * 16
        assert body.evaluate(LAST_LINE_SHOWN)
    # Short messages get no control.
    expect(log(ada).locator(".message").last.get_by_text("Show more")).to_have_count(0)
    assert "<details" not in log(ada).locator(".message").last.inner_html()
