"""A room's day pages and its downloads (rooms/transcripts.py reads, rooms/exports.py writes)."""

import datetime

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from . import access, editing, exports, identity, transcripts
from .broadcast import draw_message
from .files import can_see
from .models import Membership, Room
from .views import to_join


def refused(request: HttpRequest, room: Room, title: str, reason: str, status: int):
    context = {"room": room, "title": title, "refusal": reason}
    return render(request, "rooms/refused.html", context, status=status)


def unknown_format(request: HttpRequest, room: Room) -> HttpResponse | None:
    """A 400 page for a ?format= no download comes in; None when it is fine."""
    kind = request.GET.get("format")
    if kind is None or kind in exports.FORMATS:
        return None
    return refused(request, room, _("No such format"), exports.UNKNOWN_FORMAT, 400)


@require_safe
def day(request: HttpRequest, slug: str, day: datetime.date) -> HttpResponse:
    """One day of a room, readable without JavaScript, or (?format=) as a download."""
    room = get_object_or_404(Room, slug=slug)
    if not can_see(room, request):
        return to_join(room)
    if (bad := unknown_format(request, room)) is not None:
        return bad
    if (kind := request.GET.get("format")) is not None:
        pages = transcripts.in_pages(transcripts.on_day(room, day))
        return exports.download(pages, kind, f"{room.slug}-{day.isoformat()}")
    found = transcripts.read_day(room, day)
    drawn = [draw_message(message) for message in found.messages]
    zone = timezone.get_current_timezone_name()
    context = {"room": room, "day": found, "drawn": drawn, "zone": zone}
    return render(request, "rooms/day.html", context)


@require_safe
def export(request: HttpRequest, slug: str) -> HttpResponse:
    """The whole room as a download, for staff and the room's owner."""
    me = identity.identify(request.session, request.user)
    room = access.room_or_404(slug, me)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    owner = access.role(room, me) == Membership.Role.OWNER
    if not (owner or editing.is_moderator(request.user)):
        reason = _(
            "Only the room's owner and staff can export a whole room. "
            "Each day's page has its own download."
        )
        return refused(request, room, _("Export a room"), reason, 403)
    if (bad := unknown_format(request, room)) is not None:
        return bad
    kind = request.GET.get("format", "txt")
    pages = transcripts.in_pages(room.messages.all())
    return exports.download(pages, kind, f"{room.slug}-all-{transcripts.today().isoformat()}")
