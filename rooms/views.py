from dataclasses import replace

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import push_url, reswap, retarget

from . import about as room_about
from . import (
    access,
    direct,
    editing,
    history,
    identity,
    limits,
    lobby,
    members,
    mentions,
    my_rooms,
    reacting,
    restrictions,
    uploads,
)
from .broadcast import DrawnPage, draw_page, newest_page
from .forms import LOOKS_TAKEN, AboutForm, ComposerForm, JoinForm, MessageForm, SignupForm
from .live import presence
from .models import AUTHOR_MAX_LENGTH, Message, Room
from .posting import new_key
from .templatetags.chat import mention_tag


def see_other(url: str) -> HttpResponse:
    """Redirect after a POST with 303, so a reload never posts again."""
    response = redirect(url)
    response.status_code = 303
    return response


def too_many(request: HttpRequest, template: str, form, refusal: str) -> HttpResponse:
    form.add_error(None, refusal)
    return render(request, template, {"form": form}, status=429)


@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = JoinForm(request.POST, member=request.user)
        if refusal := limits.check("join", address=limits.client_address(request)):
            return too_many(request, "rooms/join.html", form, refusal)
        if form.is_valid():
            return see_other(enter(request, form).get_absolute_url())
    else:
        known = identity.identify(request.session, request.user)
        form = JoinForm(
            initial={"room_name": request.GET.get("room", ""), "username": known and known.name},
            member=request.user,
        )
    # An error keeps the lobby below the form: the rooms to pick from are still there.
    context = {
        "form": form,
        "lobby": lobby.listing(),
        **conversations_listed(request),
        **my_rooms.home_context(request),
    }
    return render(request, "rooms/join.html", context, status=400 if form.errors else 200)


def conversations_listed(request: HttpRequest) -> dict:
    """The home page's "Your conversations" (none for guests)."""
    listed = direct.conversations_of(person(request), limit=direct.ON_THE_HOME_PAGE)
    return {"conversations": listed}


@require_GET
def workshop_room(request: HttpRequest, room_name: str, username: str) -> HttpResponse:
    """The workshop's /room/<room>/<name>/ links: the join form, filled in.

    Any site can send a browser to a link, so following one changes nothing: the
    person's own "Enter the room" (a POST with its CSRF token, counted like every
    join) does. Someone already in under that name goes straight to the room.
    """
    form = JoinForm({"room_name": room_name, "username": username}, member=request.user)
    if not form.is_valid():
        return render(request, "rooms/join.html", {"form": form}, status=400)
    me = identity.identify(request.session, request.user)
    room = Room.objects.open().filter(slug=slugify(form.cleaned_data["room_name"])).first()
    if room and me and me.name == form.cleaned_data.get("username", me.name):
        return redirect(room)
    return render(request, "rooms/join.html", {"form": form})


def to_join(room: Room) -> HttpResponse:
    """Not joined: the join form, with the room filled in."""
    return redirect(f"{reverse('rooms:join')}?{urlencode({'room': room.name})}")


def person(request: HttpRequest) -> identity.Identity | None:
    """Who is asking, and from which address (for the per-address rate limits)."""
    me = identity.identify(request.session, request.user)
    return me and replace(me, address=limits.client_address(request))


def enter(request: HttpRequest, form: JoinForm) -> Room:
    name = form.cleaned_data.get("username")
    if name is not None:
        members.take_name(request.session, name)
    return Room.objects.for_name(form.cleaned_data["room_name"])


@require_http_methods(["GET", "HEAD", "POST"])
def room(request: HttpRequest, slug: str) -> HttpResponse:
    me = person(request)
    room = access.room_or_404(slug, me)
    drawn_for = request.POST.get(identity.PAGE_FIELD)
    if me is None:
        if drawn_for is not None:
            return not_sent(request, room, request.POST.get("message", ""))
        return to_join(room)
    if (admission := restrictions.admit(room, me, request.user)).ban is not None:
        return banned(request, room, admission)
    form = ComposerForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and not identity.drawn_for(drawn_for, me):
        # Sent from a page drawn for another name (changed in another tab): never post
        # it under the new one unseen. The text stays in the box of a page for the new name.
        form.add_error("message", renamed_refusal(me))
        status = 409
    elif request.method == "POST" and form.is_valid():
        # The plain-form path for pages without JavaScript (or without a socket), files too.
        text, key = form.cleaned_data["message"], form.cleaned_data["key"]
        try:
            reply_to = form.cleaned_data["reply_to"]
            message = uploads.post_with_files(room, me, text, key, form.attached, reply_to)
        except ValidationError as error:
            form.add_error("message", error.message_dict.get("body", error.messages))
            status = 429 if limits.is_rate_limited(error) else 400
        else:
            return see_other(f"{room.get_absolute_url()}#message-{message.pk}")
    elif form.errors:
        status = 400
    return room_page(request, room, me, form, status=status)


