"""The capacity model of docs/capacity.md, from a `make bench-scaling` run.

    .venv/bin/python benchmarks/capacity.py benchmarks/results/scaling-<time>.json

Fits the model on the run's one-process figures only (CPU per delivery and per post,
idle CPU per socket, Redis and PostgreSQL CPU per post, Redis's bytes per message,
memory per socket), predicts the 2- and 3-process figures and prints them beside the
measured ones, then sizes a deployment on paper (the assumptions are the options).
"""

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ONE_ROOM = "one room"
PHASES = ("saturation", "offered")


@dataclass
class Model:
    app_us_per_delivery: float
    app_us_per_post: float  # in the process that stores it, its drawing and sends included
    app_us_per_socket_s: float  # idle: pings, presence refreshes
    app_ms_per_process_s: float  # idle, no sockets: the once-a-second loops
    client_us_per_delivery: float
    redis_us_per_post: float
    redis_us_per_command: float
    redis_commands_per_post: float
    # Presence: each process refreshes its sockets' entries, a few commands per room it
    # has sockets in, every PRESENCE_HEARTBEAT seconds.
    redis_commands_per_room_process_s: float
    redis_us_per_refresh_command: float  # pipelined, so cheaper than a publish
    redis_bytes_per_message_per_process: float
    postgres_us_per_post_batched: float
    postgres_us_per_post_single: float
    kib_per_socket: float


def many_rooms(result: dict) -> str:
    return next(name for name in result if name.endswith(" rooms"))


def app_commands(phase: dict) -> int:
    return sum(calls for name, calls in phase["redis_commands"].items() if name != "info")


def fit(one: dict) -> Model:
    """The model from the one-process run alone."""
    rooms = many_rooms(one)
    # With one process, "by room" is the spread shape again: a second sample.
    shapes = [one[name] for name in shape_names(one)]
    # app CPU = p x posts + d x deliveries, each phase weighted alike (relative error).
    rows, cpu = [], []
    for shape in shapes:
        for name in PHASES:
            phase = shape[name]
            spent = sum(phase["net"]["app_cpu_s"])
            rows.append([phase["messages"] / spent, phase["delivered"] / spent])
            cpu.append(1.0)
    (post, delivery), *_ = np.linalg.lstsq(np.array(rows), np.array(cpu), rcond=None)
    bare = one["idle_without_sockets"]
    per_process = sum(bare["app_cpu_s"]) / bare["wall_s"]
    sockets = [s["rooms"] * s["sockets_per_room"] for s in shapes]
    idle_app = [
        (sum(s["idle"]["app_cpu_s"]) / s["idle"]["wall_s"] - per_process) / n
        for s, n in zip(shapes, sockets, strict=True)
    ]
    posting = one[rooms]
    # Commands the app sent (INFO is the benchmark's own reading).
    commands = {k: v for k, v in posting["saturation"]["redis_commands"].items() if k != "info"}
    at_rest = {k: v for k, v in posting["idle"]["redis_commands"].items() if k != "info"}
    refreshes = sum(at_rest.get(k, 0) for k in ("zadd", "zremrangebyscore", "expire"))
    # Redis at rest with 100 rooms' presence less with one room's: the refreshes' cost.
    quiet = one[ONE_ROOM]["idle"]
    refresh_us = [
        (one[name]["idle"]["redis_cpu_s"] - quiet["redis_cpu_s"])
        / (app_commands(one[name]["idle"]) - app_commands(quiet))
        * 1e6
        for name in shape_names(one)
        if name != ONE_ROOM
    ]
    saturation, offered = posting["saturation"], posting["offered"]
    clients = [s[p]["client_cpu_s"] / s[p]["delivered"] for s in shapes for p in PHASES]
    return Model(
        app_us_per_delivery=delivery * 1e6,
        app_us_per_post=post * 1e6,
        app_us_per_socket_s=float(np.mean(idle_app)) * 1e6,
        app_ms_per_process_s=per_process * 1e3,
        client_us_per_delivery=float(np.mean(clients)) * 1e6,
        redis_us_per_post=saturation["net"]["redis_cpu_s"] / saturation["messages"] * 1e6,
        redis_us_per_command=posting["saturation"]["net"]["redis_cpu_s"]
        / sum(commands.values())
        * 1e6,
        redis_commands_per_post=sum(commands.values()) / posting["saturation"]["messages"],
        redis_commands_per_room_process_s=refreshes / posting["rooms"] / posting["idle"]["wall_s"],
        redis_us_per_refresh_command=float(np.mean(refresh_us)),
        redis_bytes_per_message_per_process=saturation["net"][
            "redis_bytes_per_message_per_process"
        ],
        postgres_us_per_post_batched=saturation["net"]["postgres_cpu_s"]
        / saturation["messages"]
        * 1e6,
        postgres_us_per_post_single=offered["net"]["postgres_cpu_s"] / offered["messages"] * 1e6,
        kib_per_socket=float(np.mean(one[ONE_ROOM]["rss_per_socket_kib"])),
    )


