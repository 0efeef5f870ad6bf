"""Parley on several hosts of one machine: nginx, three app hosts, a Redis primary and its
replica under three Sentinels, and PostgreSQL, each host in its own network namespace."""

import glob
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
from pathlib import Path

from . import network
from .plan import (
    REDIS_SERVICE,
    ROOT,
    Plan,
    Service,
    app_environment,
    loopback_plan,
    namespaces_plan,
)
from .processes import Process, answers_ping, as_user, http_ok, load_state, save_state, wait_for

HERE = Path(__file__).resolve().parent
# Start order (the database is migrated before the apps start); stopped in reverse.
SERVICES = ("db", "redis1", "redis2", "sentinel1", "sentinel2", "sentinel3")
ORDER = (*SERVICES, "app1", "app2", "app3")


class Template(string.Template):
    # nginx's own variables start with $: the cluster's start with @.
    delimiter = "@"


def render(template: str, target: Path, **values) -> Path:
    target.write_text(Template((HERE / template).read_text()).substitute(values))
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin(program: str) -> str:
    """A program of the newest PostgreSQL the Debian packages installed."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=version_key)
    if not found:
        raise RuntimeError("PostgreSQL is not installed (Debian package: postgresql)")
    return found[-1]


def version_key(path: str) -> int:
    return int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0


def missing_programs() -> list[str]:
    """The programs the cluster runs that this machine lacks, with their Debian packages."""
    wanted = {"nginx": "nginx-light", "redis-server": "redis-server", "redis-sentinel": ""}
    gone = [
        f"{program} (Debian package: {package or program})"
        for program, package in wanted.items()
        if shutil.which(program) is None
    ]
    if not glob.glob("/usr/lib/postgresql/*/bin/postgres"):
        gone.append("postgres (Debian package: postgresql)")
    return gone


class Cluster:
    def __init__(
        self,
        name: str = "parley",
        subnet: str = "10.77.0",
        *,
        sentinel: bool = True,
        loopback: bool = False,
        env: dict[str, str] | None = None,
    ):
        self.name, self.subnet = name, subnet
        self.dir = Path(tempfile.gettempdir()) / f"{name}-cluster"
        self.state_file = self.dir / "state.json"
        self.sentinel = sentinel
        self.force_loopback = loopback
        self.extra_env = env or {}
        self.plan: Plan | None = None
        self.processes: dict[str, Process] = {}
        self.secret_key = ""
        self.fallback_reason: str | None = None

    # Bringing it up.

    def up(self) -> "Cluster":
        if self.dir.exists():
            self.down()
        self.dir.mkdir(mode=0o755)
        self.secret_key = secrets.token_urlsafe(32)
        self.fallback_reason = "asked for" if self.force_loopback else network.unavailable()
        if self.fallback_reason is None:
            self.plan = namespaces_plan(self.name, self.subnet)
        else:
            self.plan = loopback_plan(self.name, free_port)
        self.save()  # before anything is made: `down` can always find it
        try:
            if self.plan.namespaced:
                network.build(self.plan)
            for name in SERVICES:
                self.start(name)
            self.migrate()
            for app in self.plan.apps:
                self.start(app)
            for app in self.plan.apps:
                self.wait_ready(app)
            self.start("proxy")
        except BaseException:
            self.down()
            raise
        return self

    def start(self, name: str) -> None:
        """Start one service (again): db, redis1, redis2, sentinel1-3, app1-3 or proxy."""
        starter = getattr(self, f"start_{name.rstrip('0123456789')}")
        self.processes[name] = starter(name)
        self.save()

    def spawn(self, name: str, host, argv: list[str], **options) -> Process:
        return Process.spawn(name, host, argv, self.dir / f"{name}.log", **options)

    def start_db(self, name: str) -> Process:
        db = self.plan.db
        data = self.dir / "db"
        # PostgreSQL refuses to run as root: as root, it runs as the postgres user.
        user = "postgres" if os.geteuid() == 0 else None
        if not data.exists():
            data.mkdir(mode=0o700)
            if user:
                shutil.chown(data, user, user)
            initdb = [postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
            subprocess.run(as_user(user, initdb), check=True, capture_output=True)
            # Trust on the cluster's own subnet only: it exists nowhere else.
            with (data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host all all {self.plan.subnet} trust\n")
        argv = [postgres_bin("postgres"), "-D", str(data), "-h", db.host.address]
        argv += ["-p", str(db.port), "-k", str(data), "-c", "max_connections=200"]
        process = self.spawn(name, db.host, argv, user=user)
        wait_for(lambda: self.db_ready(), 30, what="PostgreSQL did not start")
        return process

    def db_ready(self) -> bool:
        db = self.plan.db
        probe = [postgres_bin("pg_isready"), "-q", "-U", "postgres"]
        probe += ["-h", db.host.address, "-p", str(db.port)]
        return subprocess.run(probe, check=False).returncode == 0

    def start_redis(self, name: str) -> Process:
        redis = self.plan.redis[name]
        # The first Redis up is the primary; any other (or one back after a failover)
        # follows whoever the Sentinels name, else redis1.
        first = None if name == "redis1" else self.plan.redis["redis1"].where
        leader = self.current_primary() or first
        replicaof = ""
        if leader and leader != redis.where:
            replicaof = f"replicaof {leader.replace(':', ' ')}"
        return self.start_redis_server(name, redis, "redis-server", replicaof=replicaof)

    def start_sentinel(self, name: str) -> Process:
        sentinel = self.plan.sentinels[int(name[-1]) - 1]
        primary = self.plan.redis["redis1"]
        return self.start_redis_server(
            name,
            sentinel,
            "redis-sentinel",
            service=REDIS_SERVICE,
            primary=f"{primary.host.address} {primary.port}",
        )

    def start_redis_server(self, name: str, at: Service, program: str, **values) -> Process:
        """A Redis or a Sentinel, from its template (redis.conf, sentinel.conf), once it
        answers PING."""
        template = "redis.conf" if program == "redis-server" else "sentinel.conf"
        where = (at.host.address, at.port)
        config = render(
            template, self.dir / f"{name}.conf", address=where[0], port=where[1],
            dir=self.dir, name=name, **values,
        )  # fmt: skip
        process = self.spawn(name, at.host, [program, str(config)])
        wait_for(lambda: answers_ping(*where), 10, f"{name} did not start")
        return process

    def current_primary(self) -> str | None:
        """The primary's address as the Sentinels name it, or None if none answers."""
        import redis

        for sentinel in self.plan.sentinels:
            # A Sentinel not up yet is passed over at once (the client would retry it).
            if not answers_ping(sentinel.host.address, sentinel.port):
                continue
            client = redis.Redis(sentinel.host.address, sentinel.port, socket_timeout=1)
            try:
                found = client.sentinel_get_master_addr_by_name(REDIS_SERVICE)
            except redis.RedisError:
                continue
            finally:
                client.close()
            if found:
                return f"{found[0]}:{found[1]}"
        return None

    def app_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
        env.update(app_environment(self.plan, self.secret_key, sentinel=self.sentinel))
        # Files on messages: one folder on this machine stands in for the shared bucket.
        env["MEDIA_ROOT"] = str(self.dir / "media")
        env.update(self.extra_env)
        return env

    def migrate(self) -> None:
        """Once, before the apps: from the machine itself, which reaches the db host."""
        import psycopg

        db = self.plan.db
        admin = f"postgres://postgres@{db.where}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'parley'").fetchone():
                conn.execute("CREATE DATABASE parley")
        manage = [sys.executable, "manage.py"]
        env = self.app_env()
        if not (ROOT / "staticfiles" / "staticfiles.json").exists():
            subprocess.run(
                [*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True
            )
        with (self.dir / "migrate.log").open("ab") as log:
            subprocess.run(
                [*manage, "migrate", "--noinput", "-v", "0"],
                env=env,
                cwd=ROOT,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_app(self, name: str) -> Process:
        app = self.plan.apps[name]
        argv = [sys.executable, "manage.py", "serve", "--host", app.host.address]
        argv += ["--port", str(app.port), "--workers", "1"]
        return self.spawn(name, app.host, argv, env=self.app_env())

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        """An app host is up once its /readyz answers 200: database and Redis reached."""
        app, process = self.plan.apps[name], self.processes[name]

        def ready() -> bool:
            if not process.alive:
                raise RuntimeError(f"{name} exited:\n{process.tail()}")
            return http_ok(f"http://{app.where}/readyz")

        wait_for(ready, timeout, f"{name} was not ready")

    def start_proxy(self, name: str) -> Process:
        proxy = self.plan.proxy
        temp = self.dir / "nginx-temp"
        temp.mkdir(exist_ok=True)
        root = os.geteuid() == 0
        if root:
            # Workers drop root; their buffers for large bodies live here.
            shutil.chown(temp, "www-data", "www-data")
        servers = "\n".join(
            # Passive health: one failure takes a host out for 5 s (then it is tried again).
            f"        server {app.where} max_fails=1 fail_timeout=5s;"
            for app in self.plan.apps.values()
        )
        config = render(
            "nginx.conf",
            self.dir / "nginx.conf",
            dir=self.dir,
            user="user www-data;" if root else "",
            servers=servers,
            listen=proxy.where,
        )
        argv = ["nginx", "-e", str(self.dir / "nginx-error.log"), "-c", str(config)]
        process = self.spawn(name, proxy.host, [*argv, "-g", "daemon off;"])
        wait_for(lambda: http_ok(f"http://{proxy.where}/healthz"), 10, "nginx did not start")
        return process

    # Faults, for tests and demonstrations.

    def kill(self, name: str) -> None:
        """SIGKILL one service's process, as a crash or a pulled plug would end it."""
        self.processes[name].stop(signal.SIGKILL)

    def stop(self, name: str) -> None:
        """Stop one service as its service manager would: PostgreSQL the fast way (every
        connection cut at once; the default waits for pooled connections that never end)."""
        self.processes[name].stop(signal.SIGINT if name == "db" else signal.SIGTERM)

    # Taking it down.

    def save(self) -> None:
        save_state(
            self.state_file,
            {
                "plan": self.plan.to_json() if self.plan else None,
                "processes": [p.to_json() for p in self.processes.values()],
                "fallback": self.fallback_reason,
                "sentinel": self.sentinel,
            },
        )

    def load(self) -> bool:
        state = load_state(self.state_file)
        if state is None or state["plan"] is None:
            return False
        self.plan = Plan.from_json(state["plan"])
        self.fallback_reason = state["fallback"]
        self.sentinel = state["sentinel"]
        known = {p.name: p for p in self.processes.values()}
        for item in state["processes"]:
            self.processes[item["name"]] = known.get(item["name"]) or Process.from_json(item)
        return True

    def down(self) -> None:
        """Stop every process, remove the namespaces, the bridge and the folder. Safe to run
        again, and after a cluster half made or already gone."""
        self.load()
        for name in ("proxy", *reversed(ORDER)):
            if name in self.processes:
                self.stop(name)
        self.processes.clear()
        plan = self.plan or namespaces_plan(self.name, self.subnet)
        if plan.namespaced and network.unavailable() is None:
            for host in plan.hosts:
                # Whatever still runs in the cluster's own namespaces is the cluster's.
                for pid in network.namespace_pids(host.namespace):
                    os.kill(pid, signal.SIGKILL)
            network.tear_down(plan)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.plan = None

    def status(self) -> dict[str, str]:
        if not self.load():
            return {}
        return {name: "running" if p.alive else "stopped" for name, p in self.processes.items()}