def banned(request: HttpRequest, room: Room, admission: restrictions.Admission) -> HttpResponse:
    """Someone banned from the room: why, and nothing of the room."""
    context = {"room": room, "refusal": admission.refusal, "banned_text": restrictions.BANNED}
    return render(request, "rooms/banned.html", context, status=403)


# The titles of the pages that change one message, without JavaScript.
EDIT_TITLE = gettext_lazy("Edit a message")
DELETE_TITLE = gettext_lazy("Delete a message")
REACT_TITLE = gettext_lazy("React to a message")


def renamed_refusal(me: identity.Identity) -> str:
    return gettext(
        "Not sent: you are now %(name)s in this browser (changed in another tab). "
        "Send it again to post it as %(name)s."
    ) % {"name": me.name}


def not_sent(request: HttpRequest, room: Room, text: str) -> HttpResponse:
    """A plain post from a page whose person left in another tab: nothing is posted,
    and the text is shown to copy, with the way back in."""
    context = {"room": room, "text": text}
    return render(request, "rooms/not_sent.html", context, status=409)


def room_page(request, room, me, form, *, about_form=None, status=200) -> HttpResponse:
    reply = replying_to(request, room, form)
    if request.htmx and request.method == "GET" and "reply" in request.GET:
        return reply_bar(request, room, reply)  # Cancel: the bar emptied
    page = history_page(request, room)
    if request.htmx and request.method == "GET" and "before" in request.GET:
        # The history loader: just the older messages and the next loader.
        return render(request, "rooms/older.html", {"room": room, "page": page})
    context = {
        "room": room,
        "me": me,
        "me_tag": me.tag,
        # Sent back by the page's socket and forms: who the page was drawn for.
        "page_tag": identity.page_tag(me),
        # Messages that mention you stand out (the page's own <style>).
        "me_mention": mention_tag(me.name),
        "page": page,
        # Reading back: a plain page, no live updates appended after a gap.
        "archive": not page.is_latest,
        # Staff, and the room's owner and moderators: every message's delete control shows,
        # and a link to the moderation page; the server checks again on use.
        "moderator": restrictions.moderates(room, me, request.user),
        "form": form,
        "reply": reply,
        # The viewer is here too, with or without a socket.
        "here": presence.here_now(room.pk, viewer=me),
        # Drawn fresh on every render: the key of the message this page's form will send.
        "message_key": new_key(),
        "about_form": about_form or AboutForm(initial=about_values(room)),
        # A conversation's header names the people in it besides the viewer.
        "conversation": direct.people(room, me),
        # The rooms I joined, with their unread counts, and where this one was read up to.
        **my_rooms.room_context(request, room, me, page),
    }
    return render(request, "rooms/room.html", context, status=status)


def replying_to(request: HttpRequest, room: Room, form: MessageForm) -> Message | None:
    """The message the box replies to: ?reply=<id> (a message's Reply button without
    JavaScript), or the one a refused plain post replied to; None for any other value."""
    pk = request.GET.get("reply") if request.method == "GET" else form.data.get("reply_to")
    number = history.cursor(pk)
    return None if number is None else room.messages.filter(pk=number).first()


def history_page(request: HttpRequest, room: Room) -> DrawnPage:
    """The page of messages a room URL asks for, drawn: ?before=<seq>, ?after=<seq>,
    ?at=<seq> (a message's link) or the newest (drawn once per room revision)."""
    if (at := history.cursor(request.GET.get("at"))) is not None:
        return draw_page(history.around(room, at))
    if (before := history.cursor(request.GET.get("before"))) is not None:
        return draw_page(history.before(room, before))
    if (after := history.cursor(request.GET.get("after"))) is not None:
        return draw_page(history.after(room, after))
    return newest_page(room)


