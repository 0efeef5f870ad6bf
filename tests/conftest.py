"""Shared fixtures: joined sessions, sockets on the real ASGI app, service checks."""

import os
from urllib.parse import urlparse

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from rooms import identity
from rooms.models import Room

REDIS_URL = os.environ.get("REDIS_URL", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# CI's second pass sets this: a test that needs Redis or PostgreSQL must run, not skip.
REQUIRE_SERVICES = os.environ.get("PARLEY_REQUIRE_SERVICES") == "1"

needs_redis = pytest.mark.skipif(
    not (REDIS_URL or REQUIRE_SERVICES), reason="set REDIS_URL to run against Redis"
)
needs_services = pytest.mark.skipif(
    not ((REDIS_URL and DATABASE_URL.startswith("postgres")) or REQUIRE_SERVICES),
    reason="set REDIS_URL and a postgres DATABASE_URL to run the production shape",
)


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_SERVICES and not (
        REDIS_URL and urlparse(DATABASE_URL).scheme.startswith("postgres")
    ):
        raise pytest.UsageError(
            "PARLEY_REQUIRE_SERVICES=1 needs REDIS_URL and a postgres DATABASE_URL"
        )


def make_session(name: str | None, guest_key: str | None = None) -> str:
    session = SessionStore()
    if name is not None:
        identity.remember(session, name)
        if guest_key is not None:
            # A known key, so a test can store messages as this guest (key "guest.<it>").
            session[identity.GUEST_KEY] = guest_key
    session.create()
    return session.session_key


async def open_socket(
    slug: str,
    name: str | None = "ada",
    origin: str = "http://127.0.0.1:8000",
    guest_key: str | None = None,
) -> WebsocketCommunicator:
    """A socket on the real ASGI stack, the way a browser that joined opens it."""
    from config.asgi import application

    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", origin.encode())]
    key = await database_sync_to_async(make_session)(name, guest_key)
    headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode()))
    return WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)


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
    """Two server processes sharing the database and Redis."""
    from .servers import Server

    servers = [Server(server_env).start(), Server(server_env).start()]
    yield servers
    for process in servers:
        process.stop()
