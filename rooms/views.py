from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods

from . import identity
from .broadcast import publish_sync
from .forms import JoinForm, MessageForm
from .models import Room, author_tag


def see_other(url: str) -> HttpResponse:
    """Redirect after a POST with 303, so a reload never posts again."""
    response = redirect(url)
    response.status_code = 303
    return response


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = JoinForm(request.POST)
        if form.is_valid():
            return see_other(enter(request, form).get_absolute_url())
    else:
        form = JoinForm(
            initial={
                "room_name": request.GET.get("room", ""),
                "username": identity.display_name(request.session) or "",
            }
        )
    return render(request, "rooms/join.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def workshop_room(request: HttpRequest, room_name: str, username: str) -> HttpResponse:
    """The workshop's /room/<room>/<name>/ links: join, then go to the canonical URL."""
    form = JoinForm({"room_name": room_name, "username": username})
    if form.is_valid():
        return redirect(enter(request, form))
    return render(request, "rooms/join.html", {"form": form}, status=400)


def enter(request: HttpRequest, form: JoinForm) -> Room:
    identity.remember(request.session, form.cleaned_data["username"])
    return Room.objects.for_name(form.cleaned_data["room_name"])


@require_http_methods(["GET", "POST"])
def room(request: HttpRequest, slug: str) -> HttpResponse:
    room = get_object_or_404(Room, slug=slug)
    name = identity.display_name(request.session)
    if name is None:
        return redirect(f"{reverse('rooms:join')}?{urlencode({'room': room.name})}")
    form = MessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The plain-form path for pages without JavaScript (or without a socket).
        try:
            message = room.post(name, form.cleaned_data["message"])
        except ValidationError as error:
            form.add_error("message", error.message_dict.get("body", error.messages))
        else:
            publish_sync(message)
            return see_other(f"{room.get_absolute_url()}#message-{message.pk}")
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "me": name,
            "me_tag": author_tag(name),
            "history": room.latest_messages(),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
