"""Scaling across processes: what 1, 2 and 3 app processes deliver, and what each costs.

    make bench-scaling                       # Redis and PostgreSQL from `make services`
    .venv/bin/python benchmarks/scaling.py --processes 1,2,3 --seconds 4

N separate `manage.py serve --workers 1` processes, each on a port of its own, share one
Redis and one PostgreSQL database, as N hosts behind a load balancer would. The client
spreads every room's sockets over the processes in turn, so every process is subscribed
to every room (what a balancer that knows nothing of rooms does). Three shapes:

- one room with every socket in it (1,000 by default);
- many rooms (100 rooms x 10 sockets), spread;
- the same rooms "by room": each room's sockets all on one process (rooms dealt over the
  processes), as a balancer that routes a room's sockets to one process would; the
  difference from the spread shape is what each further subscribed process costs.

For each N and shape: deliveries/s at saturation (senders with a few unanswered messages
each) and p50/p99 send-to-receipt at a fixed offered rate below saturation; and for every
phase the CPU time of the app processes, of Redis and of PostgreSQL's processes (its
backends for this benchmark's database and its background writers), as CPU per delivery
and per post, and the bytes Redis wrote per message per app process. Memory per socket
is each process's RSS growth over its share of the one-room shape's idle sockets.

CPU time is the figure to read: on a machine with fewer cores than app processes plus
the client, Redis and PostgreSQL, wall-clock throughput cannot grow with N, but the CPU
each delivery costs still shows what another core would buy.

Redis is a private instance started for the run (the machine's may serve others, whose
work would count as ours); `--shared-redis` uses REDIS_URL's server instead. The database
is `parley_scaling` on DATABASE_URL's server, dropped and made afresh for every run.
Results go to benchmarks/results/scaling-<time>.json.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import redis

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402

DATABASE = "parley_scaling"
REDIS_DB = 11
PREFIX = "parley-scaling"


def database_url() -> str:
    configured = os.environ.get("DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/")
    return urllib.parse.urlsplit(configured)._replace(path=f"/{DATABASE}").geturl()


# -- services -----------------------------------------------------------------------------


class PrivateRedis:
    """A Redis of the run's own, nothing saved: its CPU and bytes are this run's alone."""

    def __init__(self, log_dir: Path):
        self.port = bench.free_port()
        self.log = (log_dir / "scaling-redis.log").open("wb")
        self.process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/{REDIS_DB}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


def cpu_of(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class Services:
    """Redis's and PostgreSQL's CPU time (psutil on their processes), and the bytes Redis
    has written to its clients (INFO's total_net_output_bytes)."""

    def __init__(self, redis_url: str, database: str):
        self.redis = redis.Redis.from_url(redis_url)
        self.redis_process = psutil.Process(self.redis.info("server")["process_id"])
        self.database = database
        # The server's maintenance database: this connection's backend is not counted.
        admin = urllib.parse.urlsplit(database_url())._replace(path="/postgres").geturl()
        self.postgres = psycopg.connect(admin, autocommit=True)

    def postgres_cpu(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU time so far of the backends serving our database, and of the server's own
        background processes (WAL writer, checkpointer...: shared with any other
        database, so counted apart), by pid."""
        rows = self.postgres.execute(
            "SELECT pid, datname = %s FROM pg_stat_activity "
            "WHERE datname = %s OR backend_type <> 'client backend'",
            [self.database, self.database],
        ).fetchall()
        ours: dict[int, float] = {}
        background: dict[int, float] = {}
        for pid, serving_us in rows:
            try:
                (ours if serving_us else background)[pid] = cpu_of(psutil.Process(pid))
            except psutil.NoSuchProcess:
                continue
        return ours, background

    def snapshot(self) -> "Usage":
        postgres, background = self.postgres_cpu()
        # Redis's own count (getrusage, in microseconds) is finer than /proc's ticks.
        cpu = self.redis.info("cpu")
        commands = {
            name.removeprefix("cmdstat_"): stats["calls"]
            for name, stats in self.redis.info("commandstats").items()
        }
        # Transactions and rows read in our database (a commit per stored batch, a read of
        # the record per socket that fell behind): PostgreSQL reports them within a second.
        statements = self.postgres.execute(
            "SELECT xact_commit, tup_fetched FROM pg_stat_database WHERE datname = %s",
            [self.database],
        ).fetchone()
        return Usage(
            postgres_statements=statements,
            redis=cpu["used_cpu_user"] + cpu["used_cpu_sys"],
            redis_out=self.redis.info("stats")["total_net_output_bytes"],
            redis_commands=commands,
            postgres=postgres,
            postgres_background=background,
        )

    def close(self) -> None:
        self.postgres.close()


@dataclass
class Usage:
    redis: float
    redis_out: int
    redis_commands: dict[str, int]
    postgres: dict[int, float]
    postgres_background: dict[int, float]
    postgres_statements: tuple[int, int]
    app: tuple[float, ...] = ()
    wall: float = field(default_factory=time.perf_counter)

    def since(self, before: "Usage") -> dict:
        def grown(now: dict[int, float], then: dict[int, float]) -> float:
            # A backend that started during the phase spent all its CPU in it.
            return round(sum(cpu - then.get(pid, 0.0) for pid, cpu in now.items()), 3)

        return {
            "wall_s": round(self.wall - before.wall, 3),
            "app_cpu_s": [round(a - b, 3) for a, b in zip(self.app, before.app, strict=True)],
            "redis_cpu_s": round(self.redis - before.redis, 3),
            "postgres_cpu_s": grown(self.postgres, before.postgres),
            "postgres_background_cpu_s": grown(
                self.postgres_background, before.postgres_background
            ),
            "redis_out_bytes": self.redis_out - before.redis_out,
            "postgres_commits": self.postgres_statements[0] - before.postgres_statements[0],
            "postgres_rows_fetched": self.postgres_statements[1] - before.postgres_statements[1],
            # What the app asked of Redis, by command (publish: one per group event).
            "redis_commands": {
                name: calls - before.redis_commands.get(name, 0)
                for name, calls in self.redis_commands.items()
                if calls != before.redis_commands.get(name, 0)
            },
        }


# -- the app processes --------------------------------------------------------------------


class Fleet:
    """N app processes, one `manage.py serve --workers 1` per port."""

    def __init__(self, count: int, env: dict[str, str], log_dir: Path):
        self.ports = [bench.free_port() for _ in range(count)]
        self.servers: list[bench.Server] = []
        try:
            for index, port in enumerate(self.ports):
                where = ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
                variant = bench.Variant(
                    f"scaling-{index}",
                    "one uvicorn process (manage.py serve --workers 1)",
                    [sys.executable, "manage.py", "serve", *where],
                    bench.ROOT,
                    env,
                    parley=True,
                )
                self.servers.append(bench.Server(variant, port, log_dir))
        except Exception:
            self.stop()
            raise

    def cpu(self) -> float:
        """All the app processes' CPU time (bench.Meter reads a phase's share from it)."""
        return sum(self.cpus())

    def cpus(self) -> tuple[float, ...]:
        return tuple(server.cpu() for server in self.servers)

    def rss(self) -> list[int]:
        return [server.rss() for server in self.servers]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


class Spread(bench.Room):
    """One room's sockets, dealt over the processes in turn. `offset` (the room's number)
    starts each room on a different process, so the rooms' first sockets, which send,
    are spread too. `together`: every socket of the room on process `offset` instead, as
    a balancer that routes by room would place them."""

    def __init__(
        self,
        fleet: Fleet,
        name: str,
        sessions: list[str],
        offset: int = 0,
        together: bool = False,
    ):
        super().__init__(VARIANT, fleet.ports[0], name, sessions)
        self.ports = fleet.ports
        self.offset = offset
        self.together = together

    def process(self, index: int) -> int:
        return (self.offset + (0 if self.together else index)) % len(self.ports)

    def address(self, index: int) -> int:
        return self.ports[self.process(index)]

    def on_each(self) -> list[int]:
        """Sockets on each process."""
        counts = [0] * len(self.ports)
        for index in range(len(self.sockets)):
            counts[self.process(index)] += 1
        return counts


# Only what bench.Room asks of a variant: Parley's socket path and session cookies.
VARIANT = bench.Variant("parley", "", [], bench.ROOT, parley=True)


# -- phases -------------------------------------------------------------------------------


def merged(tallies: list[bench.Tally]) -> bench.Tally:
    """Several rooms' tallies as one (every room has as many sockets), for bench.summary."""
    whole = bench.Tally(tallies[0].sockets)
    for number, tally in enumerate(tallies):
        whole.sent_at |= {(number, *key): at for key, at in tally.sent_at.items()}
        whole.count |= {(number, *key): n for key, n in tally.count.items()}
        whole.last_at |= {(number, *key): at for key, at in tally.last_at.items()}
        whole.latencies += tally.latencies
        whole.received += tally.received
        whole.duplicated += tally.duplicated
        whole.reordered += tally.reordered
    whole.first_sent = min(t.first_sent for t in tallies if t.sent_at)
    whole.last_received = max(t.last_received for t in tallies)
    return whole


