"""The cluster's network: a bridge in the root namespace with an address of its own, and one
network namespace per host joined to it by a veth pair. Everything here is named after the
cluster, so taking it down finds it again without any record of what was made."""

import os
import shutil
import subprocess

from .plan import Plan


def unavailable() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if os.geteuid() != 0:
        return "not running as root"
    if shutil.which("ip") is None:
        return "no `ip` command (Debian package: iproute2)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` does not work: {probe.stderr.decode().strip()}"
    return None


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def bridge(plan: Plan) -> str:
    return f"{plan.name}0"


def build(plan: Plan) -> None:
    prefix = plan.subnet.split("/")[1]
    ip("link", "add", bridge(plan), "type", "bridge")
    ip("addr", "add", f"{plan.gateway}/{prefix}", "dev", bridge(plan))
    ip("link", "set", bridge(plan), "up")
    for host in plan.hosts:
        outside, inside = f"{plan.name}-{host.name}", f"{plan.name}-{host.name}-p"
        ip("netns", "add", host.namespace)
        ip("link", "add", outside, "type", "veth", "peer", "name", inside)
        ip("link", "set", inside, "netns", host.namespace)
        ip("link", "set", outside, "master", bridge(plan), "up")
        ip("-n", host.namespace, "link", "set", inside, "name", "eth0")
        ip("-n", host.namespace, "addr", "add", f"{host.address}/{prefix}", "dev", "eth0")
        ip("-n", host.namespace, "link", "set", "eth0", "up")
        # Each host talks to itself too (a Sentinel beside its Redis, say).
        ip("-n", host.namespace, "link", "set", "lo", "up")


def namespace_pids(namespace: str) -> list[int]:
    found = ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in found.stdout.split()] if found.returncode == 0 else []


def tear_down(plan: Plan) -> None:
    """Remove the namespaces (their veth ends go with them) and the bridge; what is already
    gone is skipped."""
    existing = set(ip("netns", "list", check=False).stdout.split())
    for host in plan.hosts:
        if host.namespace in existing:
            ip("netns", "del", host.namespace, check=False)
        ip("link", "del", f"{plan.name}-{host.name}", check=False)
    ip("link", "del", bridge(plan), check=False)
