"""Pictures and files on messages: the one path a message with files takes.

Each file is checked against the limits in settings (how many, how big, what kind),
pictures are opened by Pillow (their own format decides, not the name or what the
browser said), re-encoded without their metadata (a phone's photo carries where it
was taken) and thumbnailed. The files are written to storage first, outside any
transaction (a slow store must not hold the room's lock), then the message and its
rows are stored in one transaction through rooms/posting.py and announced once, on
commit, like any other message. Whatever fails on the way removes what was written.
"""

import io
import logging
import mimetypes
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from . import limits
from .identity import Identity
from .models import DRAWN_ATTACHMENTS, Attachment, Message, Room
from .posting import post_message, stored_with_keys

# What Parley shows as a picture: the formats browsers draw, told by Pillow from the
# bytes. SVG is not among them: it can hold scripts, so it is a file like any other.
PICTURE_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
PICTURE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# The thumbnail drawn in the message: within this box, its aspect kept.
THUMBNAIL_SIZE = (480, 360)
NAME_MAX_LENGTH = 255

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """One file, checked and ready to store."""

    name: str
    content: bytes
    content_type: str
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None


def refused(reason: str, code: str) -> ValidationError:
    # On "body", beside the box, like every other reason a message was not sent.
    return ValidationError({"body": ValidationError(reason, code=code)})


def post_with_files(
    room: Room,
    me: Identity,
    text: str,
    key: str | None,
    files: Sequence[UploadedFile],
    reply_to: int | None = None,
) -> Message:
    """Post a message with its files (none: an ordinary message), replying to message
    `reply_to` of the room when it is not None. Raises ValidationError
    on `body` with the reason, naming the file and the limit; nothing is stored then.

    A key already stored in the room answers with that message, as posting does, without
    reading or storing the files again (a retry after a lost answer).
    """
    if not files:
        return post_message(room, me, text, key, reply_to)
    if key and stored_with_keys({(room.pk, key)}):
        return post_message(room, me, text, key, reply_to, attached=True)
    limits.enforce("upload", "body", person=me.key, address=me.address)
    if len(files) > settings.PARLEY_UPLOAD_MAX_FILES:
        raise refused(
            _("Send at most %(most)s files with one message (you chose %(chosen)s).")
            % {"most": settings.PARLEY_UPLOAD_MAX_FILES, "chosen": len(files)},
            "too_many_files",
        )
    prepared = [prepare(upload) for upload in files]
    attachments = [store(each) for each in prepared]
    try:
        with transaction.atomic():
            message = post_message(room, me, text, key, reply_to, attached=True)
            if not message.repeated:
                for attachment in attachments:
                    attachment.message = message
                Attachment.objects.bulk_create(attachments)
                # Read with the message before it is announced (on commit): drawing it may
                # happen on the event loop, where no query may run.
                prefetch_related_objects([message], DRAWN_ATTACHMENTS)
    except BaseException:
        forget(attachments)
        raise
    if message.repeated:  # stored meanwhile by another request with this key
        forget(attachments)
    return message


def store(prepared: Prepared) -> Attachment:
    """Write a file (and its thumbnail) to storage; the row is saved with its message."""
    attachment = Attachment(
        name=prepared.name,
        size=len(prepared.content),
        content_type=prepared.content_type,
        width=prepared.width,
        height=prepared.height,
    )
    # Stored under the attachment's token (models.attachment_path): the name given here
    # is never used as a path.
    attachment.file.save("file", ContentFile(prepared.content), save=False)
    if prepared.thumbnail is not None:
        attachment.thumbnail.save("thumbnail", ContentFile(prepared.thumbnail), save=False)
    return attachment


