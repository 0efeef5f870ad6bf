"""The pages' side of "my rooms": the sidebar's context for a page, and Leave."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import access, reading
from .broadcast import DrawnPage
from .editing import Refused
from .identity import Identity, identify
from .models import Room


def room_context(request: HttpRequest, room: Room, me: Identity, page: DrawnPage) -> dict:
    """The room page's sidebar: the room joins the list, and when the page shows the
    newest messages it counts as read up to the last one shown. `read_up_to` is where
    it had been read before (the page's unread divider starts after it)."""
    user, session = request.user, request.session
    reading.enter(room, me, user, session)
    read_up_to = reading.position(room, me, user, session)
    if page.is_latest and page.newest:
        reading.mark_read(room, me, user, page.newest, session)
    listed = reading.my_rooms(me, user, session, current=room)
    # A list of this room alone says nothing the page does not: it shows once there is another.
    if all(entry.current for entry in listed):
        listed = []
    return {"my_rooms": listed, "read_up_to": read_up_to}


def home_context(request: HttpRequest) -> dict:
    me = identify(request.session, request.user)
    return {"my_rooms": reading.my_rooms(me, request.user, request.session) if me else []}


@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    """Take a room off my list (a plain form in the sidebar), then back where I was, unless
    that was the room itself: entering it again would put it back."""
    me = identify(request.session, request.user)
    room = access.room_or_404(slug, me)
    if me is not None:
        try:
            reading.leave(room, me, request.session)
        except Refused as refused:
            context = {"room": room, "title": _("Leave a room"), "refusal": str(refused)}
            return render(request, "rooms/refused.html", context, status=refused.status)
    back = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe or not back.startswith("/") or back.split("?")[0] == room.get_absolute_url():
        back = reverse("rooms:join")
    response = HttpResponse(status=303)
    response["Location"] = back
    return response
