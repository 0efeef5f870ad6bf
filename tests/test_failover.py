"""Pages that lose their server process or their Redis, and come back whole.

Real server processes sharing Redis and the database, real Chromium pages; they
need REDIS_URL (CI's second pass sets it, with PostgreSQL). The processes run with the
once-a-second recheck off: what a page shows came live, from the gap filler behind a live
push, or from its own catch-up when it reconnected, never from the recheck.
"""

import signal
import time

import pytest
from playwright.sync_api import Page, expect

from .helpers import needs_redis
from .pages import bodies, enter, log, say
from .servers import LIVE_WITHIN, RedisServer, Server, live_path_only

pytestmark = [needs_redis, pytest.mark.e2e]


def test_a_page_whose_process_died_catches_up_exactly_once(browser, two_servers):
    one, two = two_servers
    ada = enter(browser, one, "Failover", "ada")
    bob = enter(browser, two, "Failover", "bob")
    say(ada, "before")
    expect(log(bob)).to_contain_text("before")
    one.stop(signal.SIGKILL)
    expect(ada.locator(".room")).to_have_attribute("data-connection", "closed")
    missed = [f"while you were away {n}" for n in range(30)]
    for text in missed:
        say(bob, text)
        expect(bodies(bob).last).to_have_text(text)  # acknowledged: stored and pushed
    one.start()
    started = time.monotonic()
    expect(bodies(ada)).to_have_text(["before", *missed], timeout=30_000)
    print(f"\ncaught up {len(missed)} messages {time.monotonic() - started:.2f}s after restart")
    # Live again, both ways, each push within LIVE_WITHIN.
    say(ada, "and live again")
    expect(bodies(bob).last).to_have_text("and live again", timeout=LIVE_WITHIN * 1000)
    say(bob, "and back")
    expect(bodies(ada).last).to_have_text("and back", timeout=LIVE_WITHIN * 1000)
    for page in (ada, bob):
        expect(bodies(page)).to_have_text(["before", *missed, "and live again", "and back"])


def live_again(speaker: Page, listener: Page, name: str, said: list[str]) -> None:
    """The speaker's next message reaches the listener within LIVE_WITHIN: tried again until
    the processes have subscribed again (pushes published before that are gone; the gap
    filler brings them once a later push shows the gap)."""
    for attempt in range(30):
        text = f"{name} live again {attempt}"
        say(speaker, text)
        said.append(text)
        expect(speaker.locator("#message-input")).to_have_value("")
        try:
            expect(bodies(listener).last).to_have_text(text, timeout=LIVE_WITHIN * 1000)
            return
        except AssertionError:
            continue
    raise AssertionError(f"nothing {name} said reached the other page live again")


def test_rooms_recover_when_redis_restarts(browser, server_env, tmp_path):
    redis = RedisServer(tmp_path).start()
    env = live_path_only({**server_env, "REDIS_URL": redis.url})
    one, two = Server(env).start(), Server(env).start()
    try:
        ada = enter(browser, one, "Redis Restart", "ada")
        bob = enter(browser, two, "Redis Restart", "bob")
        say(ada, "before")
        expect(log(bob)).to_contain_text("before")
        redis.stop()
        redis.start()  # empty: every group membership is gone
        started = time.monotonic()
        said = ["before"]
        for n in range(10):
            for page, name in ((bob, "bob"), (ada, "ada")):
                text = f"{name} after restart {n}"
                say(page, text)
                said.append(text)
                expect(page.locator("#message-input")).to_have_value("")
        live_again(ada, bob, "ada", said)
        live_again(bob, ada, "bob", said)
        for page in (ada, bob):
            expect(bodies(page)).to_have_count(len(said))
        shown = [bodies(page).all_inner_texts() for page in (ada, bob)]
        # Every message once, in the room's order: the same for both, and after a reload.
        assert sorted(shown[0]) == sorted(said)
        assert shown[0] == shown[1]
        ada.reload()
        expect(bodies(ada)).to_have_text(shown[0])
        print(
            f"\nafter a Redis restart both pages had all {len(said)} messages "
            f"{time.monotonic() - started:.2f}s later"
        )
    finally:
        one.stop()
        two.stop()
        redis.stop()