class Phase:
    """One measured phase over some rooms: the client's and every server's CPU, and
    Redis's bytes out, from before the first send until every delivery arrived."""

    def __init__(self, rooms: list[Spread], fleet: Fleet, services: Services):
        self.rooms = rooms
        self.fleet = fleet
        self.services = services
        self.tallies = [bench.Tally(len(room.sockets)) for room in rooms]
        for room, tally in zip(rooms, self.tallies, strict=True):
            room.listen(tally)

    async def measure(self, sending) -> dict:
        before = usage(self.fleet, self.services)
        with bench.Meter(self.fleet) as meter:
            await sending
            for tally in self.tallies:
                await bench.settle(tally)
        client = meter.client_share * (time.perf_counter() - meter.wall)
        used = usage(self.fleet, self.services).since(before) | {"client_cpu_s": round(client, 3)}
        result = bench.summary(merged(self.tallies), meter)
        return result | costs(result, used, len(self.fleet.ports))


def usage(fleet: Fleet, services: Services) -> Usage:
    now = services.snapshot()
    now.app = fleet.cpus()
    return now


async def idle(fleet: Fleet, services: Services, seconds: float) -> dict:
    """What the processes and Redis spend with nothing said: presence refreshes, pings
    (every 20 s a socket), the once-a-second loops."""
    before = usage(fleet, services)
    await asyncio.sleep(seconds)
    return usage(fleet, services).since(before)


