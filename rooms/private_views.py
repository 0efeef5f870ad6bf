"""Private rooms' pages: making one, its members and invitations, and an invitation's link.

Each page parses, calls one domain function (rooms/memberships.py, rooms/invites.py)
and answers; who may do what is decided there. Everything works as plain forms.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import access, invites, limits, members, memberships
from .editing import Refused
from .forms import GuestNameForm, InviteForm, RoomNameForm
from .models import Room, record_number
from .views import person, see_other


@require_http_methods(["GET", "HEAD", "POST"])
def new_room(request: HttpRequest) -> HttpResponse:
    """Make a private room (members only): its owner lands in it, to invite people."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = RoomNameForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                room = memberships.create_private_room(
                    person(request), request.user, form.cleaned_data["room_name"]
                )
            except ValidationError as error:
                form.add_error("room_name", error.message_dict.get("room_name", error.messages))
                if limits.is_rate_limited(error, "room_name"):
                    status = 429
            else:
                return see_other(reverse("rooms:members", args=[room.slug]))
    return render(request, "rooms/new_room.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def room_members(request: HttpRequest, slug: str) -> HttpResponse:
    """Who is in a private room; for its owner, the invitations and the way to remove
    someone. Every action is a plain POST back here, answered with 303."""
    me = person(request)
    room = access.room_or_404(slug, me)
    if room.kind != Room.Kind.PRIVATE or me is None:
        raise Http404("Only private rooms have members.")
    form = InviteForm()
    status, refusal = 200, ""
    if request.method == "POST":
        try:
            outcome = act(request, room, me)
        except Refused as refused:
            status, refusal = refused.status, str(refused)
        except ValidationError as error:
            status = 429 if limits.is_rate_limited(error, "days") else 400
            refusal = " ".join(error.messages)
        else:
            if isinstance(outcome, InviteForm):
                form, status = outcome, 400
            else:
                return see_other(outcome)
    owner = memberships.is_owner(room, me)
    context = {
        "room": room,
        "me": me,
        "owner": owner,
        "members": memberships.members(room),
        "invites": [(i, invite_url(request, i)) for i in invites.active(room)] if owner else [],
        "form": form,
        "refusal": refusal,
    }
    return render(request, "rooms/members.html", context, status=status)


def act(request: HttpRequest, room: Room, me) -> str | InviteForm:
    """One owner's action from the members page: where to go next, or the invitation
    form back with what is wrong with it."""
    here = reverse("rooms:members", args=[room.slug])
    if "remove" in request.POST:
        memberships.remove(room, me, request.POST["remove"])
        return here
    if "revoke" in request.POST:
        if (pk := record_number(request.POST["revoke"])) is None:
            raise Refused(_("That invitation is not this room's."), status=404)
        invites.revoke(room, me, pk)
        return here
    form = InviteForm(request.POST)
    if not form.is_valid():
        return form
    invite = invites.create(room, me, **form.cleaned_data)
    return f"{here}#invite-{invite.pk}"


def invite_url(request: HttpRequest, invite) -> str:
    path = reverse("rooms:invite", args=[invites.token(invite)])
    return request.build_absolute_uri(path)


@require_http_methods(["GET", "HEAD", "POST"])
def invite(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's link. Opening it changes nothing (a link preview must not join
    anyone); the person's own Join does. A guest may pick their name here when the
    invitation lets guests in."""
    try:
        found = invites.find(token)
    except invites.InviteRefused as refused:
        context = {"refusal": str(refused)}
        return render(request, "rooms/invite.html", context, status=refused.status)
    room, me = found.room, person(request)
    if me is not None and access.can_see(room, me):
        return see_other(room.get_absolute_url())
    form = GuestNameForm(request.POST or None) if me is None and found.guests else None
    status = 200
    if request.method == "POST":
        if form is not None:
            if not form.is_valid():
                return invite_page(request, found, form, status=400)
            members.take_name(request.session, form.cleaned_data["username"])
            me = person(request)
        if me is None:
            return redirect_to_login(request.get_full_path())
        try:
            room = invites.accept(token, me, request.user)
        except invites.InviteRefused as refused:
            context = {"refusal": str(refused)}
            return render(request, "rooms/invite.html", context, status=refused.status)
        return see_other(room.get_absolute_url())
    return invite_page(request, found, form, status=status)


def invite_page(request, found, form, status: int) -> HttpResponse:
    context = {"invite": found, "room": found.room, "form": form, "me": person(request)}
    return render(request, "rooms/invite.html", context, status=status)
