"""Files on messages over HTTP: the message box's upload, and serving what was stored.

Uploads never travel over the socket: the page posts them here (or, without JavaScript,
with the room's plain form), and the message is announced to the room like any other
once it is stored (rooms/uploads.py). Stored files are served by these views only,
after `can_see`, never from a public media address, and never so that a browser would
run them: anything but a picture Parley re-encoded itself is a download.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.views.decorators.http import require_POST, require_safe

from . import access, identity, limits, restrictions
from .forms import ComposerForm
from .models import Attachment, Room
from .posting import new_key
from .uploads import post_with_files
from .views import person, renamed_refusal

# Types a browser would run or draw as a page if it opened them: always sent as bytes.
ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
}
# On every file served: nothing in it runs, loads or is guessed into another type.
FILE_POLICY = "default-src 'none'; sandbox"


def can_see(room: Room, request: HttpRequest) -> bool:
    """Whether whoever asks may see the room's files: whoever may see the room
    (rooms/access.py) and is not banned from it; a private room's files are not there for
    anyone else (a 404)."""
    me = person(request)
    access.hidden_from(room, me)
    return access.can_see(room, me) and restrictions.admit(room, me, request.user).ban is None


def largest_post() -> int:
    """The most a post with files may weigh: every file at its largest, and room for the text."""
    return settings.PARLEY_UPLOAD_MAX_BYTES * settings.PARLEY_UPLOAD_MAX_FILES + 1024 * 1024


def answer(request: HttpRequest, error: str, key: str | None, status: int) -> HttpResponse:
    """The message box's error line, as the socket answers a message: empty when stored."""
    context = {"error": error, "key": key}
    return render(request, "rooms/_composer_error.html", context, status=status)


@require_POST
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    """The message box's post when files are chosen (static/js/attach.js)."""
    me = person(request)
    room = access.room_or_404(slug, me)
    if me is None:
        return answer(request, gettext("Join the room to send files."), None, 403)
    # Told before the body is read: nothing that size would be stored anyway.
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > largest_post():
        reason = gettext(
            "That is too much to send at once: at most %(files)s files of up to %(size)s each."
        ) % {
            "files": settings.PARLEY_UPLOAD_MAX_FILES,
            "size": filesizeformat(settings.PARLEY_UPLOAD_MAX_BYTES),
        }
        return answer(request, reason, None, 413)
    form = ComposerForm(request.POST, request.FILES)
    key = request.POST.get("key") or None
    if not identity.drawn_for(request.POST.get(identity.PAGE_FIELD), me):
        return answer(request, renamed_refusal(me), key, 409)
    if not form.is_valid():
        reasons = " ".join(reason for field in form.errors.values() for reason in field)
        return answer(request, reasons, key, 400)
    try:
        text, key, reply_to = (form.cleaned_data[f] for f in ("message", "key", "reply_to"))
        post_with_files(room, me, text, key, form.attached, reply_to)
    except ValidationError as error:
        reasons = " ".join(error.message_dict.get("body", error.messages))
        return answer(request, reasons, key, 429 if limits.is_rate_limited(error) else 400)
    # Stored: the box made ready for the next message, by the server's own partials.
    context = {"error": "", "key": key, "room": room, "message_key": new_key()}
    return render(request, "rooms/_composer_sent.html", context)


def find(slug: str, token: str) -> Attachment:
    return get_object_or_404(
        Attachment.objects.select_related("message__room"),
        token=token,
        message__room__slug=slug,
        message__deleted__isnull=True,
    )


@require_safe
def attachment(request: HttpRequest, slug: str, token: str, name: str) -> HttpResponse:
    """A stored file: a picture Parley re-encoded is shown, anything else downloaded."""
    found = find(slug, token)
    if not can_see(found.message.room, request):
        return HttpResponse(gettext("Join the room to see its files."), status=403)
    content_type = found.content_type
    if content_type in ACTIVE_TYPES or not content_type.isascii():
        content_type = "application/octet-stream"
    return serve(found.file, content_type, found.name, inline=found.is_image)


@require_safe
def thumbnail(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    found = find(slug, token)
    if not found.thumbnail:
        raise Http404("no thumbnail")
    if not can_see(found.message.room, request):
        return HttpResponse(gettext("Join the room to see its files."), status=403)
    return serve(found.thumbnail, "image/webp", found.name, inline=True)


def serve(stored, content_type: str, name: str, *, inline: bool) -> HttpResponse:
    try:
        opened = stored.open("rb")
    except FileNotFoundError:
        raise Http404("file gone") from None
    response = FileResponse(
        opened, content_type=content_type, as_attachment=not inline, filename=name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    # Only this person's browser may keep it: the room decides who sees it.
    response["Cache-Control"] = "private, max-age=3600"
    return response