def net_of(used: dict, idle: dict) -> dict:
    """A phase's use less what the same processes spend idle in as long: the share of
    its messages alone."""
    share = used["wall_s"] / idle["wall_s"]
    net = {
        name: round(used[name] - idle[name] * share, 3)
        for name in ("redis_cpu_s", "postgres_cpu_s", "redis_out_bytes")
    }
    net["app_cpu_s"] = [
        round(a - b * share, 3) for a, b in zip(used["app_cpu_s"], idle["app_cpu_s"], strict=True)
    ]
    return used | net


def costs(result: dict, used: dict, processes: int) -> dict:
    """CPU per delivery and per post, by whom; Redis's bytes per message per process."""
    deliveries, posts = max(result["delivered"], 1), max(result["messages"], 1)
    app, client = sum(used["app_cpu_s"]), used["client_cpu_s"]
    return used | {
        "app_us_per_delivery": round(app / deliveries * 1e6, 2),
        "app_us_per_post": round(app / posts * 1e6, 1),
        "client_us_per_delivery": round(client / deliveries * 1e6, 2),
        "redis_ms_per_1000_deliveries": round(used["redis_cpu_s"] / deliveries * 1e6, 2),
        "redis_ms_per_1000_posts": round(used["redis_cpu_s"] / posts * 1e6, 1),
        "postgres_ms_per_1000_deliveries": round(used["postgres_cpu_s"] / deliveries * 1e6, 2),
        "postgres_ms_per_1000_posts": round(used["postgres_cpu_s"] / posts * 1e6, 1),
        "redis_bytes_per_message_per_process": round(used["redis_out_bytes"] / posts / processes),
    }


async def saturate(phase: Phase, messages: int, senders: int, window: int) -> dict:
    """Every room's first `senders` sockets post `messages` in all, each keeping `window`
    unanswered (its own copy not yet back) at a time."""
    each = messages // len(phase.rooms)
    for tally in phase.tallies:
        tally.windows = {s: asyncio.Semaphore(window) for s in range(senders)}

    async def sender(room: Spread, tally: bench.Tally, index: int) -> None:
        for number in range(index, each, senders):
            await tally.windows[index].acquire()
            room.send(tally, index, number)

    pairs = zip(phase.rooms, phase.tallies, strict=True)
    sending = asyncio.gather(*(sender(r, t, i) for r, t in pairs for i in range(senders)))
    return await phase.measure(sending)


