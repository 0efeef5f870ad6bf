"""The search pages: /search/ (every room the person can see) and /rooms/<slug>/search/.

A plain GET form and a page of results, which works without JavaScript; htmx asks the
same address as the person types and gets the results alone (rooms/_search_results.html).
"""

from dataclasses import replace

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from .. import identity, limits, restrictions
from ..access import visible_rooms
from ..models import Room, record_number
from ..views import banned
from . import search
from .query import clean


@require_GET
def everywhere(request: HttpRequest) -> HttpResponse:
    return answer(request, identity.identify(request.session, request.user), None)


@require_GET
def in_room(request: HttpRequest, slug: str) -> HttpResponse:
    me = identity.identify(request.session, request.user)
    room = get_object_or_404(visible_rooms(me), slug=slug)
    if me is not None:
        me = replace(me, address=limits.client_address(request))
        if (admission := restrictions.admit(room, me, request.user)).ban is not None:
            return banned(request, room, admission)
    return answer(request, me, room)


def answer(request: HttpRequest, me: identity.Identity | None, room: Room | None) -> HttpResponse:
    text = clean(request.GET.get("q", "")).strip()
    results, refusal = None, None
    if text:
        address = limits.client_address(request)
        refusal = limits.check("search", person=me and me.key, address=address)
        if refusal is None:
            scope = visible_rooms(me) if room is None else [room]
            before = record_number(request.GET.get("before"))
            results = search(text, rooms=scope, before=before)
    context = {
        "room": room,
        "q": text,
        "results": results,
        "refusal": refusal,
        "search_url": search_url(room),
    }
    template = "rooms/_search_results.html" if request.htmx else "rooms/search.html"
    return render(request, template, context, status=429 if refusal else 200)


def search_url(room: Room | None) -> str:
    return reverse("rooms:search_room", args=[room.slug]) if room else reverse("rooms:search")
