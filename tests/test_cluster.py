"""Parley on several hosts: nginx in front of three app hosts, Redis with a replica under three
Sentinels, and PostgreSQL, each host in its own network namespace (config/cluster; without
root or `ip netns`, every host is 127.0.0.1 with ports of its own). Real Chromium pages open
the site through nginx, and hosts fail under them: an app host, the Redis primary, the
database.

Last, the reliability suite runs again with the channel layer on two Redis shards.

Needs REDIS_URL (CI's services pass sets it) and nginx, redis-sentinel and PostgreSQL's
programs (Debian packages nginx-light, redis-sentinel, postgresql; .ci/run installs them).
"""

import os
import subprocess
import sys
import time
import urllib.parse
from types import SimpleNamespace

import pytest
import redis
from playwright.sync_api import Browser, Page, expect

from config.cluster import Cluster, missing_programs
from rooms.consumers import NOT_STORED_NOW

from .helpers import DATABASE_URL, REDIS_URL, needs_redis
from .pages import bodies, enter, log, say
from .servers import LIVE_WITHIN, ROOT, RedisServer

pytestmark = [needs_redis, pytest.mark.e2e, pytest.mark.cluster]

# Short, so a dead host's people leave who-is-here within seconds.
PRESENCE_TTL = 4


@pytest.fixture(scope="module")
def cluster():
    if missing := missing_programs():
        pytest.skip("missing: " + ", ".join(missing))
    # Its own names and subnet: another test run on this machine makes its own.
    number = os.getpid() % 200
    built = Cluster(
        f"pt{number}",
        f"10.78.{number + 20}",
        env={
            # Pages post faster than people; the limits have their own tests.
            "RATE_LIMITS": "off",
            "PRESENCE_TTL": str(PRESENCE_TTL),
            "PRESENCE_HEARTBEAT": "1",
        },
        # The fallback a machine without namespaces gets, to try it where they exist.
        loopback=os.environ.get("PARLEY_CLUSTER_LOOPBACK") == "1",
    )
    try:
        built.up()
        if built.fallback_reason:
            print(f"\nno network namespaces ({built.fallback_reason}): hosts on 127.0.0.1")
        yield built
    finally:
        built.down()


@pytest.fixture(scope="module")
def site(cluster):
    """What pages open: the proxy."""
    return SimpleNamespace(url=cluster.plan.url.rstrip("/"))


def watch_upstreams(page: Page) -> list[str]:
    """The app host (nginx's X-Upstream) of each WebSocket handshake the page makes from now
    on, in order: the last is where its socket is now."""
    seen: list[str] = []
    session = page.context.new_cdp_session(page)

    def handshake(event: dict) -> None:
        headers = {k.lower(): v for k, v in event["response"]["headers"].items()}
        seen.append(headers.get("x-upstream", "?"))

    session.on("Network.webSocketHandshakeResponseReceived", handshake)
    session.send("Network.enable")
    return seen


def people(browser: Browser, site, room: str, names: list[str]) -> list[tuple[Page, list[str]]]:
    """Each person's page, entered through the proxy, with the hosts its socket used."""
    found = []
    for name in names:
        page = enter(browser, site, room, name)
        upstreams = watch_upstreams(page)
        page.reload()  # its socket again, now watched
        expect(page.locator(".room")).to_have_attribute("data-connection", "open")
        found.append((page, upstreams))
    return found


def host_of(upstreams: list[str]) -> str:
    assert upstreams, "no WebSocket handshake was seen"
    return upstreams[-1]


def chat(pages: list[Page], said: list[str], label: str, count: int) -> None:
    """People take turns; each message is acknowledged (stored, shown) before the next."""
    for n in range(count):
        page = pages[n % len(pages)]
        text = f"{label} {n}"
        say(page, text)
        said.append(text)
        expect(bodies(page).last).to_have_text(text)


def everyone_has(pages: list[Page], said: list[str], timeout: float = 30) -> None:
    """Every message once, in the order it was said, on every page."""
    for page in pages:
        expect(bodies(page)).to_have_text(said, timeout=timeout * 1000)


