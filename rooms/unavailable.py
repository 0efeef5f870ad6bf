"""A database that can't be reached (PostgreSQL restarting, its pool empty) answers 503 with
what was typed, ready to send again, instead of a server error page.

Sockets say the same in their own way (rooms/consumers.py); this is the plain-form side. The
page is drawn without the site's layout: the layout asks the database who is signed in.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER = 5  # seconds: about what a PostgreSQL restart takes


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DATABASE_DOWN):
            return None
        log.warning("database unavailable", extra={"path": request.path})
        typed = (
            [(name, value) for name, value in request.POST.items() if name != "csrfmiddlewaretoken"]
            if request.method == "POST"
            else []
        )
        response = TemplateResponse(
            request,
            "unavailable.html",
            {"typed": typed, "files": bool(request.method == "POST" and request.FILES)},
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
