"""Where each part of the cluster runs: a host is a name and an address, a service is a
host and a port. The same plan is drawn on network namespaces (one address per host) or,
without them, on 127.0.0.1 with a port per service; nothing else differs."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Sentinel service name: the host part of REDIS_URL when REDIS_SENTINELS is set.
REDIS_SERVICE = "parley"
APP_HOSTS = ("app1", "app2", "app3")
# Each host's last address byte on the cluster's /24 (the root namespace's bridge is .1).
ADDRESSES = {"proxy": 2, "app1": 11, "app2": 12, "app3": 13, "redis1": 21, "redis2": 22, "db": 31}
# Conventional ports; on loopback every service gets a free one instead.
PORTS = {"proxy": 8080, "app": 8000, "redis": 6379, "sentinel": 26379, "db": 5432}


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    # The network namespace it runs in; None: the machine's own network (loopback).
    namespace: str | None = None

    def run(self, argv: list[str]) -> list[str]:
        """The command that runs argv on this host. `ip netns exec` replaces itself with
        the command, so the process id is the command's own."""
        return ["ip", "netns", "exec", self.namespace, *argv] if self.namespace else argv


@dataclass(frozen=True)
class Service:
    host: Host
    port: int

    @property
    def where(self) -> str:
        return f"{self.host.address}:{self.port}"


@dataclass
class Plan:
    name: str
    # The root namespace's own address on the bridge ("" on loopback): where tests and
    # browsers on this machine come from.
    gateway: str
    subnet: str
    proxy: Service
    apps: dict[str, Service]
    redis: dict[str, Service]  # redis1 starts as the primary, redis2 as its replica
    sentinels: list[Service]
    db: Service
    hosts: list[Host] = field(default_factory=list)

    @property
    def namespaced(self) -> bool:
        return bool(self.gateway)

    @property
    def url(self) -> str:
        return f"http://{self.proxy.where}/"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "Plan":
        def service(item: dict) -> Service:
            return Service(Host(**item["host"]), item["port"])

        return cls(
            name=data["name"],
            gateway=data["gateway"],
            subnet=data["subnet"],
            proxy=service(data["proxy"]),
            apps={name: service(item) for name, item in data["apps"].items()},
            redis={name: service(item) for name, item in data["redis"].items()},
            sentinels=[service(item) for item in data["sentinels"]],
            db=service(data["db"]),
            hosts=[Host(**item) for item in data["hosts"]],
        )


def namespaces_plan(name: str, subnet: str) -> Plan:
    """One namespace per host, named <name>-<host>, on <subnet>.0/24."""
    hosts = {
        host: Host(host, f"{subnet}.{number}", f"{name}-{host}")
        for host, number in ADDRESSES.items()
    }
    return Plan(
        name=name,
        gateway=f"{subnet}.1",
        subnet=f"{subnet}.0/24",
        proxy=Service(hosts["proxy"], PORTS["proxy"]),
        apps={app: Service(hosts[app], PORTS["app"]) for app in APP_HOSTS},
        redis={r: Service(hosts[r], PORTS["redis"]) for r in ("redis1", "redis2")},
        # Three Sentinels on three hosts: losing the primary's host still leaves two, the quorum.
        sentinels=[Service(hosts[h], PORTS["sentinel"]) for h in ("redis1", "redis2", "proxy")],
        db=Service(hosts["db"], PORTS["db"]),
        hosts=list(hosts.values()),
    )


def loopback_plan(name: str, free_port) -> Plan:
    """Every host is 127.0.0.1; each service has a port of its own."""
    hosts = {host: Host(host, "127.0.0.1") for host in ADDRESSES}
    return Plan(
        name=name,
        gateway="",
        subnet="127.0.0.1/32",
        proxy=Service(hosts["proxy"], free_port()),
        apps={app: Service(hosts[app], free_port()) for app in APP_HOSTS},
        redis={r: Service(hosts[r], free_port()) for r in ("redis1", "redis2")},
        sentinels=[Service(hosts[h], free_port()) for h in ("redis1", "redis2", "proxy")],
        db=Service(hosts["db"], free_port()),
        hosts=list(hosts.values()),
    )


def app_environment(plan: Plan, secret_key: str, *, sentinel: bool, **extra: str) -> dict:
    """What every app host is started with: the same on each."""
    primary = plan.redis["redis1"]
    if sentinel:
        # The host part of REDIS_URL names the Sentinel service, as django-redis reads it.
        redis = {
            "REDIS_URL": f"redis://{REDIS_SERVICE}/0",
            "REDIS_SENTINELS": ",".join(s.where for s in plan.sentinels),
        }
    else:
        redis = {"REDIS_URL": f"redis://{primary.where}/0"}
    addresses = sorted({s.host.address for s in (plan.proxy, *plan.apps.values())})
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@{plan.db.where}/parley",
        **redis,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": ",".join([*addresses, "localhost"]),
        # Only the proxy's X-Forwarded-For is believed: the client address limits count.
        "FORWARDED_ALLOW_IPS": plan.proxy.host.address,
        "CHANNEL_PREFIX": f"{plan.name}-cluster",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