def forget(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        for stored in (attachment.file, attachment.thumbnail):
            if stored:
                stored.storage.delete(stored.name)


def prepare(upload: UploadedFile) -> Prepared:
    """Check one file against the limits; a picture comes back re-encoded with its thumbnail."""
    name = shown_name(upload.name or "")
    size = upload.size or 0
    if size > settings.PARLEY_UPLOAD_MAX_BYTES:
        raise refused(
            f"“{name}” is {filesizeformat(size)}; "
            f"a file can be at most {filesizeformat(settings.PARLEY_UPLOAD_MAX_BYTES)}.",
            "too_large",
        )
    if size == 0:
        raise refused(f"“{name}” is empty.", "empty")
    extension = PurePath(name).suffix.lower()
    allowed = {kind.lower() for kind in settings.PARLEY_UPLOAD_TYPES}
    if extension not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise refused(
            f"“{name}”: files of this kind can't be sent. These can: {kinds}.", "file_type"
        )
    upload.seek(0)
    content = upload.read()
    picture = open_picture(content, name)
    if picture is not None:
        return picture
    if extension in PICTURE_EXTENSIONS:
        # Named as a picture but not one: never drawn, and better refused than offered
        # as a download under a misleading name.
        raise refused(
            f"“{name}” is not a picture Parley can read (PNG, JPEG, GIF or WebP).", "not_picture"
        )
    content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
    return Prepared(name=name, content=content, content_type=content_type)


def shown_name(name: str) -> str:
    """The name as it will be shown and offered for download: its last part only, without
    control or formatting characters (which could hide or reverse its extension)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Zl", "Zp"})
    name = name.strip().lstrip(".") or "file"
    if len(name) > NAME_MAX_LENGTH:
        stem, extension = PurePath(name).stem, PurePath(name).suffix[:20]
        name = stem[: NAME_MAX_LENGTH - len(extension)] + extension
    return name


def open_picture(content: bytes, name: str) -> Prepared | None:
    """A picture re-encoded and thumbnailed; None when the bytes are not a picture of a
    format Parley shows. Raises ValidationError for a damaged one or one too big to open."""
    too_big = refused(
        f"“{name}” is too large a picture to open "
        f"(at most {settings.PARLEY_UPLOAD_MAX_PIXELS:,} pixels).",
        "picture_too_large",
    )
    damaged = refused(f"“{name}” looks like a picture but can't be read.", "damaged")
    try:
        # Opening reads the header only: the size is known before anything is decoded.
        with Image.open(io.BytesIO(content), formats=list(PICTURE_FORMATS)) as checked:
            kind = checked.format
            frames = getattr(checked, "n_frames", 1)
            if checked.width * checked.height * frames > settings.PARLEY_UPLOAD_MAX_PIXELS:
                raise too_big
            checked.verify()
        # verify() leaves the picture unusable: open it again to decode it.
        with Image.open(io.BytesIO(content), formats=list(PICTURE_FORMATS)) as picture:
            return reencode(picture, kind, name)
    except UnidentifiedImageError:
        return None
    # Pillow's own guard, past twice its default limit (or its warning, where warnings
    # are errors): our limit above is lower, but either way it is a refusal.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except ValidationError:
        raise
    except Exception:
        # A damaged or hostile file fails in Pillow in many ways (OSError, SyntaxError,
        # struct.error, …): each is a refusal with a reason, never a server error.
        log.info("upload: picture refused as unreadable", exc_info=True)
        raise damaged from None


def reencode(picture: Image.Image, kind: str, name: str) -> Prepared:
    """The picture saved anew, which leaves its metadata (EXIF: where and when it was
    taken, the camera) behind; its orientation is applied to the pixels first, so it still
    shows the right way up. Animations keep their frames."""
    out = io.BytesIO()
    animated = getattr(picture, "is_animated", False)
    if animated:
        # Frames as they are: an animation has no camera orientation to apply.
        picture.info.pop("exif", None)
        picture.info.pop("xmp", None)
        picture.save(out, format=kind, save_all=True)
        picture.seek(0)  # the thumbnail shows the first frame
        first = picture.copy()
    else:
        upright = ImageOps.exif_transpose(picture)
        if kind == "JPEG" and upright.mode not in {"RGB", "L", "CMYK"}:
            upright = upright.convert("RGB")
        options = {"quality": 90} if kind in {"JPEG", "WEBP"} else {}
        icc = picture.info.get("icc_profile")
        if icc:
            options["icc_profile"] = icc  # colours, not metadata about the person
        upright.save(out, format=kind, **options)
        first = upright
    thumbnail = first.convert("RGBA" if has_alpha(first) else "RGB")
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    small = io.BytesIO()
    thumbnail.save(small, format="WEBP", quality=85)
    return Prepared(
        name=name,
        content=out.getvalue(),
        content_type=PICTURE_FORMATS[kind],
        thumbnail=small.getvalue(),
        width=thumbnail.width,
        height=thumbnail.height,
    )


def has_alpha(picture: Image.Image) -> bool:
    return picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info
