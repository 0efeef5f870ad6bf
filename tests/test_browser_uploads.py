"""Pictures and files in a real Chromium: the file button, paste and drop, a refusal, and
the plain form without JavaScript."""

import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from .pages import bodies, enter, log, serious_violations

pytestmark = pytest.mark.e2e


def png(width: int, height: int, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def box(page: Page):
    return page.get_by_role("combobox", name="Message")


def picture(page: Page, name: str):
    return log(page).get_by_role("img", name=name)


def loaded(image) -> bool:
    """Drawn by the browser: fetched through the room's file address and decoded."""
    return image.evaluate("img => img.complete && img.naturalWidth > 0")


def test_a_chosen_picture_goes_over_http_and_shows_live_for_the_other(browser, server):
    blocked: list[str] = []
    ada = enter(browser, server, "upload-chosen", "ada", blocked=blocked)
    bob = enter(browser, server, "upload-chosen", "bob", blocked=blocked)
    ada.get_by_label("Attach files").set_input_files(
        {"name": "cat.png", "mimeType": "image/png", "buffer": png(960, 480)}
    )
    expect(ada.get_by_role("list", name="Files to send")).to_have_text("cat.png")
    box(ada).fill("our cat")
    with ada.expect_response("**/rooms/upload-chosen/uploads/") as answer:
        box(ada).press("Enter")
    assert answer.value.status == 200
    for page in (ada, bob):
        image = picture(page, "cat.png")
        expect(image).to_have_attribute("width", "480")
        expect(image).to_have_attribute("height", "240")
        expect(bodies(page)).to_have_text(["our cat"])
    assert loaded(picture(bob, "cat.png"))
    # Sent: the box, the files and their names are cleared for the next message.
    expect(box(ada)).to_have_value("")
    expect(box(ada)).to_be_focused()
    expect(ada.get_by_role("list", name="Files to send")).to_be_hidden()
    assert ada.get_by_label("Attach files").evaluate("input => input.files.length") == 0
    # A message without files still goes over the socket, as before.
    box(ada).fill("just words")
    box(ada).press("Enter")
    expect(bodies(bob)).to_have_text(["our cat", "just words"])
    assert blocked == []  # the page's policy allows all of it: no inline script, no other host


# Builds a File from base64 bytes in the page and hands it to the box as a paste or a drop.
GIVE = """([kind, name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name, { type: "image/png" }));
  const box = document.getElementById("message-input");
  const event = kind === "paste"
    ? new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true })
    : new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true });
  box.dispatchEvent(event);
  return event.defaultPrevented;
}"""


def test_pasted_and_dropped_pictures_are_attached_and_may_go_alone(browser, server):
    ada = enter(browser, server, "upload-paste", "ada")
    bob = enter(browser, server, "upload-paste", "bob")
    data = base64.b64encode(png(200, 100, "orange")).decode()
    assert ada.evaluate(GIVE, ["paste", "pasted.png", data])
    assert ada.evaluate(GIVE, ["drop", "dropped.png", data])
    expect(ada.get_by_role("list", name="Files to send").get_by_role("listitem")).to_have_text(
        ["pasted.png", "dropped.png"]
    )
    # Nothing typed: the pictures alone are the message.
    ada.get_by_role("button", name="Send", exact=True).click()
    for name in ("pasted.png", "dropped.png"):
        expect(picture(bob, name)).to_have_attribute("width", "200")
    expect(log(bob).locator(".message")).to_have_count(1)
    expect(ada.get_by_role("list", name="Files to send")).to_be_hidden()


def test_a_file_too_big_is_refused_with_why_and_the_text_stays(browser, server):
    ada = enter(browser, server, "upload-too-big", "ada")
    bob = enter(browser, server, "upload-too-big", "bob")
    too_big = b"x" * (10 * 1024 * 1024 + 1)
    ada.get_by_label("Attach files").set_input_files(
        {"name": "huge.txt", "mimeType": "text/plain", "buffer": too_big}
    )
    box(ada).fill("read this")
    box(ada).press("Enter")
    expect(ada.locator("#composer-error")).to_have_text(
        "“huge.txt” is 10.0\xa0MB; a file can be at most 10.0\xa0MB."
    )
    expect(box(ada)).to_have_value("read this")
    expect(ada.get_by_role("list", name="Files to send")).to_have_text("huge.txt")
    # Nothing reached the room; the next message is the first bob sees.
    box(ada).fill("after the refusal")
    ada.get_by_label("Attach files").set_input_files([])
    box(ada).press("Enter")
    expect(bodies(bob)).to_have_text(["after the refusal"])


def test_without_javascript_the_form_posts_its_files(browser, server):
    ada = enter(browser, server, "upload-plain", "ada")
    plain = enter(browser, server, "upload-plain", "nojs", java_script_enabled=False)
    plain.get_by_label("Attach files").set_input_files(
        [
            {"name": "plain.png", "mimeType": "image/png", "buffer": png(300, 300)},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"some notes"},
        ]
    )
    plain.get_by_role("button", name="Send", exact=True).click()
    for page in (plain, ada):
        expect(picture(page, "plain.png")).to_have_attribute("height", "300")
        expect(log(page).get_by_role("link", name="notes.txt")).to_be_visible()
    assert loaded(picture(plain, "plain.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pictures_file_cards_and_the_file_button_pass_axe(browser, server, scheme):
    room = f"upload-axe-{scheme}"
    ada = enter(browser, server, room, "ada", color_scheme=scheme, bypass_csp=True)
    ada.get_by_label("Attach files").set_input_files(
        [
            {"name": "shown.png", "mimeType": "image/png", "buffer": png(120, 80)},
            {"name": "card.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"},
        ]
    )
    expect(ada.get_by_role("list", name="Files to send")).to_be_visible()
    assert serious_violations(ada) == []
    box(ada).press("Enter")
    expect(log(ada).get_by_role("link", name="card.pdf")).to_be_visible()
    expect(picture(ada, "shown.png")).to_be_visible()
    assert serious_violations(ada) == []
