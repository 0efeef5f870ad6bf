"""A person at a browser: Chromium from Debian, driven by Playwright."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from .servers import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

expect.set_options(timeout=10_000)


def launch():
    """Yields a running Chromium; skips (or fails in CI) when it is not installed."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("PARLEY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing (Debian package: chromium)")
        pytest.skip(f"{CHROMIUM} is missing (Debian package: chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def enter(
    browser: Browser,
    server: Server,
    room: str,
    name: str,
    *,
    blocked: list[str] | None = None,
    **context,
) -> Page:
    """A person in their own browser context: opens the site, joins, waits until live.
    `blocked` gets whatever the Content-Security-Policy blocks on any of their pages,
    from the first byte of the lobby on."""
    browser_context = browser.new_context(**context)
    if blocked is not None:
        watch_policy(browser_context, blocked)
    page = browser_context.new_page()
    page.goto(server.url + "/")
    page.get_by_label("Room", exact=True).fill(room)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Enter the room").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(room)
    if context.get("java_script_enabled", True):
        expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    return page


def watch_policy(context: BrowserContext, blocked: list[str]) -> None:
    """Record in `blocked` what the Content-Security-Policy blocks in any page of `context`:
    Chromium's console reports and each document's securitypolicyviolation events. Set up
    before the first navigation, so what a page blocks while it loads counts too."""

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    context.on("console", console)
    context.expose_binding("reportBlocked", lambda _source, text: blocked.append(text))
    # Runs in every document before its own scripts, outside the policy's reach.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (event) => reportBlocked("
        "`${event.effectiveDirective} blocked ${event.blockedURI} at ${event.documentURI}`"
        " + `:${event.lineNumber}: ${event.sample}`))"
    )


def say(page: Page, text: str) -> None:
    """Type into the message box and send: Enter on a live page (static/js/room.js), the Send
    button on a page without scripts (where Enter starts a new line) or an archive page."""
    box = page.get_by_role("combobox", name="Message")
    box.fill(text)
    # static/js/connection.js marks a live room's connection; the server marks an archive.
    if page.locator(".room").get_attribute("data-connection") in (None, "archive"):
        page.get_by_role("button", name="Send", exact=True).click()
    else:
        box.press("Enter")


def log(page: Page) -> Locator:
    return page.get_by_role("log")


def bodies(page: Page) -> Locator:
    return log(page).locator(".message__body")


def serious_violations(page: Page) -> list:
    """What axe-core finds serious or critical on the page as it is now."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
