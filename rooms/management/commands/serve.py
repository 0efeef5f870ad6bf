"""Serve Parley in production: several daphne processes sharing one listening socket.

Daphne runs one event loop in one process; sharing a socket lets the kernel hand
new connections to one process per core, with no proxy in between. Rooms span the
processes through Redis, so set REDIS_URL when running more than one.
"""

import os
import signal
import socket
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Daphne settings every deployment wants; see docs/deploy.md.
DAPHNE_FLAGS = [
    # Daphne's default closes every socket after 24 h with 1000, which htmx won't retry.
    "--websocket_timeout", "-1",
    # Frames far larger than a message are refused before they are read whole.
    "--websocket-max-message-size", "65536",
    # A client that stops answering (and reading) is dropped within a minute.
    "--ping-interval", "20",
    "--ping-timeout", "30",
    "--no-server-name",
]  # fmt: skip


def daphne_command(*where: str) -> list[str]:
    return [sys.executable, "-m", "daphne", *DAPHNE_FLAGS, *where, "config.asgi:application"]


class Command(BaseCommand):
    help = "Serve the ASGI app with one daphne process per core on one port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="Trust X-Forwarded-For/-Proto from a proxy in front (nginx).",
        )

    def handle(self, *args, host: str, port: int, workers: int, proxy_headers: bool, **options):
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError("More than one worker needs REDIS_URL (a shared channel layer).")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(1024)
        listener.set_inheritable(True)
        command = daphne_command("--fd", str(listener.fileno()))
        if proxy_headers:
            command.insert(-1, "--proxy-headers")
        processes = [
            subprocess.Popen(command, pass_fds=[listener.fileno()])  # noqa: S603
            for _ in range(workers)
        ]
        self.stdout.write(f"Parley on http://{host}:{port}/ with {workers} daphne processes")

        def stop(signum, frame):
            for process in processes:
                process.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        # If one process dies, stop them all: the service manager restarts the whole.
        os.wait()
        stop(None, None)
        codes = [process.wait() for process in processes]
        listener.close()
        if any(code not in (0, -signal.SIGTERM) for code in codes):
            raise CommandError(f"a server process exited: {codes}")
