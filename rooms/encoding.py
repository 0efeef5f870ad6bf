"""Form posts must be UTF-8: anything else is refused with a clear 400.

Django decodes form fields leniently, so bytes that are not UTF-8 (a script sending
``%ED%A0%80``, half of a UTF-16 pair) would arrive as U+FFFD and be stored as if
typed. Browsers always send UTF-8, so such a body never comes from a person's form.
"""

from urllib.parse import unquote_to_bytes

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
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
    # Both kinds, so async views (the health checks) stay on the event loop.
    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not is_utf8_form(request):
            return refuse(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        if not is_utf8_form(request):
            # The page shows who is signed in: the session and user load from the database.
            return await sync_to_async(refuse)(request)
        return await self.get_response(request)
