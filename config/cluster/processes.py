"""Starting, waiting for and stopping the cluster's processes, and finding them again from
another command (`down`, `status`) by what the cluster recorded: a process id with its start
time, so a number the kernel gave to some later process is never signalled."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from .plan import ROOT, Host


def started_at(pid: int) -> str | None:
    """The process's start time (in clock ticks since boot), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # After the command name in parentheses (which may hold spaces): the state (field 3;
    # a zombie has ended, whoever reaps it) and the start time (field 22).
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in "ZX" else fields[19]


def as_user(user: str | None, argv: list[str]) -> list[str]:
    """argv run as `user` (None: as whoever runs it). setpriv replaces itself with the
    command, as `ip netns exec` does: the process id stays the command's."""
    if user is None:
        return argv
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv]


class Process:
    """One service's process, started by this cluster."""

    def __init__(self, name: str, pid: int, started: str | None, log: Path):
        self.name, self.pid, self.started, self.log = name, pid, started, log
        self.popen: subprocess.Popen | None = None

    @classmethod
    def spawn(
        cls, name: str, host: Host, argv: list[str], log: Path, env=None, user=None
    ) -> "Process":
        with log.open("ab") as out:
            popen = subprocess.Popen(
                host.run(as_user(user, argv)),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own session: outlives `make cluster`, and no terminal signal reaches it.
                start_new_session=True,
            )
        process = cls(name, popen.pid, None, log)
        process.popen = popen
        process.started = started_at(popen.pid)
        return process

    @property
    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        return self.started is not None and started_at(self.pid) == self.started

    def send(self, sig: int) -> None:
        if self.alive:
            os.kill(self.pid, sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        self.send(sig)
        if not wait_for(lambda: not self.alive, timeout, what=None):
            self.send(signal.SIGKILL)
            wait_for(lambda: not self.alive, 5, what=None)
        if self.popen is not None:
            self.popen.wait(timeout=5)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def to_json(self) -> dict:
        return {"name": self.name, "pid": self.pid, "started": self.started, "log": str(self.log)}

    @classmethod
    def from_json(cls, data: dict) -> "Process":
        return cls(data["name"], data["pid"], data["started"], Path(data["log"]))


def wait_for(condition: Callable[[], bool], timeout: float, what: str | None) -> bool:
    """Poll `condition` until it holds; past the deadline raise (or return False if
    `what` is None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    if what is None:
        return False
    raise TimeoutError(f"{what} within {timeout:.0f} s")


def answers_ping(address: str, port: int) -> bool:
    """A Redis or Sentinel answers PING."""
    try:
        with socket.create_connection((address, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def save_state(path: Path, state: dict) -> None:
    path.write_text(json.dumps(state, indent=2))


def load_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
