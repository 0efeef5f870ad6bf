"""The production shape: `manage.py serve` (uvicorn workers), DEBUG off, PostgreSQL, Redis."""

import json
import re
import signal
import socket
import sys
import threading
import urllib.request

import pytest
import websockets

from .helpers import needs_postgres, needs_redis
from .servers import (
    Server,
    free_port,
    join,
    message_with,
    room_socket,
    run_python,
)


def get(url: str, **headers):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers, response.read()


class ServeCommand(Server):
    """`python manage.py serve`, exactly as docs/deploy.md runs it."""

    def command(self) -> list[str]:
        return [sys.executable, "manage.py", "serve", "--port", str(self.port), "--workers", "2"]


@needs_redis
@needs_postgres
async def test_production_server_is_ready_serves_static_and_chats(server_env):
    assert server_env["DATABASE_URL"].startswith("postgres")
    assert server_env.get("DEBUG", "") == ""
    server = ServeCommand(server_env, free_port()).start()
    try:
        status, _, body = get(server.url + "/readyz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "ok", "channel_layer": "ok"}

        _, _, page = get(server.url + "/")
        css = re.search(rb'href="(/static/css/parley\.[0-9a-f]{12}\.css)"', page).group(1)
        status, headers, _ = get(server.url + css.decode(), **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert "immutable" in headers["Cache-Control"]
        assert "max-age=315360000" in headers["Cache-Control"]

        sockets = [
            await room_socket(server, "production", join(server.url, "Production", name))
            for name in ("ada", "bob")
        ]
        ada, bob = sockets
        await ada.send(json.dumps({"message": "served in production"}))
        await message_with(bob, "served in production")
        for socket in sockets:
            await socket.close()
        server.wait_for_log('"ws.close"', count=2)
    finally:
        logs = server.stop(signal.SIGTERM)  # uvicorn stops its workers
    lines = [json.loads(line) for line in logs.splitlines()]
    events = {line["event"] for line in lines}
    assert {"http.request", "ws.open", "ws.close"} <= events
    assert "served in production" not in logs  # no message bodies in the logs


def test_production_refuses_to_start_without_a_secret_key(server_env):
    env = {key: value for key, value in server_env.items() if key != "SECRET_KEY"}
    result = run_python(env, "manage.py", "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_more_than_one_worker_needs_redis(server_env):
    env = {key: value for key, value in server_env.items() if key != "REDIS_URL"}
    result = run_python(env, "manage.py", "serve", "--workers", "2", "--port", str(free_port()))
    assert result.returncode != 0
    assert "needs REDIS_URL" in result.stderr


def log_lines(text: str) -> list[dict]:
    """Every line of a server's output, each of which must be one JSON object."""
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not JSON: {line!r}\nin:\n{text}") from None
    assert lines and all(isinstance(line, dict) for line in lines)
    return lines


async def test_every_line_the_server_logs_is_json_errors_included(server_env):
    server = Server(server_env).start()
    try:
        assert get(server.url + "/")[0] == 200
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(b"NOT HTTP\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.1 400")
        # A socket to a path with no route: the router raises, uvicorn logs the traceback.
        with pytest.raises(websockets.InvalidStatus):
            nowhere = server.url.replace("http", "ws") + "/ws/nowhere/"
            async with websockets.connect(nowhere, origin=server.url):
                pass
        server.wait_for_log("Exception in ASGI application")
    finally:
        logs = server.stop(signal.SIGTERM)
    lines = log_lines(logs)
    uvicorn = [line for line in lines if line["logger"].startswith("uvicorn")]
    assert {"Started server process", "Invalid HTTP request received.", "Shutting down"} <= {
        line["event"].split(" [")[0] for line in uvicorn
    }
    errors = [line for line in uvicorn if line["level"] == "ERROR"]
    assert errors and "Traceback (most recent call last)" in errors[0]["exc"]
    assert "http.request" in {line["event"] for line in lines}


def test_serve_logs_json_when_it_cannot_start(server_env):
    """`manage.py serve` itself, and uvicorn failing to bind: still one JSON object a line."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_python(server_env, "manage.py", "serve", "--port", port, "--workers", "1")
    assert result.returncode != 0
    lines = log_lines(result.stdout + result.stderr)
    assert lines[0]["event"] == "serve.start" and lines[0]["workers"] == 1
    assert any(line["level"] == "ERROR" and port in line["event"] for line in lines)


@needs_redis
def test_pages_in_threads_of_their_own_share_the_caches_redis_connections(transactional_db, client):
    """Under ASGI each request's sync code runs in a thread of its own, and Django keeps a
    cache backend per thread: pages must still reuse the process's few connections to
    Redis (for the session), not open one each."""
    import redis
    from django.conf import settings
    from django.db import connection

    def total_connections() -> int:
        first = settings.REDIS_URL.split(",")[0]  # the cache lives on the first shard
        return redis.Redis.from_url(first).info("stats")["total_connections_received"]

    assert client.post("/", {"room_name": "Tea", "username": "ada"}).status_code == 303
    statuses = []

    def one_page() -> None:
        try:
            statuses.append(client.get("/rooms/tea/").status_code)
        finally:
            # As the server does at the end of a request (the test client does not).
            connection.close()

    one_page()
    before = total_connections()
    for _ in range(20):
        thread = threading.Thread(target=one_page)
        thread.start()
        thread.join()
    opened = total_connections() - before - 1  # the counting client's own connection
    assert statuses == [200] * 21
    assert opened <= 2, f"{opened} new connections to Redis for 20 pages"
