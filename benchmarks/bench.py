"""Fan-out benchmark: how many deliveries a second, how fast, at what memory cost.

Each server variant is started fresh, sockets join one room the way browsers do
(for Parley: a session cookie from the join form, then the room socket), senders
post through the real path, and one asyncio client (picows: it parses frames in
C, so the client is not the wall) times every receipt. Per variant:

- connections/s and server memory per idle socket (1,000 sockets, fresh process);
- deliveries/s at saturation (100 sockets, 20 senders with 4 unanswered messages each);
- an offered-rate ladder: p50/p99 of send-to-each-receipt and send-to-last-receiver,
  with 5 sockets posting, and a last step where one socket posts everything (a bot);
- lost, duplicated and out-of-order deliveries;
- the client's own CPU share (a run where the client is saturated is invalid);
- for Parley, /healthz, the lobby and a room page under `wrk`, as ratios to a minimal
  Django view served the same way (the "django" variant: benchmarks/minimal_django/).

Results go to benchmarks/results/ (JSON) and docs/benchmark-latency.png.
Run it with `make bench` (which starts Redis and PostgreSQL when they are down).
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import psutil
from picows import WSListener, WSMsgType, WSTransport, ws_connect

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
PLOT = ROOT / "docs" / "benchmark-latency.png"
WORKSHOP_PYTHON = BENCH / ".venv-workshop" / "bin" / "python"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# A database of the benchmark's own on the configured server: it is dropped on every run.
DATABASE_URL = (
    urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    ._replace(path="/parley_bench")
    .geturl()
)

# Every message body carries its sender and number; receivers find it in any frame shape.
MARK = re.compile(rb"zq(\d+)_(\d+)qz")
# Offered load: sockets x messages per second.
# sockets x messages/s [x sending sockets, 5 if not given]: the last step is one fast talker.
LADDER = "100x20,250x20,500x20,1000x20,1000x10,500x20x1"
# A run whose client used more than this share of a core measured the client.
CLIENT_SATURATED = 0.9
# How long a phase waits for stragglers once nothing more arrives.
SETTLE = 5.0


# -- servers ------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    about: str
    command: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    # Parley's code, joined like a browser does; `cwd` is its checkout.
    parley: bool = False
    # Server processes once it is up (a supervisor and its workers).
    processes: int = 1
    # False: pages only (the minimal Django project has no sockets).
    sockets: bool = True
    # Variables of the benchmark's own environment this variant must not see.
    unset: tuple[str, ...] = ()

    def ws_path(self, room: str, user: str) -> str:
        if self.parley:
            return f"/ws/rooms/{room}/"
        if self.name == "workshop":
            return f"/ws/room/{room}/{user}/"
        return f"/ws/{room}/"


def parley_env() -> dict[str, str]:
    return {
        "SECRET_KEY": "benchmark-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CHANNEL_PREFIX": "parley-bench",
        "RATE_LIMITS": "off",
        # Every benchmark client comes from 127.0.0.1.
        "SOCKETS_PER_ADDRESS": "100000",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


ASGI = "config.asgi:application"


EMBEDDED_DATABASE = RESULTS / "embedded.sqlite3"


def variants(port: int) -> dict[str, Variant]:
    py = sys.executable
    where = ["--host", "127.0.0.1", "--port", str(port)]
    return {
        "django": Variant(
            "django",
            "the reference for pages: a minimal Django project (one view returning "
            '"ok", Security and Common middleware) on manage.py serve\'s uvicorn command, '
            "2 workers",
            [py, str(BENCH / "minimal_django" / "serve.py"), *where, "--workers", "2"],
            BENCH / "minimal_django",
            processes=3,
            sockets=False,
        ),
        "embedded": Variant(
            "embedded",
            "Parley as `make run` starts it: runserver (daphne), DEBUG on, SQLite and the "
            "in-memory layer, one process",
            [py, "manage.py", "runserver", f"127.0.0.1:{port}"],
            ROOT,
            {
                **parley_env(),
                "DEBUG": "1",
                "DATABASE_URL": f"sqlite:///{EMBEDDED_DATABASE}",
                "REDIS_URL": "",
            },
            parley=True,
            # The autoreloader and the server it restarts on a change.
            processes=2,
            unset=("REDIS_URL",),
        ),
        "bare": Variant(
            "bare",
            "asyncio websockets broadcast server: no framework, no layer, no database",
            [py, str(BENCH / "bare_server.py"), str(port)],
            BENCH,
        ),
        "workshop": Variant(
            "workshop",
            "the workshop app as written: channels 4.1, channels-redis 4.2 core layer, "
            "daphne, JSON frames, nothing stored",
            [str(WORKSHOP_PYTHON), "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), ASGI],
            BENCH / "workshop",
            {"REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "config.settings"},
        ),
        "parley": Variant(
            "parley",
            "Parley as deployed (manage.py serve): uvicorn, a worker per core (2); stores "
            "every message in PostgreSQL, draws it once, Redis pub/sub layer",
            [py, "manage.py", "serve", *where, "--workers", "2"],
            ROOT,
            parley_env(),
            parley=True,
            processes=3,
        ),
        "parley-granian": Variant(
            "parley-granian",
            "Parley's code on Granian (a Rust HTTP server with ASGI WebSockets), 2 workers, "
            "uvloop: measured against uvicorn, not deployed",
            [
                py,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--loop",
                "uvloop",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "2",
                "--runtime-mode",
                "st",
                "--ws",
                ASGI,
            ],
            ROOT,
            parley_env(),
            parley=True,
            processes=3,
        ),
        "parley-1": Variant(
            "parley-1",
            "Parley in one uvicorn process (manage.py serve --workers 1)",
            [py, "manage.py", "serve", *where, "--workers", "1"],
            ROOT,
            parley_env(),
            parley=True,
        ),
        "parley-daphne": Variant(
            "parley-daphne",
            "Parley's code on daphne, 2 processes on one socket (how it deployed before)",
            [py, str(BENCH / "daphne_workers.py"), str(port), "2"],
            ROOT,
            parley_env(),
            parley=True,
            processes=3,
        ),
    }


def before(rev: str, port: int) -> Variant:
    """Parley as it was at an earlier commit, served by its own `manage.py serve`, to
    measure a change."""
    root = BENCH / f".before-{rev}"
    if not root.exists():
        root.mkdir()
        archive = subprocess.run(
            ["git", "archive", rev],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    return Variant(
        f"before-{rev}",
        f"Parley at {rev}, as its own manage.py serve ran it, 2 workers",
        [sys.executable, "manage.py", "serve", *where],
        root,
        parley_env(),
        parley=True,
        processes=3,
    )


def variant_environment(variant: Variant) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **variant.env}
    for name in variant.unset:
        env.pop(name, None)
    if not variant.parley:
        env.pop("DATABASE_URL", None)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, variant: Variant, port: int, log_dir: Path):
        self.variant = variant
        self.port = port
        self.log = (log_dir / f"{variant.name}.log").open("wb")
        env = variant_environment(variant)
        self.process = subprocess.Popen(
            variant.command,
            cwd=variant.cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not self.up():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{variant.name} did not start; see {self.log.name}")
            time.sleep(0.1)

    def up(self) -> bool:
        if len(self.processes()) < self.variant.processes:
            return False
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes())

    def cpu(self) -> float:
        total = 0.0
        for p in self.processes():
            with_children = p.cpu_times()
            total += with_children.user + with_children.system
        return total

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def fresh_database(variant: Variant) -> None:
    """An empty database for a Parley variant (its PostgreSQL one, or the embedded
    variant's SQLite file), migrated by its own code."""
    env = variant_environment(variant)
    if env["DATABASE_URL"].startswith("sqlite:"):
        for path in EMBEDDED_DATABASE.parent.glob(f"{EMBEDDED_DATABASE.name}*"):
            path.unlink()
    else:
        import psycopg

        parts = urllib.parse.urlsplit(env["DATABASE_URL"])
        name = parts.path.lstrip("/")
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    for command in ("migrate", "collectstatic"):
        manage = [sys.executable, "manage.py", command, "--noinput", "-v", "0"]
        subprocess.run(manage, cwd=variant.cwd, env=env, check=True)


# -- joining like a browser ---------------------------------------------------------------


def cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def join(port: int, room_name: str, username: str) -> str:
    """The join form, as a browser fills it: returns the session cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/")
    response = conn.getresponse()
    page = response.read().decode()
    csrf = cookies(response)["csrftoken"]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "room_name": room_name, "username": username}
    )
    conn.request(
        "POST",
        "/",
        body=body,
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 303:
        raise RuntimeError(f"join answered {response.status}")
    return f"sessionid={cookies(response)['sessionid']}"


# -- the client ---------------------------------------------------------------------------


class Tally:
    """Every receipt of one phase: latencies, and what was lost, doubled or reordered."""

    def __init__(self, sockets: int):
        self.sockets = sockets
        self.sent_at: dict[tuple[int, int], float] = {}
        self.count: dict[tuple[int, int], int] = {}
        self.last_at: dict[tuple[int, int], float] = {}
        self.latencies: list[float] = []
        self.received = 0
        self.duplicated = 0
        self.reordered = 0
        self.first_sent = 0.0
        self.last_received = 0.0
        self.windows: dict[int, asyncio.Semaphore] = {}

    def sent(self, key: tuple[int, int]) -> None:
        now = time.perf_counter()
        if not self.sent_at:
            self.first_sent = now
        self.sent_at[key] = now

    @property
    def expected(self) -> int:
        return len(self.sent_at) * self.sockets


class Receiver(WSListener):
    def __init__(self, index: int):
        self.index = index
        self.tally: Tally | None = None
        self.last: dict[int, int] = {}
        self.closed = asyncio.get_running_loop().create_future()

    def on_ws_frame(self, transport: WSTransport, frame) -> None:
        if frame.msg_type != WSMsgType.TEXT or self.tally is None:
            return
        now = time.perf_counter()
        tally = self.tally
        for sender, number in MARK.findall(frame.get_payload_as_bytes()):
            key = (int(sender), int(number))
            sent = tally.sent_at.get(key)
            if sent is None:
                continue
            last = self.last.get(key[0], -1)
            if key[1] == last:
                tally.duplicated += 1
                continue
            if key[1] < last:
                tally.reordered += 1
            else:
                self.last[key[0]] = key[1]
            tally.received += 1
            tally.latencies.append(now - sent)
            tally.count[key] = tally.count.get(key, 0) + 1
            tally.last_at[key] = now
            tally.last_received = now
            if key[0] == self.index and key[0] in tally.windows:
                tally.windows[key[0]].release()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@dataclass
class Socket:
    transport: WSTransport
    receiver: Receiver


class Room:
    """N sockets in one room of one server variant."""

    def __init__(self, variant: Variant, port: int, name: str, sessions: list[str]):
        self.variant = variant
        self.port = port
        self.name = name
        self.sessions = sessions
        self.sockets: list[Socket] = []

    async def open(self, count: int, batch: int = 50) -> float:
        """Open `count` sockets; returns connections per second."""
        started = time.perf_counter()
        for first in range(0, count, batch):
            indexes = range(first, min(first + batch, count))
            self.sockets += await asyncio.gather(*(self.connect(i) for i in indexes))
        return count / (time.perf_counter() - started)

    def address(self, index: int) -> int:
        """The port socket `index` opens on (one server here; several in scaling.py)."""
        return self.port

    async def connect(self, index: int) -> Socket:
        user = f"u{index}"
        port = self.address(index)
        url = f"ws://127.0.0.1:{port}{self.variant.ws_path(self.name, user)}"
        headers = {"Origin": f"http://127.0.0.1:{port}"}
        if self.variant.parley:
            headers["Cookie"] = self.sessions[index]
        transport, receiver = await ws_connect(
            lambda: Receiver(index),
            url,
            extra_headers=headers,
            websocket_handshake_timeout=60,
            max_frame_size=1 << 20,
        )
        return Socket(transport, receiver)

    def listen(self, tally: Tally) -> None:
        for sock in self.sockets:
            sock.receiver.tally = tally
            sock.receiver.last = {}

    def send(self, tally: Tally, sender: int, number: int) -> None:
        tally.sent((sender, number))
        text = json.dumps({"message": f"zq{sender}_{number}qz"})
        self.sockets[sender].transport.send(WSMsgType.TEXT, text.encode())

    async def close(self) -> None:
        for sock in self.sockets:
            sock.transport.send_close()
        for sock in self.sockets:
            try:
                await asyncio.wait_for(sock.receiver.closed, 10)
            except TimeoutError:
                sock.transport.disconnect()
        self.sockets = []


async def settle(tally: Tally, limit: float = 120) -> None:
    """Wait until every delivery arrived, or nothing more has for SETTLE seconds."""
    deadline = time.perf_counter() + limit
    seen, quiet_since = -1, time.perf_counter()
    while tally.received < tally.expected and time.perf_counter() < deadline:
        if tally.received != seen:
            seen, quiet_since = tally.received, time.perf_counter()
        elif time.perf_counter() - quiet_since > SETTLE:
            break
        await asyncio.sleep(0.05)


class Meter:
    """Client and server CPU over one phase."""

    def __init__(self, server: Server):
        self.server = server

    def __enter__(self) -> "Meter":
        self.wall = time.perf_counter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.client = usage.ru_utime + usage.ru_stime
        self.server_cpu = self.server.cpu()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self.wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.client_share = (usage.ru_utime + usage.ru_stime - self.client) / wall
        self.server_share = (self.server.cpu() - self.server_cpu) / wall


def summary(tally: Tally, meter: Meter) -> dict:
    latencies = np.array(tally.latencies) * 1000
    whole = [
        (tally.last_at[key] - tally.sent_at[key]) * 1000
        for key, count in tally.count.items()
        if count == tally.sockets
    ]
    duration = max(tally.last_received - tally.first_sent, 1e-9)
    unique = tally.received

    def pct(values, q):
        return round(float(np.percentile(values, q)), 2) if len(values) else None

    return {
        "sockets": tally.sockets,
        "messages": len(tally.sent_at),
        "expected": tally.expected,
        "delivered": unique,
        "lost": tally.expected - unique,
        "duplicated": tally.duplicated,
        "reordered": tally.reordered,
        "deliveries_per_s": round(unique / duration),
        "each_p50_ms": pct(latencies, 50),
        "each_p99_ms": pct(latencies, 99),
        "last_p50_ms": pct(whole, 50),
        "last_p99_ms": pct(whole, 99),
        "client_cpu": round(meter.client_share, 3),
        "server_cpu": round(meter.server_share, 3),
        "client_saturated": meter.client_share > CLIENT_SATURATED,
    }


async def saturate(room: Room, server: Server, messages: int, senders: int = 5, window: int = 16):
    tally = Tally(len(room.sockets))
    room.listen(tally)
    tally.windows = {s: asyncio.Semaphore(window) for s in range(senders)}

    async def sender(index: int) -> None:
        for number in range(index, messages, senders):
            await tally.windows[index].acquire()
            room.send(tally, index, number)

    with Meter(server) as meter:
        await asyncio.gather(*(sender(i) for i in range(senders)))
        await settle(tally)
    return summary(tally, meter)


async def offer(room: Room, server: Server, rate: float, seconds: float, senders: int = 5):
    tally = Tally(len(room.sockets))
    room.listen(tally)
    total = int(rate * seconds)
    with Meter(server) as meter:
        start = time.perf_counter()
        for number in range(total):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            room.send(tally, number % senders, number)
        await settle(tally)
    return summary(tally, meter)


# -- HTTP ---------------------------------------------------------------------------------


def wrk(url: str, cookie: str | None, seconds: int, server: Server | None = None) -> dict | None:
    """32 connections for `seconds`: requests/s, latency, and the server's CPU per request
    (steadier than the rate on a shared machine)."""
    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    cpu = server.cpu() if server else 0.0
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = server.cpu() - cpu if server else 0.0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def latency(q: str) -> float:
        value, unit = re.search(rf"\b{q}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return round(float(value) * units[unit], 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": round(rate),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "server_cpu_ms_per_request": round(cpu * 1000 / requests, 2) if server else None,
    }


def pages(port: int, seconds: int, server: Server, reader: str | None = None) -> dict:
    """/healthz, the lobby and a joined reader's page of the room with the most history
    (its newest 50). Without a reader (--pages), one joins a room and posts 60 messages
    through the plain form first, and 29 more rooms get a message each for the lobby."""
    if reader is None:
        for number in range(29):
            post(port, join(port, f"lobby {number}", f"p{number}"), f"lobby-{number}", "hello")
        reader = join(port, "saturation", "u0")
        for number in range(60):
            post(port, reader, "saturation", f"message number {number}")
    base = f"http://127.0.0.1:{port}"
    return {
        "healthz": wrk(f"{base}/healthz", None, seconds, server),
        "lobby": wrk(f"{base}/", None, seconds, server),
        "room_page_50_messages": wrk(f"{base}/rooms/saturation/", reader, seconds, server),
    }


def post(port: int, session: str, slug: str, text: str) -> None:
    """A message sent through the room page's plain form, as a browser without scripts."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/rooms/{slug}/", headers={"Cookie": session})
    response = conn.getresponse()
    page = response.read().decode()
    csrf = cookies(response).get("csrftoken")
    fields = dict(re.findall(r'name="(csrfmiddlewaretoken|identity|key)" value="([^"]*)"', page))
    body = urllib.parse.urlencode({**fields, "message": text})
    headers = {
        "Cookie": f"{session}; csrftoken={csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    conn.request("POST", f"/rooms/{slug}/", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 303:
        raise RuntimeError(f"posting answered {response.status}")


# The page every other is compared with: the minimal Django view ("django" variant).
REFERENCE = ("django", "django_view")


def page_ratios(results: list[dict]) -> None:
    """Each page's requests/s (and CPU per request) as a ratio to the minimal Django view's."""
    reference = next(
        (r["http"][REFERENCE[1]] for r in results if r["variant"] == REFERENCE[0]), None
    )
    if not reference:
        return
    for r in results:
        for measured in (r.get("http") or {}).values():
            if not measured:
                continue
            rate = measured["requests_per_s"] / reference["requests_per_s"]
            measured["x_django"] = round(rate, 2)
            mine, theirs = (
                measured.get("server_cpu_ms_per_request"),
                reference.get("server_cpu_ms_per_request"),
            )
            if mine and theirs:
                measured["cpu_x_django"] = round(mine / theirs, 2)


def page_table(results: list[dict]) -> str:
    head = (
        f"{'variant':<16}{'page':<24}{'req/s':>8}{'x django':>10}{'p50':>9}{'p99':>10}"
        f"{'CPU/req':>10}{'x django':>10}{'non-2xx':>9}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        for page, m in (r.get("http") or {}).items():
            if not m:
                continue
            cpu = m.get("server_cpu_ms_per_request")
            lines.append(
                f"{r['variant']:<16}{page:<24}{m['requests_per_s']:>8,}"
                f"{m.get('x_django', float('nan')):>10.2f}"
                f"{m['p50_ms']:>7.1f}ms{m['p99_ms']:>8.1f}ms"
                f"{cpu if cpu is not None else float('nan'):>8.2f}ms"
                f"{m.get('cpu_x_django', float('nan')):>10.2f}{m['non_2xx']:>9}"
            )
    return "\n".join(lines)


# -- one variant --------------------------------------------------------------------------


async def run_variant(variant: Variant, port: int, args, log_dir: Path) -> dict:
    if variant.parley:
        fresh_database(variant)
    server = Server(variant, port, log_dir)
    result: dict = {"variant": variant.name, "about": variant.about}
    try:
        if not variant.sockets:
            base = f"http://127.0.0.1:{port}"
            result["http"] = {REFERENCE[1]: wrk(f"{base}/", None, args.http, server)}
            return result
        if args.pages:
            if variant.parley:
                result["http"] = pages(port, args.http, server)
            return result
        most = max([args.idle, args.saturation_sockets] + [s for s, *_ in args.ladder])
        sessions: list[str] = []
        if variant.parley:
            started = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                sessions = list(pool.map(lambda i: join(port, "idle", f"u{i}"), range(most)))
            result["joins_per_s"] = round(most / (time.perf_counter() - started))

        def room(name: str) -> Room:
            if variant.parley:
                join(port, name, "u0")  # the room exists once someone has entered it
            return Room(variant, port, name, sessions)

        # Memory per idle socket, measured on processes that have each served sockets
        # and a message already (one-off imports and connections are not per socket).
        warm = room("warm")
        await warm.open(20)
        tally = Tally(20)
        warm.listen(tally)
        warm.send(tally, 0, 0)
        await settle(tally, 30)
        time.sleep(1.0)
        before = server.rss()
        idle = room("idle")
        result["connections_per_s"] = round(await idle.open(args.idle))
        await asyncio.sleep(3.0)
        result["idle_sockets"] = args.idle
        result["rss_per_idle_socket_kib"] = round((server.rss() - before) / args.idle / 1024, 1)
        result["rss_mib"] = round(server.rss() / 2**20, 1)
        await idle.close()
        await warm.close()

        sat = room("saturation")
        await sat.open(args.saturation_sockets)
        result["saturation"] = await saturate(
            sat, server, args.saturation_messages, senders=args.senders, window=args.window
        )
        await sat.close()
        print(f"  {variant.name}: saturation {result['saturation']}", flush=True)

        result["ladder"] = []
        for step, (sockets, rate, senders) in enumerate(args.ladder):
            stepped = room(f"step-{step}")
            await stepped.open(sockets)
            measured = await offer(stepped, server, rate, args.seconds, senders)
            measured["rate"] = rate
            measured["senders"] = senders
            result["ladder"].append(measured)
            await stepped.close()
            print(f"  {variant.name}: {sockets}x{rate}/s x{senders} {measured}", flush=True)

        if variant.parley:
            result["http"] = pages(port, args.http, server, sessions[0])
    finally:
        server.stop()
    return result


# -- report -------------------------------------------------------------------------------


def step(result: dict, sockets: int, rate: float, senders: int = 5) -> dict | None:
    for measured in result.get("ladder", []):
        if (measured["sockets"], measured["rate"], measured.get("senders", 5)) == (
            sockets,
            rate,
            senders,
        ):
            return measured
    return None


def table(results: list[dict]) -> str:
    by_name = {r["variant"]: r for r in results}

    def rate(name):
        return by_name.get(name, {}).get("saturation", {}).get("deliveries_per_s")

    workshop, bare = rate("workshop"), rate("bare")
    head = (
        f"{'variant':<16}{'deliv/s':>9}{'x wksp':>7}{'x bare':>7}{'p99 500x20':>12}"
        f"{'p99 1000x10':>13}{'p99 1 talker':>14}{'KiB/idle':>10}{'conn/s':>8}"
        f"{'lost':>7}{'dup':>5}{'ooo':>5}"
        f"{'client':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        if "saturation" not in r:
            continue  # pages only
        sat = r["saturation"]
        phases = [sat, *r["ladder"]]
        mid, big, talker = step(r, 500, 20), step(r, 1000, 10), step(r, 500, 20, senders=1)
        lines.append(
            f"{r['variant']:<16}{sat['deliveries_per_s']:>9,}"
            f"{sat['deliveries_per_s'] / workshop if workshop else float('nan'):>7.2f}"
            f"{sat['deliveries_per_s'] / bare if bare else float('nan'):>7.2f}"
            f"{(mid or {}).get('last_p99_ms') or float('nan'):>10.1f}ms"
            f"{(big or {}).get('last_p99_ms') or float('nan'):>11.1f}ms"
            f"{(talker or {}).get('last_p99_ms') or float('nan'):>12.1f}ms"
            f"{r['rss_per_idle_socket_kib']:>10.1f}{r['connections_per_s']:>8,}"
            f"{sum(p['lost'] for p in phases):>7}{sum(p['duplicated'] for p in phases):>5}"
            f"{sum(p['reordered'] for p in phases):>5}"
            f"{max(p['client_cpu'] for p in phases):>7.0%}"
            + (" CLIENT-BOUND" if any(p["client_saturated"] for p in phases) else "")
        )
    return "\n".join(lines)


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    rate = 20
    for r in results:
        points = [
            (m["sockets"], m["last_p99_ms"])
            for m in r.get("ladder", [])
            if m["rate"] == rate and m.get("senders", 5) == 5
        ]
        points = [(s, v) for s, v in points if v is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=r["variant"])
    ax.set_yscale("log")
    ax.set_xlabel("sockets in the room")
    ax.set_ylabel("p99 send → last receiver (ms, log)")
    ax.set_title(f"Fan-out latency at {rate} messages/s (lower is better)")
    ax.axhline(100, color="grey", linestyle=":", linewidth=1)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def machine() -> dict:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1) if found else ""
    versions = {}
    for package in ("django", "channels", "channels-redis", "daphne", "uvicorn", "websockets"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "packages": versions,
        "client": f"picows {metadata.version('picows')}, one process",
    }


def ladder(text: str) -> list[tuple[int, float]]:
    steps = []
    for part in text.split(","):
        sockets, rate, *senders = part.split("x")
        steps.append((int(sockets), float(rate), int(senders[0]) if senders else 5))
    return steps


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", default="django,bare,workshop,embedded,parley-daphne,parley-1,parley"
    )
    parser.add_argument("--ladder", type=ladder, default=ladder(LADDER))
    parser.add_argument("--seconds", type=float, default=10, help="per ladder step")
    parser.add_argument("--saturation-sockets", type=int, default=100)
    parser.add_argument("--saturation-messages", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=20, help="sockets that post at saturation")
    parser.add_argument("--window", type=int, default=4, help="unanswered messages per sender")
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets for memory")
    parser.add_argument("--http", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--pages", action="store_true", help="only the pages: no sockets")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--before", help="also measure Parley at this git revision, first")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = RESULTS / "logs"
    log_dir.mkdir(exist_ok=True)
    port = free_port()
    table_of = variants(port)
    results = []
    names = args.variants.split(",")
    if args.before:
        table_of["before"] = before(args.before, port)
        names.insert(names.index("parley-daphne") if "parley-daphne" in names else 0, "before")
    for name in names:
        variant = table_of[name]
        if name == "workshop" and not WORKSHOP_PYTHON.exists():
            print("  workshop: benchmarks/.venv-workshop is missing (make bench creates it)")
            continue
        print(f"{name}: {variant.about}", flush=True)
        results.append(await run_variant(variant, port, args, log_dir))
    page_ratios(results)
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "settings": {k: (v if not isinstance(v, Path) else str(v)) for k, v in vars(args).items()},
        "results": results,
    }
    stamp = report["when"].replace(":", "")
    for path in (RESULTS / f"{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(report, indent=2) + "\n")
    plot(results, args.plot)
    print()
    print(table(results))
    print()
    print(page_table(results))
    print(f"\nwrote {RESULTS / 'latest.json'} and {args.plot}")


if __name__ == "__main__":
    asyncio.run(main())