def test_chat_through_nginx_spreads_sockets_over_every_app_host(browser, cluster, site):
    found = people(browser, site, "Cluster", [f"person{n}" for n in range(6)])
    pages = [page for page, _ in found]
    hosts = {host_of(upstreams) for _, upstreams in found}
    assert hosts == {app.where for app in cluster.plan.apps.values()}
    said: list[str] = []
    chat(pages, said, "hello from", 12)
    everyone_has(pages, said)
    for page in pages:
        page.context.close()


def test_pages_of_a_killed_app_host_reconnect_elsewhere_and_catch_up_once(browser, cluster, site):
    found = people(browser, site, "App Down", ["ada", "bob", "cid", "dee", "eve", "fay"])
    pages = [page for page, _ in found]
    # Someone on one app host directly, not through nginx: nothing brings them back.
    victim, victim_host = "app1", cluster.plan.apps["app1"]
    direct = enter(browser, SimpleNamespace(url=f"http://{victim_host.where}"), "App Down", "gus")
    on_victim = [page for page, upstreams in found if host_of(upstreams) == victim_host.where]
    elsewhere = [page for page, upstreams in found if host_of(upstreams) != victim_host.where]
    assert on_victim and elsewhere
    watcher = elsewhere[0]
    expect(watcher.locator("#presence .person__name")).to_contain_text(["gus"])
    said: list[str] = []
    chat(pages, said, "before the crash", 6)

    cluster.kill(victim)
    killed = time.monotonic()
    chat(elsewhere, said, "while app1 is down", 10)
    # Reconnected through nginx to the other hosts, with every message once, in order.
    everyone_has(pages, said)
    print(f"\npages of the killed app host caught up {time.monotonic() - killed:.2f}s after it")
    for page, upstreams in found:
        assert host_of(upstreams) != victim_host.where
        expect(page.locator(".room")).to_have_attribute("data-connection", "open")
    chat(on_victim, said, "back again", 3)
    everyone_has(pages, said)
    # The dead host's own person leaves who-is-here within the TTL; the others stay.
    names = watcher.locator("#presence .person__name")
    expect(names).not_to_contain_text(["gus"], timeout=(PRESENCE_TTL + 6) * 1000)
    expect(names).to_have_count(6)
    assert sorted(names.all_inner_texts()) == ["ada", "bob", "cid", "dee", "eve", "fay"]
    print(f"gus left who-is-here {time.monotonic() - killed:.2f}s after the kill")

    cluster.start(victim)
    cluster.wait_ready(victim)
    direct.context.close()
    for page in pages:
        page.context.close()


def unsent(page: Page):
    return page.locator("#unsent .unsent__item")


def test_a_database_restart_refuses_sends_visibly_and_keeps_the_text(browser, cluster, site):
    ada, bob = (enter(browser, site, "Database Down", name) for name in ("ada", "bob"))
    # And a page without JavaScript, which sends through the plain form.
    cy = enter(browser, site, "Database Down", "cy", java_script_enabled=False)
    said: list[str] = []
    chat([ada, bob], said, "before the restart", 4)

    cluster.stop("db")
    stopped = time.monotonic()
    say(ada, "while the database is down")
    # Refused, with the reason and the text kept under "Not sent yet"; the page stays.
    item = unsent(ada).filter(has_text="while the database is down")
    # Each database call waits DATABASE_POOL_TIMEOUT (2 s), and they take turns.
    expect(item).to_contain_text(NOT_STORED_NOW, timeout=30_000)
    print(f"\na send during the outage was refused {time.monotonic() - stopped:.2f}s after it")
    expect(ada.get_by_role("heading", level=1)).to_have_text("Database Down")
    expect(ada.locator(".room")).to_have_attribute("data-connection", "open")
    expect(log(bob)).not_to_contain_text("while the database is down")
    # The plain form says so too, and gives the text back in a box to send again.
    say(cy, "typed without scripts")
    expect(cy.get_by_role("heading", level=1)).to_have_text("Not saved: try again in a moment")
    expect(cy.get_by_label("Your message")).to_have_value("typed without scripts")

    cluster.start("db")
    back = time.monotonic()
    # No app restarted: each one's pool reconnects by itself (with backoff, 1 s doubling,
    # while the database was away), and /readyz says when.
    for app in cluster.plan.apps:
        cluster.wait_ready(app)
    print(f"every app host was ready {time.monotonic() - back:.2f}s after PostgreSQL was back")
    # Retry sends the kept text again, under its key: stored once.
    item.get_by_role("button", name="Retry").click()
    said.append("while the database is down")
    expect(unsent(ada)).to_have_count(0)
    cy.get_by_role("button", name="Send again").click()
    said.append("typed without scripts")
    expect(bodies(cy).last).to_have_text("typed without scripts")
    chat([bob, ada], said, "after the restart", 4)
    everyone_has([ada, bob], said)
    ada.reload()
    expect(bodies(ada)).to_have_text(said)
    for page in (ada, bob, cy):
        page.context.close()