def shape_names(result: dict) -> list[str]:
    return [name for name in result if isinstance(result[name], dict) and "idle" in result[name]]


def predicted(model: Model, phase: dict, processes: int, cores: float, together: bool) -> dict:
    """What the model says a phase of this shape costs, and delivers at saturation."""
    posts, deliveries = phase["messages"], phase["delivered"]
    app = model.app_us_per_post * posts / deliveries + model.app_us_per_delivery
    redis = model.redis_us_per_post * posts / deliveries
    postgres = model.postgres_us_per_post_batched * posts / deliveries
    total = app + model.client_us_per_delivery + redis + postgres
    # Each app process is one thread; the machine's cores are shared by everything.
    rate = min(processes * 1e6 / app, cores * 1e6 / total)
    # Spread, every process hears every message; by room, one process does.
    heard = model.redis_bytes_per_message_per_process / (processes if together else 1)
    return {
        "app_us_per_delivery": app,
        "deliveries_per_s": rate,
        "redis_ms_per_1000_posts": model.redis_us_per_post,
        "postgres_ms_per_1000_posts": model.postgres_us_per_post_batched,
        "redis_bytes_per_message_per_process": heard,
    }


def error(model_value: float, measured: float) -> str:
    return f"{(model_value - measured) / measured:+.0%}" if measured else "n/a"


