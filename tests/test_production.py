"""The production shape: `manage.py serve` (uvicorn workers), DEBUG off, PostgreSQL, Redis."""

import json
import re
import signal
import sys
import urllib.request

from .conftest import needs_services
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


@needs_services
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
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
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