async def offer(phase: Phase, rate: float, seconds: float, senders: int = 5) -> dict:
    """`rate` messages a second in all, dealt over the rooms in turn, for `seconds`."""
    count = len(phase.rooms)

    async def sending() -> None:
        start = time.perf_counter()
        for number in range(int(rate * seconds)):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            room, tally = phase.rooms[number % count], phase.tallies[number % count]
            room.send(tally, (number // count) % senders, number)

    result = await phase.measure(sending())
    return result | {"rate": rate, "seconds": seconds}


# -- one N ---------------------------------------------------------------------------------


@dataclass
class Shape:
    name: str
    rooms: int
    sockets: int  # per room
    messages: int  # at saturation, in all
    # At saturation: sockets that send, per room, and the messages each keeps unanswered.
    # Few enough in flight that no socket falls so far behind that it reads the record.
    senders: int
    window: int
    rate: float  # offered, messages/s in all
    together: bool = False  # each room's sockets on one process (Spread)


def shapes(args) -> list[Shape]:
    return [
        Shape("one room", 1, args.room_sockets, args.room_messages, 5, 1, args.room_rate),
        Shape(
            f"{args.rooms} rooms",
            args.rooms,
            args.rooms_sockets,
            args.rooms_messages,
            1,
            2,
            args.rooms_rate,
        ),
        Shape(
            f"{args.rooms} rooms by room",
            args.rooms,
            args.rooms_sockets,
            args.rooms_messages,
            1,
            2,
            args.rooms_rate,
            together=True,
        ),
    ]


def room_names(shape: Shape) -> list[str]:
    return [f"scale-{shape.rooms}-{n}" for n in range(shape.rooms)]


async def open_rooms(fleet: Fleet, shape: Shape, sessions: list[str]) -> list[Spread]:
    rooms = []
    for number, name in enumerate(room_names(shape)):
        first = number * shape.sockets
        people = sessions[first : first + shape.sockets]
        room = Spread(fleet, name, people, offset=number, together=shape.together)
        await room.open(shape.sockets)
        rooms.append(room)
    return rooms


async def run_processes(count: int, env: dict, sessions: list[str], args, services, log_dir):
    fleet = Fleet(count, env, log_dir)
    result: dict = {"processes": count}
    try:
        # Each process serves a socket and a message first: one-off imports, connections
        # and caches are not per socket.
        warm = Spread(fleet, "scale-warm", sessions[:count])
        await warm.open(count)
        warmup = Phase([warm], fleet, services)

        async def one_message() -> None:
            warm.send(warmup.tallies[0], 0, 0)

        await warmup.measure(one_message())
        await asyncio.sleep(1.0)
        result["idle_without_sockets"] = await idle(fleet, services, args.idle_seconds / 4)
        for shape in shapes(args):
            rss = fleet.rss()
            rooms = await open_rooms(fleet, shape, sessions)
            measured: dict = {"rooms": shape.rooms, "sockets_per_room": shape.sockets}
            if shape.rooms == 1:
                await asyncio.sleep(2.0)  # let the sockets settle before reading RSS
                on_each = rooms[0].on_each()
                grown = [after - was for after, was in zip(fleet.rss(), rss, strict=True)]
                measured["sockets_per_process"] = on_each
                measured["rss_per_socket_kib"] = [
                    round(g / n / 1024, 1) for g, n in zip(grown, on_each, strict=True)
                ]
            measured["idle"] = await idle(fleet, services, args.idle_seconds)
            phase = Phase(rooms, fleet, services)
            measured["saturation"] = await saturate(
                phase, shape.messages, shape.senders, shape.window
            )
            phase = Phase(rooms, fleet, services)
            measured["offered"] = await offer(phase, shape.rate, args.seconds)
            for name in ("saturation", "offered"):
                found = measured[name]
                found["net"] = costs(found, net_of(found, measured["idle"]), count)
                print(f"  {count} x {shape.name}, {name}: {brief(found)}", flush=True)
            for room in rooms:
                await room.close()
            result[shape.name] = measured
        await warm.close()
        result["rss_mib"] = [round(r / 2**20, 1) for r in fleet.rss()]
    finally:
        fleet.stop()
    return result


def brief(m: dict) -> str:
    return (
        f"{m['deliveries_per_s']:,} deliveries/s, p99 {m['each_p99_ms']} ms, "
        f"app {m['app_us_per_delivery']} µs/delivery {m['app_us_per_post']} µs/post, "
        f"redis {m['redis_ms_per_1000_posts']} ms/1000 posts, "
        f"postgres {m['postgres_ms_per_1000_posts']} ms/1000 posts, "
        f"{m['redis_bytes_per_message_per_process']} B/msg/process, lost {m['lost']}, "
        f"client {m['client_cpu']:.0%}"
    )


def make_sessions(ports: list[int], count: int, rooms: list[str]) -> list[str]:
    """`count` people who have joined (a session each), and every room entered once so
    that it exists; the joins are spread over the processes."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda r: bench.join(ports[0], r[1], f"host{r[0]}"), enumerate(rooms)))
        people = range(count)
        return list(pool.map(lambda i: bench.join(ports[i % len(ports)], "lobby", f"u{i}"), people))


# -- report -------------------------------------------------------------------------------


def table(results: list[dict], names: list[str]) -> str:
    """Saturation's deliveries/s and CPU per delivery and per post (net of idle), and the
    offered rate's p99."""
    head = (
        f"{'shape':<19}{'N':>2}{'deliv/s':>9}{'p99 ms':>8}{'app µs/deliv':>13}"
        f"{'app µs/post':>12}{'client µs':>10}{'redis ms/1k posts':>18}"
        f"{'pg ms/1k posts':>15}{'B/msg/proc':>11}{'KiB/socket':>11}{'lost':>6}"
    )
    lines = [head, "-" * len(head)]
    for name in names:
        for r in results:
            m = r[name]
            sat, off = m["saturation"], m["offered"]
            net = sat["net"]
            kib = m.get("rss_per_socket_kib")
            lines.append(
                f"{name:<19}{r['processes']:>2}{sat['deliveries_per_s']:>9,}"
                f"{off['each_p99_ms'] or float('nan'):>8.1f}"
                f"{net['app_us_per_delivery']:>13.2f}{net['app_us_per_post']:>12.0f}"
                f"{sat['client_us_per_delivery']:>10.2f}"
                f"{net['redis_ms_per_1000_posts']:>18.1f}"
                f"{net['postgres_ms_per_1000_posts']:>15.1f}"
                f"{net['redis_bytes_per_message_per_process']:>11,}"
                f"{sum(kib) / len(kib) if kib else float('nan'):>11.1f}"
                f"{sat['lost'] + off['lost']:>6}"
            )
    return "\n".join(lines)


def processes_list(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=processes_list, default=[1, 2, 3])
    parser.add_argument("--room-sockets", type=int, default=1000)
    parser.add_argument("--room-messages", type=int, default=200, help="at saturation")
    parser.add_argument("--room-rate", type=float, default=10, help="offered messages/s")
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--rooms-sockets", type=int, default=10, help="per room")
    parser.add_argument("--rooms-messages", type=int, default=3000, help="at saturation")
    parser.add_argument("--rooms-rate", type=float, default=100, help="offered messages/s")
    parser.add_argument("--seconds", type=float, default=4, help="per offered-rate phase")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=21,
        help="sockets open, nothing said (a socket is pinged every 20 s)",
    )
    parser.add_argument("--shared-redis", action="store_true", help="REDIS_URL's server")
    args = parser.parse_args()

    bench.RESULTS.mkdir(parents=True, exist_ok=True)
    log_dir = bench.RESULTS / "logs"
    log_dir.mkdir(exist_ok=True)
    private = None if args.shared_redis else PrivateRedis(log_dir)
    if private:
        redis_url = private.url
    else:
        shared = urllib.parse.urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/"))
        redis_url = shared._replace(path=f"/{REDIS_DB}").geturl()
    env = bench.parley_env() | {
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": PREFIX,
    }
    redis.Redis.from_url(redis_url).flushdb()
    bench.fresh_database(bench.Variant("scaling", "", [], bench.ROOT, env, parley=True))
    services = Services(redis_url, DATABASE)
    results = []
    try:
        named = [name for shape in shapes(args) for name in room_names(shape)]
        rooms = list(dict.fromkeys(["scale-warm", *named]))
        most = max(s.rooms * s.sockets for s in shapes(args))
        fleet = Fleet(max(args.processes), env, log_dir)
        try:
            sessions = make_sessions(fleet.ports, most, rooms)
        finally:
            fleet.stop()
        for count in args.processes:
            print(f"{count} app process(es)", flush=True)
            results.append(await run_processes(count, env, sessions, args, services, log_dir))
    finally:
        services.close()
        if private:
            private.stop()
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": bench.machine(),
        "redis": "private instance" if private else "shared (REDIS_URL's server)",
        "settings": vars(args),
        "results": results,
    }
    path = bench.RESULTS / f"scaling-{report['when'].replace(':', '')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(results, [s.name for s in shapes(args)]))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    asyncio.run(main())