def comparison(model: Model, results: list[dict], cores: float) -> str:
    """Saturation phases, net of idle: the model's figure, the measured one, the error."""
    columns = [
        ("app CPU µs/delivery", "app_us_per_delivery", "{:.1f}"),
        ("deliveries/s", "deliveries_per_s", "{:,.0f}"),
        ("Redis CPU ms/1,000 posts", "redis_ms_per_1000_posts", "{:.0f}"),
        ("PostgreSQL CPU ms/1,000 posts", "postgres_ms_per_1000_posts", "{:.0f}"),
        ("Redis bytes/message/process", "redis_bytes_per_message_per_process", "{:,.0f}"),
    ]
    head = "| shape | N | " + " | ".join(f"{title}: model / measured" for title, *_ in columns)
    lines = [head + " |", "|---|---:|" + "---:|" * len(columns)]
    for result in results:
        n = result["processes"]
        for shape in shape_names(result):
            sat = result[shape]["saturation"]
            guess = predicted(model, sat, n, cores, together=shape.endswith("by room"))
            cells = []
            for _, key, form in columns:
                measured = sat[key] if key == "deliveries_per_s" else sat["net"][key]
                cells.append(
                    f"{form.format(guess[key])} / {form.format(measured)} "
                    f"({error(guess[key], measured)})"
                )
            lines.append(f"| {shape} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def per_further_process(results: list[dict], key: str) -> list[tuple[int, str, float]]:
    """What each further process that hears a message costs (µs): the figure per post
    (`key`) spread less by room, over the processes added, per N and phase. For the app,
    what a process spends on a message before its sockets; for Redis, one more write."""
    found = []
    for result in results:
        n = result["processes"]
        names = shape_names(result)
        together = next((name for name in names if name.endswith("by room")), None)
        if n < 2 or together is None:
            continue
        spread = many_rooms(result)
        for phase in PHASES:
            extra = result[spread][phase]["net"][key] - result[together][phase]["net"][key]
            found.append((n, phase, extra / (n - 1)))
    return found


@dataclass
class Deployment:
    people: int
    rooms: int
    messages_per_room_per_minute: float
    peak: float
    host_cores: int
    host_gib: int
    busy: float  # the share of a core planned at peak
    redis_core_budget: float  # share of a Redis core planned at peak
    processes_per_room: float  # processes a room's message reaches
    redis_us_per_subscriber: float  # a message written to one more subscribed process


def sizing(model: Model, plan: Deployment, receive_us: float) -> str:
    per_room = plan.people / plan.rooms
    posts = plan.rooms * plan.messages_per_room_per_minute / 60 * plan.peak
    deliveries = posts * per_room
    reached = min(plan.processes_per_room, per_room)
    idle_cores = plan.people * model.app_us_per_socket_s / 1e6
    post_cores = posts * model.app_us_per_post / 1e6
    delivery_cores = deliveries * model.app_us_per_delivery / 1e6
    # The process that stores a message hears it too; that is in the cost of a post.
    receive_cores = posts * (reached - 1) * receive_us / 1e6
    app_cores = idle_cores + post_cores + delivery_cores + receive_cores
    processes = math.ceil(app_cores / plan.busy)
    memory_gib = plan.people * model.kib_per_socket / 2**20 + processes * 0.15
    hosts = max(
        math.ceil(processes / plan.host_cores),
        math.ceil(memory_gib / (plan.host_gib * 0.75)),
    )
    # Per post its commands (publishes, presence reads for the lobby's count), plus a
    # write to each further process that hears it; presence refreshes per room and process.
    redis_cpu = (
        posts * model.redis_us_per_post
        + posts * (reached - 1) * plan.redis_us_per_subscriber
        + plan.rooms
        * reached
        * model.redis_commands_per_room_process_s
        * model.redis_us_per_refresh_command
    ) / 1e6
    redis_mb_s = posts * reached * model.redis_bytes_per_message_per_process / 1e6
    shards = math.ceil(redis_cpu / plan.redis_core_budget)
    postgres_cores = posts * model.postgres_us_per_post_single / 1e6
    rows = [
        ("messages/s at peak", f"{posts:,.0f}"),
        ("deliveries/s at peak", f"{deliveries:,.0f}"),
        ("app cores: idle sockets", f"{idle_cores:.1f}"),
        ("app cores: posts", f"{post_cores:.1f}"),
        ("app cores: deliveries", f"{delivery_cores:.1f}"),
        (f"app cores: {reached - 1:g} further processes hear each message", f"{receive_cores:.1f}"),
        ("app processes (one per core)", f"{processes}"),
        ("app memory, GiB", f"{memory_gib:.0f}"),
        (f"app hosts ({plan.host_cores} cores, {plan.host_gib} GiB)", f"{hosts}"),
        ("Redis CPU, cores", f"{redis_cpu:.2f}"),
        ("Redis bytes out, MB/s", f"{redis_mb_s:.0f}"),
        ("Redis shards", f"{shards}"),
        ("PostgreSQL CPU for posts, cores", f"{postgres_cores:.2f}"),
    ]
    return "\n".join(f"| {name} | {value} |" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--cores", type=float, default=2, help="the measuring machine's")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rooms", type=int, default=50_000)
    parser.add_argument("--per-minute", type=float, default=1, help="messages per room")
    parser.add_argument("--peak", type=float, default=5, help="peak over average")
    parser.add_argument("--host-cores", type=int, default=8)
    parser.add_argument("--host-gib", type=int, default=32)
    parser.add_argument("--busy", type=float, default=0.6, help="core share planned at peak")
    parser.add_argument(
        "--heard-us",
        type=float,
        default=100,
        help="app CPU for each further process that hears a message (µs)",
    )
    parser.add_argument(
        "--redis-write-us",
        type=float,
        default=5,
        help="Redis CPU to write a message to one more subscribed process (µs)",
    )
    args = parser.parse_args()

    report = json.loads(args.results.read_text())
    results = report["results"]
    model = fit(next(r for r in results if r["processes"] == 1))
    print("Model, fitted on one process:")
    for name, value in vars(model).items():
        print(f"  {name}: {value:,.2f}")
    others = [r for r in results if r["processes"] > 1]
    print("\nPredicted against measured (saturation, net of idle):\n")
    print(comparison(model, [r for r in results if r["processes"] == 1] + others, args.cores))
    # Measured, and printed; too close to a shared machine's noise to size with, so the
    # sizing takes the stated figures (--heard-us, --redis-write-us).
    for key, who in (("app_us_per_post", "app"), ("redis_ms_per_1000_posts", "Redis")):
        print()
        for n, phase, cost in per_further_process(results, key):
            print(f"{who} CPU per further process hearing a message, N={n}, {phase}: {cost:.1f} µs")
    for spread, label in ((20, "sockets spread over processes"), (1, "a room on one process")):
        plan = Deployment(
            args.people,
            args.rooms,
            args.per_minute,
            args.peak,
            args.host_cores,
            args.host_gib,
            args.busy,
            0.5,
            spread,
            args.redis_write_us,
        )
        print(f"\nSizing, {label}:\n")
        print(sizing(model, plan, args.heard_us))


if __name__ == "__main__":
    main()
