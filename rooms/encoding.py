"""Form posts must be UTF-8: anything else is refused with a clear 400.

Django decodes form fields leniently, so bytes that are not UTF-8 (a script sending
``%ED%A0%80``, half of a UTF-16 pair) would arrive as U+FFFD and be stored as if
typed. Browsers always send UTF-8, so such a body never comes from a person's form.
"""

from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FORM = "application/x-www-form-urlencoded"


def is_utf8_form(request: HttpRequest) -> bool:
    if request.method != "POST" or request.content_type != FORM:
        return True
    try:
        unquote_to_bytes(request.body.replace(b"+", b" ")).decode()
    except UnicodeDecodeError:
        return False
    return True


def refuse(request: HttpRequest) -> HttpResponse:
    return render(request, "broken_form.html", status=400)


class Utf8FormMiddleware:
    """Sync only, on purpose: it is what puts every middleware above it in one thread.

    Under ASGI, Django runs a middleware that can do both kinds in async mode whenever
    the one below it is async, and Django's own (sessions, CSRF, auth, messages...)
    then hand each of their hooks to a thread and back, one trip per hook: more than
    a dozen per request. With this one sync, Django runs the chain above it sync, in
    the one thread it makes for the request, and comes back to the event loop once,
    below it, for the view (pages, drawn by sync views, go back to that same thread).
    """

    async_capable = False
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_utf8_form(request):
            return refuse(request)
        return self.get_response(request)
