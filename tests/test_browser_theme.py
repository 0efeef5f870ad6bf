"""A theme in a real Chromium: the Forest theme restyles the room in light and dark, stays
readable (axe-core), and a right-to-left page still lays out."""

import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from .pages import enter, log, say, serious_violations

pytestmark = pytest.mark.e2e

FOREST = Path(__file__).parent.parent / "static" / "css" / "themes" / "forest.css"
# The own-message tint, as parley.css derives it: --mine-bg is this much accent on --surface.
MINE_ACCENT = 0.12

# A colour as the screen gets it, [r, g, b]: a one-pixel canvas reads any CSS colour syntax
# (Chromium computes color-mix() to color(srgb …), not rgb()).
PIXEL = """colour => {
    const context = document.createElement("canvas").getContext("2d");
    context.fillStyle = colour;
    context.fillRect(0, 0, 1, 1);
    return [...context.getImageData(0, 0, 1, 1).data.slice(0, 3)];
}"""


def own_message_background(page: Page) -> list[int]:
    colour = page.evaluate(
        "() => getComputedStyle(document.querySelector("
        "`.message[data-author='${document.querySelector('.room').dataset.me}']`"
        ")).backgroundColor"
    )
    return page.evaluate(PIXEL, colour)


def forest(scheme: str) -> dict[str, str]:
    """The Forest theme's base colours for a scheme, read from the file."""
    css = FOREST.read_text()
    dark = css.index("prefers-color-scheme: dark")
    part = css[dark:] if scheme == "dark" else css[:dark]
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6});", part))


def hex_rgb(value: str) -> list[int]:
    return [int(value[i : i + 2], 16) for i in (1, 3, 5)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_forest_theme_restyles_the_room_and_stays_readable(browser, server, scheme):
    room = f"Forest {scheme}"
    ada = enter(browser, server, room, f"ada-{scheme}", color_scheme=scheme, bypass_csp=True)
    say(ada, "my own message, tinted by the accent")
    say(ada, f"hello @ada-{scheme}, here is `code` and https://example.com")
    expect(log(ada).locator(".message")).to_have_count(2)
    default = own_message_background(ada)

    ada.add_style_tag(path=FOREST)
    themed = own_message_background(ada)
    assert themed != default
    colours = forest(scheme)
    accent, surface = hex_rgb(colours["--accent"]), hex_rgb(colours["--surface"])
    mixed = [a * MINE_ACCENT + s * (1 - MINE_ACCENT) for a, s in zip(accent, surface, strict=True)]
    assert all(abs(got - want) <= 1 for got, want in zip(themed, mixed, strict=True)), (
        themed,
        mixed,
    )
    # The theme's font reached the messages.
    font = ada.evaluate("getComputedStyle(document.querySelector('.message__body')).fontFamily")
    assert font.startswith("Georgia")
    assert serious_violations(ada) == []

    ada.goto(server.url + "/")
    ada.add_style_tag(path=FOREST)
    assert serious_violations(ada) == []


def test_a_right_to_left_page_keeps_the_room_laid_out(browser, server):
    size = {"width": 600, "height": 700}
    ada = enter(browser, server, "Right to left", "ada", viewport=size)
    bob = enter(browser, server, "Right to left", "bob", viewport=size)
    ada.evaluate("document.documentElement.dir = 'rtl'")
    say(bob, "a message long enough to wrap across the width of the room " * 4)
    say(ada, "my own, with its line at its start")
    expect(log(ada).locator(".message")).to_have_count(2)

    box = ada.get_by_role("combobox", name="Message")
    expect(box).to_be_in_viewport()
    assert ada.evaluate("document.documentElement.scrollWidth") <= size["width"]
    for edge in (
        log(ada)
        .locator(".message")
        .evaluate_all(
            "messages => messages.map(m => m.getBoundingClientRect())"
            ".map(r => [Math.floor(r.left), Math.ceil(r.right)])"
        )
    ):
        assert edge[0] >= 0 and edge[1] <= size["width"], edge
    # The line that marks one's own messages is on the reading side: the right here.
    own = log(ada).locator(".message", has_text="my own")
    widths = own.evaluate(
        "m => [getComputedStyle(m).borderRightWidth, getComputedStyle(m).borderLeftWidth]"
    )
    assert widths == ["3px", "0px"]


def test_screenshot_of_the_forest_theme(browser, server, tmp_path):
    """docs/screenshot-theme.png (make screenshots): the theme in light and dark, side by side."""
    size = {"width": 640, "height": 560}
    shots = []
    for scheme in ("light", "dark"):
        room = f"Forest look {scheme}"
        ada = enter(
            browser, server, room, "ada", color_scheme=scheme, viewport=size, bypass_csp=True
        )
        bob = enter(browser, server, room, "bob", color_scheme=scheme, viewport=size)
        say(bob, "Welcome to the garden room, @ada!")
        say(ada, "Thanks! The accent, the neutrals and the font all come from one small file.")
        say(bob, "Links like https://example.com and `code` follow it too.")
        expect(log(ada).locator(".message")).to_have_count(3)
        ada.add_style_tag(path=FOREST)
        ada.get_by_role("combobox", name="Message").blur()
        ada.mouse.move(0, 0)  # no message pointed at: its actions stay hidden
        shots.append(Image.open(io.BytesIO(ada.screenshot(animations="disabled"))))
    picture = Image.new("RGB", (size["width"] * 2, size["height"]))
    for index, shot in enumerate(shots):
        picture.paste(shot, (size["width"] * index, 0))
    target = Path(os.environ.get("PARLEY_SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    path = target / "screenshot-theme.png"
    picture.save(path, optimize=True)
    assert path.stat().st_size > 10_000
