"""Structured logs: one JSON object per line, with a request id, and never a message body.

Every HTTP request gets an id (the proxy's X-Request-ID when it sends a sane one),
returned in the response and attached to every log line written while serving it.
"""

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

request_id: ContextVar[str] = ContextVar("request_id", default="")

SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Attributes every LogRecord has; anything else came in through `extra=`.
# Uvicorn's records also carry their text with terminal colours: not for a log file.
RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "color_message",
}

access = logging.getLogger("parley.http")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        if request_id.get():
            line["request_id"] = request_id.get()
        line.update((key, value) for key, value in vars(record).items() if key not in RECORD_FIELDS)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def server_formatter() -> JsonFormatter:
    """The formatter of the server's own log config (config/server_logging.json), loaded
    before the app: warnings printed while the server starts become log lines too."""
    logging.captureWarnings(True)
    return JsonFormatter()


class ClientErrorFilter(logging.Filter):
    """Uvicorn's websocket protocol logs a client's frame of invalid UTF-8 as an exception,
    with a traceback; it is the client's error, answered with close 1007: a warning line."""

    CLIENT_ERRORS = frozenset({"Invalid UTF-8 sequence received from client."})

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.CLIENT_ERRORS:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


class RequestIdMiddleware:
    """Give each request an id, log one line for it, and return the id to the client."""

    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        token, started = self.begin(request)
        try:
            return self.end(request, self.get_response(request), started)
        finally:
            request_id.reset(token)

    async def __acall__(self, request):
        token, started = self.begin(request)
        try:
            return self.end(request, await self.get_response(request), started)
        finally:
            request_id.reset(token)

    def begin(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if SANE_ID.match(given) else uuid.uuid4().hex
        return request_id.set(request.id), time.monotonic()

    def end(self, request, response, started):
        response["X-Request-ID"] = request.id
        access.info(
            "http.request",
            extra={
                "request_id": request.id,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response
