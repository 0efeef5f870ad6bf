"""Real server processes for tests: uvicorn on a free port, with the flags deployments use."""

import base64
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from rooms.management.commands.serve import server_command

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL"}
    }
    env.update(
        SECRET_KEY="e2e-tests-not-secret",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        # Browser and load tests post faster than people; the limits have their own tests.
        RATE_LIMITS="off",
        # Every test client comes from 127.0.0.1; tests/test_sockets.py checks the caps.
        SOCKETS_PER_ADDRESS="10000",
        # Test runs sharing one Redis must not hear each other's rooms.
        CHANNEL_PREFIX=f"parley-test-{os.getpid()}",
        PYTHONUNBUFFERED="1",
    )
    return env


def live_path_only(env: dict[str, str]) -> dict[str, str]:
    """The servers' settings with the once-a-second recheck (rooms/recovery.py) off: a push
    that never came is then never filled from the database, so a test of the live path
    fails when the live path is broken instead of passing a second later."""
    return {**env, "LIVE_RECHECK": "off"}


# How long a push may take to reach a socket in tests of the live path: well under the
# recheck's second, and under the gap filler's wait (rooms/delivery.py GAP_WAIT), so a
# message brought by either of them misses it.
LIVE_WITHIN = 0.5  # seconds


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args, "-v", "0"], cwd=ROOT, env=env, check=True)


def prepare_database(tmp_dir: Path) -> str:
    """A fresh database for the servers: PostgreSQL when DATABASE_URL says so, else SQLite."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgres"):
        import psycopg

        parts = urllib.parse.urlsplit(configured)
        name = f"parley_e2e_{os.getpid()}"
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return parts._replace(path=f"/{name}").geturl()
    return f"sqlite:///{tmp_dir / 'e2e.sqlite3'}"


class Server:
    """One server process for config.asgi:application; can be stopped and restarted."""

    def __init__(self, env: dict[str, str], port: int | None = None):
        self.env = env
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return server_command("--host", "127.0.0.1", "--port", str(self.port))

    def start(self) -> "Server":
        self.process = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env,
            stdout=self.log_file(),
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up()
        return self

    def log_file(self):
        """Where the process logs: a file, since an unread pipe would fill and stall it."""
        self.log = tempfile.TemporaryFile()  # noqa: SIM115
        return self.log

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.read_log()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError("server did not come up")

    def stop(self, sig: int = signal.SIGKILL) -> str:
        """Stop the process; returns what it logged."""
        if self.process is None:
            return ""
        self.process.send_signal(sig)
        self.process.wait(timeout=20)
        self.process = None
        return self.read_log()

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.read_log().count(text) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared in the server log")
            time.sleep(0.05)

    def read_log(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def join(base_url: str, room_name: str, username: str) -> http.cookiejar.CookieJar:
    """Join through the real form, as a browser does; returns the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base_url + "/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "room_name": room_name, "username": username}
    ).encode()
    opener.open(urllib.request.Request(base_url + "/", data=body, method="POST"))
    return jar


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


class RedisServer:
    """A private redis-server, so a test can kill and restart it without touching others.
    `options` are more redis-server flags (a replica's --replicaof, say)."""

    def __init__(self, directory: Path, *options: str):
        self.port = free_port()
        self.directory = directory
        self.options = options
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            *self.options,
        ]

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.command()[0]} did not come up")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class SentinelServer(RedisServer):
    """A private Redis Sentinel (redis-server in sentinel mode) watching `primary` as the
    service "parley", quick to call it down: tests wait for a failover, people don't."""

    def __init__(self, directory: Path, primary: RedisServer):
        super().__init__(directory)
        self.config = directory / f"sentinel-{self.port}.conf"
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {directory}\n"
            f"sentinel monitor parley 127.0.0.1 {primary.port} 2\n"
            "sentinel down-after-milliseconds parley 500\n"
            "sentinel failover-timeout parley 2000\n"
        )

    def command(self) -> list[str]:
        # Sentinel rewrites its file as it learns: each instance has its own.
        return ["redis-server", str(self.config), "--sentinel"]


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run_python(env: dict[str, str], *args: str, check: bool = False):
    """Run Python in the project folder (manage.py commands, say) and capture the output."""
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=check
    )


def stored_messages(env: dict[str, str], slug: str) -> int:
    """How many messages the servers' database holds for a room."""
    code = (
        "from rooms.models import Message; "
        f"print(Message.objects.filter(room__slug={slug!r}).count())"
    )
    return int(run_python(env, "manage.py", "shell", "-c", code, check=True).stdout.split()[-1])


async def room_socket(server: Server, slug: str, cookies, **options):
    """A room's WebSocket opened the way the page opens it (same origin, session cookie)."""
    import websockets

    return await websockets.connect(
        server.url.replace("http", "ws") + f"/ws/rooms/{slug}/",
        origin=server.url,
        additional_headers={"Cookie": cookie_header(cookies)},
        **options,
    )


async def message_with(socket, text: str) -> str:
    """The first message push (new, edited or deleted) that carries text, skipping others."""
    while True:
        frame = await socket.recv()
        if "data-seq=" in frame and text in frame:
            return frame


def stuck_socket(server: Server, slug: str, cookies, *, narrow: bool = False) -> socket.socket:
    """A client that opens the room's socket and then never reads a byte.

    On loopback the server's kernel buffer for it grows to about 4 MB before any send
    waits. A `narrow` client asks for small segments and a small window before it
    connects, as on a thin link: the kernel then takes about 100 KB, and the server's own
    bound is reached after a few frames instead of thousands."""
    if narrow:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.connect(("127.0.0.1", server.port))
    else:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/rooms/{slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\nCookie: {cookie_header(cookies)}\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in sock.recv(1024).split(b"\r\n")[0]
    return sock