@require_GET
def mention_options(request: HttpRequest, slug: str) -> HttpResponse:
    """The names the message box offers after "@" and the start of a name (?q=)."""
    me = person(request)
    room = access.room_or_404(slug, me)
    if me is None:
        return HttpResponse(status=403)
    people = mentions.candidates(room, me, request.GET.get("q", "")[:AUTHOR_MAX_LENGTH])
    return render(request, "rooms/_mention_options.html", {"people": people})


def about_values(room: Room) -> dict[str, str]:
    return {field: getattr(room, field) for field in room_about.FIELDS}


@require_POST
def about(request: HttpRequest, slug: str) -> HttpResponse:
    """The plain-form path for changing the topic or the description."""
    me = person(request)
    room = access.room_or_404(slug, me)
    if me is None:
        return to_join(room)
    if (admission := restrictions.admit(room, me, request.user)).ban is not None:
        return banned(request, room, admission)
    field = next((f for f in room_about.FIELDS if f in request.POST), None)
    # The other field keeps what the room has, so only the one sent can be wrong.
    form = AboutForm({**about_values(room), **({field: request.POST[field]} if field else {})})
    status = 400
    if field is None:
        form.add_error(None, gettext("Send a new topic or description."))
    elif form.is_valid():
        try:
            room = room_about.change(room, me, field, form.cleaned_data[field])
        except ValidationError as error:
            form.add_error(field, error.message_dict[field])
            status = 429 if limits.is_rate_limited(error, field) else 400
        else:
            return see_other(room.get_absolute_url())
    return room_page(request, room, me, MessageForm(), about_form=form, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def edit_message(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit one's own message: the form (a page, or the fragment htmx opens in place),
    and the plain POST that stores the edit and shows it live to everyone."""
    me = person(request)
    message = find_message(slug, pk, me)
    if me is None:
        return to_join(message.room)
    form = MessageForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST" and form.is_valid():
        try:
            message, _changed = editing.edit_message(
                message.room, me, message.pk, form.cleaned_data["message"]
            )
        except editing.Refused as refused:
            return refuse(request, message, EDIT_TITLE, str(refused), refused.status)
        except ValidationError as invalid:
            error = " ".join(invalid.message_dict.get("body", invalid.messages))
            status = 429 if limits.is_rate_limited(invalid) else 400
        else:
            return see_other(f"{message.room.get_absolute_url()}#message-{message.pk}")
    elif form.errors:
        error, status = " ".join(form.errors["message"]), 400
    elif not editing.can_edit(message, me):
        refusal = (
            gettext("That message was deleted; it can't be edited.")
            if message.deleted
            else editing.NOT_YOURS_TO_EDIT
        )
        return refuse(request, message, EDIT_TITLE, refusal, 403)
    value = request.POST.get("message", message.body)
    context = {"message": message, "value": value, "error": error}
    return change_page(request, EDIT_TITLE, "rooms/_message_edit.html", context, status)


@require_http_methods(["GET", "HEAD", "POST"])
def delete_message(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete a message (one's own, or anyone's as staff): asks first, then the plain
    POST leaves a tombstone and shows it live to everyone."""
    me = identity.identify(request.session, request.user)
    message = find_message(slug, pk, me)
    if request.method == "POST":
        try:
            editing.delete_message(message.room, me, message.pk, request.user)
        except editing.Refused as refused:
            return refuse(request, message, DELETE_TITLE, str(refused), refused.status)
        return see_other(f"{message.room.get_absolute_url()}#message-{message.pk}")
    if message.deleted:
        return refuse(
            request, message, DELETE_TITLE, gettext("That message is already deleted."), 410
        )
    if not editing.can_delete(message, me, request.user):
        return refuse(request, message, DELETE_TITLE, editing.NOT_YOURS_TO_DELETE, 403)
    context = {"message": message}
    return change_page(request, DELETE_TITLE, "rooms/_message_delete.html", context)


def change_page(request, title: str, form_template: str, context: dict, status: int = 200):
    """The form alone for htmx (it opens inside the message), else a page around it."""
    if request.htmx:
        # Opened in place by a boosted form: the address stays the room's.
        return push_url(render(request, form_template, context, status=status), False)
    context |= {"title": title, "form_template": form_template}
    return render(request, "rooms/message_change.html", context, status=status)


def refuse(request, message: Message, title: str, reason: str, status: int) -> HttpResponse:
    context = {"title": title, "message": message, "refusal": reason}
    return render(request, "rooms/message_change.html", context, status=status)


def find_message(slug: str, pk: int, me: identity.Identity | None) -> Message:
    """A message of the room at `slug`, with all it is drawn with (its page shows it);
    none in a private room `me` is not in."""
    drawn = Message.objects.drawn().select_related("room")
    found = get_object_or_404(drawn, pk=pk, room__slug=slug)
    access.hidden_from(found.room, me)
    return found


@require_http_methods(["GET", "HEAD", "POST"])
def react(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """React to a message: the picker (a page, or opened inside the message by htmx), and
    the plain POST that gives or takes back a reaction and shows it live to everyone."""
    me = person(request)
    message = find_message(slug, pk, me)
    if me is None:
        return to_join(message.room)
    error, status = "", 200
    value = request.POST.get("reaction", request.GET.get("reaction", ""))
    if request.method == "POST":
        try:
            reacting.react(message.room, me, message.pk, value)
        except editing.Refused as refused:
            return refuse(request, message, REACT_TITLE, str(refused), refused.status)
        except ValidationError as invalid:
            error = " ".join(invalid.message_dict.get("reaction", invalid.messages))
            status = 429 if limits.is_rate_limited(invalid, "reaction") else 400
        else:
            return see_other(f"{message.room.get_absolute_url()}#message-{message.pk}")
    elif message.deleted:
        return refuse(request, message, REACT_TITLE, reacting.DELETED, 410)
    context = {"message": message, "picker": reacting.PICKER, "value": value, "error": error}
    return change_page(request, REACT_TITLE, "rooms/_message_react.html", context, status)


def reply(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Reply to a message: what goes above the box (htmx), or the room with it there."""
    me = person(request)
    found = find_message(slug, pk, me)
    if me is None:
        return to_join(found.room)
    if request.htmx:
        return reply_bar(request, found.room, found)
    return redirect(f"{found.room.get_absolute_url()}?reply={found.pk}#composer-reply")


def reply_bar(request: HttpRequest, room: Room, reply: Message | None) -> HttpResponse:
    """What goes above the box, sent there whichever element asked (a message's Reply is
    a button of the message's boosted form, aimed inside the message)."""
    drawn = render(request, "rooms/_composer_reply.html", {"room": room, "reply": reply})
    return push_url(reswap(retarget(drawn, "#composer-reply"), "outerHTML"), False)


# A message's actions start at its own address: each button of rooms/_message_actions.html
# sends ?do=<its name>, so a message carries one address for all of them.
MESSAGE_ACTIONS = {"reply": reply, "react": react, "edit": edit_message, "delete": delete_message}


@require_GET
def message(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A message's own address: the room opened at it, with what was said around it; with
    ?do=, where one of its actions starts (the reply, reaction, edit or delete form)."""
    if (action := MESSAGE_ACTIONS.get(request.GET.get("do", ""))) is not None:
        return action(request, slug, pk)
    found = get_object_or_404(Message.objects.select_related("room"), pk=pk, room__slug=slug)
    access.hidden_from(found.room, person(request))
    return redirect(f"{found.room.get_absolute_url()}?at={found.seq}#message-{found.pk}")


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    next_url = return_to(request)
    if request.method == "POST":
        if refusal := limits.check("signup", address=limits.client_address(request)):
            return too_many(request, "registration/signup.html", form, refusal)
        if form.is_valid():
            try:
                user = form.save()
            except IntegrityError:
                form.add_error("username", LOOKS_TAKEN)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                return see_other(next_url or reverse("rooms:join"))
    status = 400 if form.errors else 200
    context = {"form": form, "next": next_url}
    return render(request, "registration/signup.html", context, status=status)


def return_to(request: HttpRequest) -> str:
    """Where a sign-up goes back to (`next`, as for logging in): a page of this site only."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else ""
