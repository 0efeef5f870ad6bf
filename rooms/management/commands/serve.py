"""Serve Parley in production: uvicorn, one worker process per core on one port.

Uvicorn (uvloop, httptools, websockets) delivered the same room pushes for a little
over half of daphne's CPU per delivery, and twice as many at saturation, in our
benchmark (BENCHMARKS.md); daphne stays for `runserver` in development. Uvicorn's
supervisor binds the socket, shares it with the workers and restarts one that
dies. Rooms span the workers through Redis, so more than one needs REDIS_URL.
"""

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ASGI_APPLICATION = "config.asgi:application"
# Uvicorn's own lines (startup, errors, tracebacks) in the app's JSON, one object per line.
LOG_CONFIG = Path(__file__).resolve().parents[3] / "config" / "server_logging.json"

log = logging.getLogger(__name__)

# Server settings every deployment wants; see docs/deploy.md.
SERVER_FLAGS = [
    "--loop", "uvloop",
    "--http", "httptools",
    # The sans-I/O protocol: about 7 KB less per idle socket than the legacy one, which
    # uvicorn deprecates. It logs a frame of invalid UTF-8 (closed 1007) with a traceback;
    # rooms/log.py ClientErrorFilter makes that the one-line warning a client error is.
    "--ws", "websockets-sansio",
    # No per-message compression, though browsers offer it: each socket's compressor keeps
    # its own history (about 46 KB a socket) and compresses every frame again for that
    # socket alone, where a room sends the same few hundred bytes of HTML to everyone.
    # Measured with a client that negotiates it, as browsers do: about a third of the
    # server's CPU per delivery (BENCHMARKS.md).
    "--ws-per-message-deflate", "false",
    # Frames far larger than a message are refused (close 1009) before they are read whole.
    "--ws-max-size", "65536",
    # A client that stops answering (and reading) is dropped within a minute.
    "--ws-ping-interval", "20",
    "--ws-ping-timeout", "30",
    # Requests are logged by the app (rooms/log.py), with their request ids.
    "--no-access-log",
    "--no-server-header",
    "--timeout-graceful-shutdown", "10",
    "--log-config", str(LOG_CONFIG),
    # Idle keep-alive connections go after 5 s. Past this many connections and tasks in
    # one worker, new requests get 503 at once instead of queueing; sockets count too,
    # so it sits well above a busy room. Uvicorn has no timeout for reading a request's
    # headers: a proxy in front bounds slow or half-sent requests (docs/deploy.md).
    "--timeout-keep-alive", "5",
    "--limit-concurrency", "10000",
    "--backlog", "2048",
]  # fmt: skip


LOOPBACK = ("127.0.0.1", "::1")


def server_command(
    *where: str,
    forwarded_allow_ips: Sequence[str] = LOOPBACK,
    application: str = ASGI_APPLICATION,
) -> list[str]:
    # Uvicorn takes the client address (and scheme) from X-Forwarded-For (and -Proto)
    # only on connections from these addresses, the proxy's, for pages and sockets alike;
    # from anyone else those headers are ignored. Rate limits count that address.
    proxy = (
        ["--proxy-headers", "--forwarded-allow-ips", ",".join(forwarded_allow_ips)]
        if forwarded_allow_ips
        else ["--no-proxy-headers"]
    )
    return [sys.executable, "-m", "uvicorn", *SERVER_FLAGS, *proxy, *where, application]


class Command(BaseCommand):
    help = "Serve the ASGI app with uvicorn, one worker process per core, on one port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
        parser.add_argument(
            "--forwarded-allow-ips",
            default=",".join(settings.FORWARDED_ALLOW_IPS),
            help="Comma-separated proxy addresses or networks whose X-Forwarded-For/-Proto "
            "are believed (default: FORWARDED_ALLOW_IPS, else loopback); empty: none.",
        )
        # Older unit files pass --proxy-headers; proxy headers now follow the option above.
        parser.add_argument("--proxy-headers", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, host: str, port: int, workers: int, **options):
        if workers > 1 and not settings.REDIS_URL:
            raise CommandError("More than one worker needs REDIS_URL (a shared channel layer).")
        where = ["--host", host, "--port", str(port), "--workers", str(workers)]
        log.info("serve.start", extra={"url": f"http://{host}:{port}/", "workers": workers})
        # Become the server: the service manager's signals go straight to uvicorn.
        proxies = [ip.strip() for ip in options["forwarded_allow_ips"].split(",") if ip.strip()]
        command = server_command(*where, forwarded_allow_ips=proxies)
        os.execv(command[0], command)  # noqa: S606
