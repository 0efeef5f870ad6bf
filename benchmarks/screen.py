"""What fits on a screen: messages visible on a laptop, the room header on a phone.

    .venv/bin/python benchmarks/screen.py --url http://127.0.0.1:8000

Against a running Parley (`make run`, or any other): makes a room with a fresh name, has
three people post 40 short messages through the join and message forms (in runs of one to
three by the same person, as chat goes), then opens the room in Chromium and prints
- how many messages are wholly visible in the message list at 1280 x 800,
- the width the room's content takes at 1280 x 800,
- the room header's height at 390 x 844 (a phone), and its share of the screen,
- the lines of hand-written JavaScript in static/js/.
"""

import argparse
import http.cookiejar
import secrets
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pages import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402

# Who says each message: runs of one to three by the same person.
SPEAKERS = "aabcbbaccabcbbaccababcabaacbcaabbcaabcbc"


class Person:
    """A browser-like client that has joined `room` as `name` through the plain forms."""

    def __init__(self, base: str, room: str, name: str) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(base + "/").read()
        self.post(base + "/", {"room_name": room, "username": name})

    def post(self, url: str, fields: dict[str, str]) -> None:
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310
        self.opener.open(request).read()


def measure(base: str) -> dict:
    from playwright.sync_api import sync_playwright

    room = f"Screen {secrets.token_hex(3)}"
    names = ["Ada Lovelace", "bob", "Cleo"]
    people = {letter: Person(base, room, name) for letter, name in zip("abc", names, strict=True)}
    slug = room.lower().replace(" ", "-")
    for number, letter in enumerate(SPEAKERS[:40], 1):
        text = f"message {number}: a short line"
        people[letter].post(f"{base}/rooms/{slug}/", {"message": text})
    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for label, viewport in [("laptop", (1280, 800)), ("phone", (390, 844))]:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            context.add_cookies(
                [{"name": c.name, "value": c.value, "url": base} for c in people["a"].jar]
            )
            page = context.new_page()
            page.goto(f"{base}/rooms/{slug}/")
            page.wait_for_selector("#messages .message")
            found[label] = page.evaluate(
                """() => {
                const log = document.querySelector('.room__scroller').getBoundingClientRect();
                const shown = [...document.querySelectorAll('#messages > .message')].filter((m) => {
                    const r = m.getBoundingClientRect();
                    return r.top >= log.top - 1 && r.bottom <= log.bottom + 1;
                });
                return {
                    visible: shown.length,
                    content: document.querySelector('.room').getBoundingClientRect().width,
                    header: document.querySelector('.room__header').getBoundingClientRect().height
                        + document.querySelector('.site-header').getBoundingClientRect().height,
                };
            }"""
            )
            context.close()
        browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--js", default=str(ROOT / "static" / "js"), help="the scripts to count")
    args = parser.parse_args()
    found = measure(args.url.rstrip("/"))
    lines = sum(len(p.read_text().splitlines()) for p in Path(args.js).glob("*.js"))
    laptop, phone = found["laptop"], found["phone"]
    print(f"messages wholly visible at 1280 x 800: {laptop['visible']}")
    print(f"room content width at 1280 x 800:      {laptop['content']:.0f} px")
    print(
        f"headers' height at 390 x 844:          {phone['header']:.0f} px"
        f" ({phone['header'] / 844:.0%} of the screen)"
    )
    print(f"hand-written JavaScript:               {lines} lines")


if __name__ == "__main__":
    main()
