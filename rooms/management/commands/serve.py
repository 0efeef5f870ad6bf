"""Serve Parley in production: uvicorn, one worker process per core on one port.

Uvicorn (uvloop, httptools, websockets) delivered the same room pushes for a little
over half of daphne's CPU per delivery, and twice as many at saturation, in our
benchmark (BENCHMARKS.md); daphne stays for `runserver` in development. Uvicorn's
supervisor binds the socket, shares it with the workers and restarts one that
dies. Rooms span the workers through Redis, so more than one needs REDIS_URL.
"""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ASGI_APPLICATION = "config.asgi:application"

# Server settings every deployment wants; see docs/deploy.md.
SERVER_FLAGS = [
    "--loop", "uvloop",
    "--http", "httptools",
    "--ws", "websockets",
    # Frames far larger than a message are refused (close 1009) before they are read whole.
    "--ws-max-size", "65536",
    # A client that stops answering (and reading) is dropped within a minute.
    "--ws-ping-interval", "20",
    "--ws-ping-timeout", "30",
    # Requests are logged by the app (rooms/log.py), with their request ids.
    "--no-access-log",
    "--no-server-header",
    "--timeout-graceful-shutdown", "10",
    # Idle keep-alive connections go after 5 s. Past this many connections and tasks in
    # one worker, new requests get 503 at once instead of queueing; sockets count too,
    # so it sits well above a busy room. Uvicorn has no timeout for reading a request's
    # headers: a proxy in front bounds slow or half-sent requests (docs/deploy.md).
    "--timeout-keep-alive", "5",
    "--limit-concurrency", "10000",
    "--backlog", "2048",
]  # fmt: skip


def server_command(*where: str, proxy_headers: bool = False) -> list[str]:
    proxy = ["--proxy-headers"] if proxy_headers else ["--no-proxy-headers"]
    return [sys.executable, "-m", "uvicorn", *SERVER_FLAGS, *proxy, *where, ASGI_APPLICATION]


class Command(BaseCommand):
    help = "Serve the ASGI app with uvicorn, one worker process per core, on one port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        parser.add_argument(
            "--proxy-headers",
            action="store_true",
            help="Trust X-Forwarded-For/-Proto from a proxy on this host (nginx).",
        )

    def handle(self, *args, host: str, port: int, workers: int, proxy_headers: bool, **options):
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError("More than one worker needs REDIS_URL (a shared channel layer).")
        where = ["--host", host, "--port", str(port), "--workers", str(workers)]
        self.stdout.write(f"Parley on http://{host}:{port}/ with {workers} uvicorn workers")
        self.stdout.flush()
        # Become the server: the service manager's signals go straight to uvicorn.
        command = server_command(*where, proxy_headers=proxy_headers)
        os.execv(command[0], command)  # noqa: S606
