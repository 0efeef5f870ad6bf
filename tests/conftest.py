"""Shared fixtures: joined sessions, a browser, servers, an empty channel layer and room."""

import secrets
from urllib.parse import urlparse

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from rooms.live import runtime
from rooms.models import Room

from .helpers import DATABASE_URL, REDIS_URL, REQUIRE_SERVICES

HAS_POSTGRES = urlparse(DATABASE_URL).scheme.startswith("postgres")


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_SERVICES and not (REDIS_URL and HAS_POSTGRES):
        raise pytest.UsageError(
            "PARLEY_REQUIRE_SERVICES=1 needs REDIS_URL and a postgres DATABASE_URL"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `redis` or `postgres` skip where that service is not configured."""
    missing = {
        "redis": None if REDIS_URL else "set REDIS_URL to run against Redis",
        "postgres": None if HAS_POSTGRES else "set a postgres DATABASE_URL to run this",
    }
    for item in items:
        for marker, reason in missing.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On the services pass nothing may skip: a skipped test there is a test that never ran
    on the production shape (CI's second pass depends on this)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_SERVICES and skipped and session.exitstatus == 0:
        reporter.write_line(
            f"PARLEY_REQUIRE_SERVICES=1: {len(skipped)} test(s) skipped; every test must run "
            "on Redis and PostgreSQL:",
            red=True,
        )
        for report in skipped:
            reporter.write_line(f"  {report.nodeid}: {report.longrepr[2]}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
async def fresh_channel_layer():
    """An empty layer before and after a test (Redis keeps groups between runs)."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield
    if hasattr(layer, "flush"):
        await layer.flush()


@pytest.fixture
def room(db) -> Room:
    return Room.objects.for_name("Django Girls")


@pytest.fixture
def rate_limited(settings, monkeypatch):
    """Rate limits on, counted at one fixed moment of the test's own: it never straddles
    two counting windows, and never meets another test's (or test run's) counts."""
    from rooms import limits

    settings.RATE_LIMITS = True
    moment = float(secrets.randbelow(10**9) * 3600)
    monkeypatch.setattr(limits, "now", lambda: moment)


@pytest.fixture
def joined(client):
    """A test client whose session has joined as 'ada'."""
    response = client.post("/", {"room_name": "Django Girls", "username": "ada"})
    assert response.status_code == 303
    return client


@pytest.fixture(scope="session")
def server_env(tmp_path_factory):
    """Environment for real server processes: collected static files, a migrated database."""
    from .servers import manage, prepare_database, server_environment

    env = server_environment(prepare_database(tmp_path_factory.mktemp("servers")))
    # Files sent in browser tests are stored here, not in the project's media folder.
    env["MEDIA_ROOT"] = str(tmp_path_factory.mktemp("media"))
    manage(env, "collectstatic", "--noinput")
    manage(env, "migrate", "--noinput")
    return env


@pytest.fixture(scope="session")
def server(server_env):
    """One server process shared by the tests that only need it running."""
    from .servers import Server

    process = Server(server_env).start()
    yield process
    process.stop()


@pytest.fixture
def two_servers(server_env):
    """Two server processes sharing the database and Redis, with the once-a-second recheck
    off: what crosses between them crosses live, or not at all.

    A socket may fall a whole load test behind here: the load test sends 1,500 messages
    without a pause, and its one client process reads 200 sockets. Past the default bounds
    the server rightly closes such a reader with 1013 and the page reconnects and catches
    up, which this client does not do; tests/test_sockets.py tests those bounds."""
    from .servers import Server, live_path_only

    roomy = {"SOCKET_BACKLOG_BYTES": str(16 * 2**20), "SOCKET_BACKLOG_EVENTS": "10000"}
    servers = [Server({**live_path_only(server_env), **roomy}).start() for _ in range(2)]
    yield servers
    for process in servers:
        process.stop()


# Module-scoped: Playwright's sync API must be closed before async tests run.
@pytest.fixture(scope="module")
def browser():
    from .pages import launch

    yield from launch()


@pytest.fixture
async def nobody_here():
    """Nobody anywhere before and after the test: the live runtime stopped (its loops,
    hub and sockets' state gone) and the presence store emptied (Redis keeps entries
    between runs)."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    await forget_everyone()
    yield
    await forget_everyone()


async def forget_everyone() -> None:
    # Emptied first: stopping lets the store go, and the next use makes it anew from
    # the settings (which a test may change).
    await database_sync_to_async(runtime().store.clear)()
    await runtime().stop()