def test_the_sentinels_promote_the_replica_when_the_redis_primary_dies(browser, cluster, site):
    ada, bob = (enter(browser, site, "Failover", name) for name in ("ada", "bob"))
    said: list[str] = []
    chat([ada, bob], said, "before the failover", 4)
    primary = cluster.plan.redis["redis1"].where

    cluster.kill("redis1")
    killed = time.monotonic()
    first_live = None
    for attempt in range(200):
        text = f"during the failover {attempt}"
        say(ada, text)
        said.append(text)
        try:
            expect(bodies(bob).last).to_have_text(text, timeout=LIVE_WITHIN * 1000)
        except AssertionError:
            continue
        first_live = time.monotonic() - killed
        break
    assert first_live is not None, "no message reached the other page live again"
    assert cluster.current_primary() not in (None, primary)
    # Every message, acknowledged or sent again from "Not sent yet", once and in order.
    for page in (ada, bob):
        expect(bodies(page)).to_have_count(len(said), timeout=60_000)
        expect(unsent(page)).to_have_count(0)
    shown = [bodies(page).all_inner_texts() for page in (ada, bob)]
    assert sorted(shown[0]) == sorted(said)
    assert shown[0] == shown[1]
    caught_up = time.monotonic() - killed
    print(
        f"\nRedis primary killed: first live push after {first_live:.2f}s, "
        f"both pages whole ({len(said)} messages) after {caught_up:.2f}s"
    )
    for page in (ada, bob):
        page.context.close()


# The reliability suite: delivery under load, failover, catch-up, presence, slow readers
# and socket caps, message keys, pages reconnecting.
RELIABILITY = [
    "tests/test_delivery.py",
    "tests/test_failover.py",
    "tests/test_live.py",
    "tests/test_presence.py",
    "tests/test_sockets.py",
    "tests/test_message_keys.py",
    "tests/test_browser_catchup.py",
    "tests/test_browser_connection.py",
]


@pytest.mark.timeout(1800)  # a whole run of its own
def test_the_reliability_suite_passes_with_rooms_over_two_shards(tmp_path):
    """The same tests again, in a run of their own whose channel layer has two Redis shards
    (this run's Redis and a private one): rooms land on both, and nothing else changes."""
    second = RedisServer(tmp_path).start()
    try:
        env = {
            **os.environ,
            "REDIS_URL": f"{REDIS_URL.split(',')[0]},{second.url}",
            # A database of its own: this run's test database is in use.
            "DATABASE_URL": urllib.parse.urlsplit(DATABASE_URL)
            ._replace(path=urllib.parse.urlsplit(DATABASE_URL).path + "_shards")
            .geturl(),
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *RELIABILITY],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        print(f"\nreliability suite over two shards: {summary}")
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
        # Rooms were spread: the private shard carried rooms' pushes too.
        stats = redis.Redis(port=second.port).info("commandstats")
        assert stats.get("cmdstat_publish", {}).get("calls", 0) > 100
    finally:
        second.stop()
