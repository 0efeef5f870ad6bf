"""The moderation page (/rooms/<slug>/moderation/): who spoke lately and what to do about
them, the room's mutes, bans and moderators, and its log. Plain forms, each a POST back to
the page with what to do (`do`), answered with 303 to the page; rooms/moderation.py
decides who may do what.
"""

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import access, moderation, modlog, restrictions
from .editing import Refused
from .models import Room, record_number
from .views import person, see_other
from .words import Words

NOT_ALLOWED = Words("Only this room's owner, its moderators and site staff can moderate it.")
UNKNOWN = Words("Pick something to do.")


def minutes(request: HttpRequest) -> int | None:
    return record_number(request.POST.get("minutes"))


def reason(request: HttpRequest) -> str:
    return request.POST.get("reason", "")


# What each button does: its `do`, and the domain call it makes with the form's values.
ACTIONS = {
    "mute": lambda room, me, user, key, request: moderation.mute(
        room, me, user, key, minutes(request), reason(request)
    ),
    "unmute": lambda room, me, user, key, request: moderation.unmute(room, me, user, key),
    "ban": lambda room, me, user, key, request: moderation.ban(
        room, me, user, key, request.POST.get("address") == "on", reason(request)
    ),
    "unban": lambda room, me, user, key, request: moderation.unban(room, me, user, key),
    "remove_all": lambda room, me, user, key, request: moderation.remove_all(room, me, user, key),
    "appoint": lambda room, me, user, key, request: moderation.appoint(room, me, user, key),
    "dismiss": lambda room, me, user, key, request: moderation.dismiss(room, me, user, key),
}


@require_http_methods(["GET", "HEAD", "POST"])
def page(request: HttpRequest, slug: str) -> HttpResponse:
    me = person(request)
    room = access.room_or_404(slug, me)
    mine = moderation.standing(room, me, request.user)
    if mine < moderation.MODERATOR:
        refused = {
            "title": _("Moderate %(room)s") % {"room": room.name},
            "room": room,
            "refusal": NOT_ALLOWED,
        }
        return render(request, "rooms/refused.html", refused, status=403)
    error, status = "", 200
    if request.method == "POST":
        action = ACTIONS.get(request.POST.get("do", ""))
        key = request.POST.get("target", "")
        try:
            if action is None:
                raise ValidationError(UNKNOWN)
            action(room, me, request.user, key, request)
        except Refused as refused:
            error, status = str(refused), refused.status
        except ValidationError as invalid:
            error, status = " ".join(invalid.messages), 400
        else:
            return see_other(reverse("rooms:moderation", args=[room.slug]))
    return render(
        request,
        "rooms/moderation.html",
        page_context(request, room, me, mine, error),
        status=status,
    )


def page_context(request: HttpRequest, room: Room, me, mine: int, error: str) -> dict:
    before = record_number(request.GET.get("before"))
    actions = moderation.log_page(room, before)
    mutes, bans = moderation.current_mutes(room), moderation.current_bans(room)
    for each in [*mutes, *bans]:
        each.name = modlog.name_in(room, each.key)
    return {
        "room": room,
        "me": me,
        "mine": mine,
        "owner": mine >= moderation.OWNER,
        "error": error,
        "people": moderation.recent_people(room),
        "mutes": mutes,
        "bans": bans,
        "moderators": moderation.moderators(room),
        "actions": actions[: moderation.LOG_PAGE],
        "older": actions[moderation.LOG_PAGE - 1].pk
        if len(actions) > moderation.LOG_PAGE
        else None,
        "mute_choices": moderation.MUTE_CHOICES,
        "banned_text": restrictions.BANNED,
    }
