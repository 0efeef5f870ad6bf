"""A page that was away for longer than catch-up covers, in a real Chromium."""

import signal

import pytest
from playwright.sync_api import expect

from .pages import bodies, enter, log, say
from .servers import Server, run_python

pytestmark = pytest.mark.e2e

BOUND = 5  # CATCH_UP_BOUND for this server: a few changes, not a thousand


def test_a_page_away_for_more_than_the_bound_shows_the_newest_page_then_older_ones(
    browser, server_env
):
    own = Server({**server_env, "CATCH_UP_BOUND": str(BOUND)}).start()
    try:
        ada = enter(browser, own, "Far Behind", "ada", viewport={"width": 800, "height": 600})
        errors = []
        ada.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for text in ("before 1", "before 2", "before 3"):
            say(ada, text)
            expect(bodies(ada).last).to_have_text(text)
        ada.evaluate("window.notReloaded = true")
        own.stop(signal.SIGKILL)
        expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")
        # While the page is away, far more than the bound is said.
        run_python(
            own.env,
            "manage.py",
            "shell",
            "-c",
            "from rooms.models import Room; room = Room.objects.get(slug='far-behind')\n"
            "for n in range(1, 61): room.post('bob', f'away {n}')",
            check=True,
        )
        own.start()
        away = [f"away {n}" for n in range(1, 61)]
        # The newest page, drawn fresh: exactly its 50 messages, in order, once each.
        expect(bodies(ada)).to_have_text(away[10:], timeout=30_000)
        expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
        expect(ada.locator("#cursor")).to_have_value("63")
        # Older history is one click away, and joins up without a gap or a repeat.
        ada.get_by_role("link", name="Older messages").click()
        expect(bodies(ada)).to_have_text(["before 1", "before 2", "before 3", *away])
        expect(ada.get_by_text("The start of Far Behind")).to_be_visible()
        # Live messages go on from there.
        say(ada, "back again")
        expect(bodies(ada)).to_have_text(["before 1", "before 2", "before 3", *away, "back again"])
        expect(log(ada).locator(".message[data-seq='64']")).to_have_count(1)
        assert ada.evaluate("window.notReloaded") is True
        # Only the refused reconnects while the server was down (htmx logs each as an Event).
        assert {e for e in errors if "ERR_CONNECTION_REFUSED" not in e} <= {"[object Event]"}
    finally:
        own.stop()
