"""Pictures and files on messages: the plain multipart form, the box's upload address,
what is stored and how it is served, hostile files, limits, deletion and retries, and what
the room's other sockets hear while an upload is processed."""

import asyncio
import html
import io
import json
import os
import re
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ExifTags, Image

from rooms import broadcast, limits, uploads
from rooms.identity import Identity
from rooms.models import Attachment, Message
from rooms.posting import new_key

from .helpers import box_text, joined_socket, make_room, next_is, open_socket

ROOM = "/rooms/django-girls/"
UPLOADS = "/rooms/django-girls/uploads/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """Each test stores its files in a folder of its own (the default storage)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored(media: Path) -> list[Path]:
    return sorted(path for path in media.rglob("*") if path.is_file())


def png(width: int = 1200, height: int = 600, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), "teal" if mode == "RGB" else 0).save(out, "PNG")
    return out.getvalue()


def jpeg_taken_somewhere() -> bytes:
    """A phone's photo: 200x100 pixels stored sideways (EXIF orientation 6: turn it a
    quarter clockwise to show it), with the camera's make and where it was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (52.0, 31.0, 0.0), 3: "E", 4: (13.0, 24.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (200, 100), "red").save(out, "JPEG", exif=exif)
    return out.getvalue()


def bomb_png(side: int = 30_000) -> bytes:
    """A real PNG of sidexside black and white pixels (900 million for 30,000): about
    100 KB on the wire, gigabytes once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\0" * (1 + (side + 7) // 8)  # filter byte, then one bit per pixel
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def send(client, text: str = "", *files, key: str | None = None, url: str = ROOM):
    return client.post(url, {"message": text, "key": key or new_key(), "files": list(files)})


def room_page(client) -> str:
    return client.get(ROOM).content.decode()


def links(page: str, css_class: str) -> list[str]:
    return [html.unescape(url) for url in re.findall(rf'class="{css_class}" src="([^"]+)"', page)]


def file_links(page: str) -> list[str]:
    return [
        html.unescape(url) for url in re.findall(r'<a href="([^"]+)" class="attachment__link', page)
    ]


def content(response) -> bytes:
    # Read to the end, the test client closes the file (and the response) itself.
    return b"".join(response.streaming_content)


# The plain form (no JavaScript) and what the page draws.


def test_a_picture_sent_with_the_plain_form_is_drawn_as_its_thumbnail(joined, media):
    response = send(joined, "our cat", upload("cat.png", png(1200, 600), "image/png"))
    assert response.status_code == 303
    page = room_page(joined)
    [thumbnail] = re.findall(r"<img [^>]*>", page[page.index('id="messages"') :])
    # Drawn with its size, so the page keeps its place while it loads; its name is its alt.
    assert 'width="480"' in thumbnail and 'height="240"' in thumbnail
    assert 'alt="cat.png"' in thumbnail
    [src] = links(page, "attachment__thumbnail")
    small = Image.open(io.BytesIO(content(joined.get(src))))
    assert small.size == (480, 240)  # within 480x360, its aspect kept
    # Inside a link to the whole picture, which is stored re-encoded as a PNG.
    [full] = file_links(page)
    whole = Image.open(io.BytesIO(content(joined.get(full))))
    assert (whole.format, whole.size) == ("PNG", (1200, 600))
    [attachment] = Attachment.objects.all()
    assert (attachment.name, attachment.content_type) == ("cat.png", "image/png")
    assert len(stored(media)) == 2  # the picture and its thumbnail


def test_a_tall_picture_keeps_its_aspect_within_the_bound(joined):
    send(joined, "", upload("tall.png", png(300, 1200)))
    attachment = Attachment.objects.get()
    assert (attachment.width, attachment.height) == (90, 360)


def test_a_picture_alone_is_a_message_but_an_empty_box_alone_is_not(joined):
    assert send(joined, "  ", upload("alone.png", png(40, 40))).status_code == 303
    assert Message.objects.get().body == ""
    assert 'alt="alone.png"' in room_page(joined)
    refused = send(joined, "   ")
    assert refused.status_code == 400
    assert "Write something before sending." in refused.content.decode()
    assert Message.objects.count() == 1


def test_a_photo_loses_where_it_was_taken_and_keeps_its_way_up(joined):
    send(joined, "from the trip", upload("trip.jpg", jpeg_taken_somewhere(), "image/jpeg"))
    attachment = Attachment.objects.get()
    raw = content(joined.get(attachment.get_absolute_url()))
    photo = Image.open(io.BytesIO(raw))
    assert photo.format == "JPEG"
    exif = photo.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.GPSInfo not in exif and ExifTags.Base.Make not in exif
    assert b"PhoneMaker" not in raw
    # Turned as the camera said before the tag went: it shows the right way up.
    assert photo.size == (100, 200)
    assert (attachment.width, attachment.height) == (100, 200)


def test_other_files_show_their_name_size_and_kind_and_download(joined):
    send(joined, "the notes", upload("notes 2024.pdf", b"%PDF-1.4 " + b"x" * 3063))
    page = room_page(joined)
    card = html.unescape(page[page.index('class="attachment attachment--file"') :])
    assert "notes 2024.pdf" in card and "3.0\xa0KB · PDF" in card
    assert "<img" not in page[page.index('id="messages"') :]
    response = joined.get(file_links(page)[0])
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="notes 2024.pdf"'
    assert content(response).startswith(b"%PDF-1.4")


def test_a_file_name_is_text_on_the_page(joined):
    name = "<img src=x onerror=alert(1)>.txt"
    send(joined, "", upload(name, b"hello"))
    page = room_page(joined)
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page
    assert "<img src=x" not in page


# Hostile files.


def test_html_is_refused_and_when_allowed_only_ever_downloaded(joined, settings, media):
    page = b"<html><script>alert(document.cookie)</script></html>"
    refused = send(joined, "see this", upload("page.html", page, "text/html"))
    assert refused.status_code == 400
    assert "“page.html”: files of this kind can't be sent." in html.unescape(
        refused.content.decode()
    )
    assert stored(media) == []
    settings.PARLEY_UPLOAD_TYPES = [*settings.PARLEY_UPLOAD_TYPES, ".html"]
    assert send(joined, "see this", upload("page.html", page, "text/html")).status_code == 303
    response = joined.get(Attachment.objects.get().get_absolute_url())
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert content(response) == page  # kept as sent, only ever handed over as bytes


def test_an_svg_with_a_script_is_a_download_never_a_picture(joined):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert send(joined, "logo", upload("logo.svg", svg, "image/svg+xml")).status_code == 303
    attachment = Attachment.objects.get()
    assert not attachment.thumbnail
    page = room_page(joined)
    assert "<img" not in page[page.index('id="messages"') :]
    response = joined.get(attachment.get_absolute_url())
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == 'attachment; filename="logo.svg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert content(response) == svg
    assert joined.get(f"/rooms/django-girls/thumbnails/{attachment.token}/").status_code == 404


def test_a_file_named_as_a_picture_that_is_not_one_is_refused(joined, media):
    response = send(joined, "a picture", upload("x.png", b"<script>alert(1)</script>", "image/png"))
    assert response.status_code == 400
    assert "“x.png” is not a picture Parley can read" in response.content.decode()
    assert box_text(response.content.decode()) == "a picture"
    assert (Message.objects.count(), stored(media)) == (0, [])


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("cut.png", png(300, 200)[:120], "“cut.png” looks like a picture but can't be read."),
        ("noise.jpg", bytes(range(256)) * 4, "“noise.jpg” is not a picture Parley can read"),
        ("empty.txt", b"", "“empty.txt” is empty."),
        ("run.exe", b"MZ\x90\x00", "“run.exe”: files of this kind can't be sent."),
        ("\u202eexe.txt", b"hi", None),
    ],
)
def test_broken_and_unwanted_files_get_a_reason_never_an_error(joined, media, name, data, reason):
    response = send(joined, "words", upload(name, data))
    if reason is None:  # stored, its name without the character that would turn it round
        assert response.status_code == 303
        assert Attachment.objects.get().name == "exe.txt"
        return
    assert response.status_code == 400
    assert reason in html.unescape(response.content.decode())
    assert (Message.objects.count(), stored(media)) == (0, [])


def test_a_decompression_bomb_is_refused_before_it_is_decoded(joined, media):
    bomb = bomb_png()
    assert len(bomb) < 1_000_000
    response = send(joined, "tiny", upload("bomb.png", bomb, "image/png"))
    assert response.status_code == 400
    assert "“bomb.png” is too large a picture to open" in response.content.decode()
    assert (Message.objects.count(), stored(media)) == (0, [])


def test_a_picture_over_the_pixel_limit_is_refused(joined, settings):
    settings.PARLEY_UPLOAD_MAX_PIXELS = 100 * 100
    assert send(joined, "", upload("ok.png", png(100, 100))).status_code == 303
    response = send(joined, "", upload("big.png", png(101, 100)))
    assert "(at most 10,000 pixels)" in response.content.decode()
    assert Attachment.objects.count() == 1


# Limits.


def test_a_file_over_the_size_limit_is_refused_and_the_text_stays(joined, settings, media):
    settings.PARLEY_UPLOAD_MAX_BYTES = 1000
    response = send(joined, "my words\nkept", upload("big.txt", b"x" * 2000))
    assert response.status_code == 400
    page = response.content.decode()
    assert "“big.txt” is 2.0\xa0KB; a file can be at most 1000\xa0bytes." in html.unescape(page)
    assert box_text(page) == "my words\nkept"
    assert (Message.objects.count(), Attachment.objects.count(), stored(media)) == (0, 0, [])


def test_too_many_files_are_refused(joined, settings, media):
    files = [upload(f"{n}.txt", b"note") for n in range(settings.PARLEY_UPLOAD_MAX_FILES + 1)]
    response = send(joined, "five notes", *files)
    assert response.status_code == 400
    assert "Send at most 4 files with one message (you chose 5)." in response.content.decode()
    assert (Message.objects.count(), stored(media)) == (0, [])


def test_uploads_are_rate_limited(joined, settings, monkeypatch):
    settings.RATE_LIMITS = True
    # A clock that moves 0.6 s each time it is read (four times a post): never over
    # 8 messages in 2 s, and every post in the same minute.
    clock = (6000 + 0.6 * n for n in range(1000))
    monkeypatch.setattr(limits, "now", lambda: next(clock))
    for n in range(10):
        assert send(joined, "", upload(f"{n}.txt", b"note")).status_code == 303
    response = send(joined, "one more", upload("11.txt", b"note"))
    assert response.status_code == 429
    assert "at most 10 messages with files a minute" in response.content.decode()


# Who may see them, deletion and retries.


def test_someone_who_has_not_joined_gets_no_file(joined):
    send(joined, "", upload("cat.png", png(60, 40)))
    attachment = Attachment.objects.get()
    stranger = Client()
    for url in (attachment.get_absolute_url(), attachment.get_thumbnail_url()):
        response = stranger.get(url)
        assert response.status_code == 403
        assert b"\x89PNG" not in response.content
    # The same address under another room is not found.
    other = attachment.get_absolute_url().replace("/django-girls/", "/elsewhere/")
    assert joined.get(other).status_code == 404


def test_a_picture_is_shown_in_place_with_headers_that_keep_it_a_picture(joined):
    send(joined, "", upload("cat.png", png(60, 40)))
    attachment = Attachment.objects.get()
    for url, kind in (
        (attachment.get_absolute_url(), "image/png"),
        (attachment.get_thumbnail_url(), "image/webp"),
    ):
        response = joined.get(url)
        assert response["Content-Type"] == kind
        assert response["Content-Disposition"] == 'inline; filename="cat.png"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        content(response)


def test_deleting_the_message_removes_its_files(joined, media, django_capture_on_commit_callbacks):
    send(joined, "soon gone", upload("cat.png", png(60, 40)), upload("notes.txt", b"hi"))
    message = Message.objects.get()
    urls = [a.get_absolute_url() for a in message.attachments.all()]
    assert len(stored(media)) == 3
    with django_capture_on_commit_callbacks(execute=True):
        response = joined.post(message.get_delete_url())
    assert response.status_code == 303
    assert stored(media) == []
    assert Attachment.objects.count() == 0
    for url in urls:
        assert joined.get(url).status_code == 404
    page = room_page(joined)
    assert "Message deleted" in page and "attachment" not in page[page.index('id="messages"') :]


def test_the_same_key_twice_stores_one_message_and_one_set_of_files(joined, media, monkeypatch):
    store = uploads.store
    written = []
    monkeypatch.setattr(uploads, "store", lambda prepared: written.append(1) or store(prepared))
    key = new_key()
    for _ in range(2):
        response = send(joined, "once", upload("cat.png", png(60, 40)), key=key)
        assert response.status_code == 303
    assert (Message.objects.count(), Attachment.objects.count()) == (1, 1)
    assert len(stored(media)) == 2
    assert len(written) == 1  # the retry was answered without writing its file again


# The box's upload address (with JavaScript): answered with the error line.


def test_the_upload_address_answers_with_the_error_line(joined, settings, media):
    key = new_key()
    stored_ok = send(joined, "hi", upload("cat.png", png(60, 40)), key=key, url=UPLOADS)
    assert stored_ok.status_code == 200
    answer = stored_ok.content.decode()
    assert 'id="composer-error"' in answer and f'data-key="{key}"' in answer
    assert re.search(r'<p id="composer-error"[^>]*></p>', answer)
    assert Attachment.objects.count() == 1
    settings.PARLEY_UPLOAD_MAX_BYTES = 10
    refused = send(joined, "hi", upload("big.txt", b"x" * 11), url=UPLOADS)
    assert refused.status_code == 400
    assert "a file can be at most 10\xa0bytes" in html.unescape(refused.content.decode())


def test_a_picture_may_answer_a_message_and_quotes_it(joined, room):
    original = room.post("bob", "show me the cat", author_key="guest.bob")
    for url in (UPLOADS, ROOM):  # with JavaScript, and the plain form
        response = joined.post(
            url,
            {"message": "", "key": new_key(), "files": [upload("cat.png", png(60, 40))]}
            | {"reply_to": str(original.pk)},
        )
        assert response.status_code in (200, 303)
    replies = room.messages.filter(reply_to=original)
    assert replies.count() == 2 and Attachment.objects.count() == 2
    page = room_page(joined)
    assert page.count(f'data-quote="message-{original.pk}"') == 2
    refused = joined.post(
        UPLOADS,
        {"message": "", "key": new_key(), "files": [upload("cat.png", png(60, 40))]}
        | {"reply_to": str(original.pk + 99)},
    )
    assert refused.status_code == 400 and "not in this room" in refused.content.decode()
    assert Attachment.objects.count() == 2


def test_the_upload_address_refuses_a_post_too_big_to_read(joined, settings):
    settings.PARLEY_UPLOAD_MAX_BYTES = 10
    response = send(joined, "hi", upload("big.txt", b"x" * 2_000_000), url=UPLOADS)
    assert response.status_code == 413
    assert "too much to send at once" in response.content.decode()
    assert Message.objects.count() == 0


def test_the_upload_address_needs_a_joined_person(client, room):
    response = send(client, "hi", upload("cat.png", png(60, 40)), url=UPLOADS)
    assert response.status_code == 403
    assert Message.objects.count() == 0


# What the room's other sockets hear.


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_other_sockets_hear_nothing_while_an_upload_is_processed_then_one_push(
    monkeypatch,
):
    room = await make_room()
    bob = await joined_socket(name="bob")
    ada = Identity("ada", guest=True, key="guest.ada-uploads")
    written, go_on = threading.Event(), threading.Event()
    store = uploads.store

    def slow_store(prepared):
        """The file is in storage; the message waits here, not yet stored."""
        attachment = store(prepared)
        written.set()
        go_on.wait(10)
        return attachment

    monkeypatch.setattr(uploads, "store", slow_store)
    picture = upload("cat.png", png(120, 60))
    posting = asyncio.ensure_future(
        database_sync_to_async(uploads.post_with_files)(room, ada, "a cat", new_key(), [picture])
    )
    assert await asyncio.to_thread(written.wait, 10)
    # Read, checked and written to storage: still nothing for the room.
    assert await bob.receive_nothing(timeout=0.3)
    go_on.set()
    message = await posting
    push = await bob.receive_from(timeout=5)
    assert f'id="message-{message.pk}"' in push and "a cat" in push
    assert 'class="attachment__thumbnail"' in push and 'width="120" height="60"' in push
    # Exactly one push: the next thing bob hears is the next message in the room.
    carol = await joined_socket(name="carol")
    await carol.send_to('{"message": "marker"}')
    await next_is(bob, "marker")
    await carol.disconnect()
    await bob.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_page_that_was_away_gets_the_picture_when_it_catches_up():
    room = await make_room()
    ada = Identity("ada", guest=True, key="guest.ada-uploads")
    picture = upload("away.png", png(100, 50))
    await database_sync_to_async(uploads.post_with_files)(room, ada, "", new_key(), [picture])
    # Drawn afresh, as another server process would: not the drawing its announcement made.
    broadcast._draw.cache_clear()
    bob = await joined_socket(name="bob")
    await bob.send_to('{"after": "0"}')
    caught_up = await bob.receive_from(timeout=5)
    assert 'alt="away.png"' in caught_up and 'width="100" height="50"' in caught_up
    await bob.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fresh_channel_layer")
async def test_a_message_edited_over_its_socket_keeps_its_picture():
    room = await make_room()
    ada = Identity("ada", guest=True, key="guest.ada-uploads-key")
    picture = upload("kept.png", png(100, 50))
    message = await database_sync_to_async(uploads.post_with_files)(
        room, ada, "first words", new_key(), [picture]
    )
    bob = await joined_socket(name="bob")
    author = await open_socket(room.slug, "ada", guest_key="ada-uploads-key")
    assert (await author.connect())[0]
    await author.send_to(json.dumps({"edit": str(message.pk), "message": "better words"}))
    redrawn = await bob.receive_from(timeout=5)
    assert "better words" in redrawn
    assert 'alt="kept.png"' in redrawn and 'width="100" height="50"' in redrawn
    await author.disconnect()
    await bob.disconnect()


def test_an_animation_keeps_its_frames_and_shows_its_first(joined):
    frames = [Image.new("RGB", (80, 40), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    send(joined, "", upload("moving.gif", out.getvalue(), "image/gif"))
    attachment = Attachment.objects.get()
    whole = Image.open(io.BytesIO(content(joined.get(attachment.get_absolute_url()))))
    assert (whole.format, whole.n_frames) == ("GIF", 3)
    small = Image.open(io.BytesIO(content(joined.get(attachment.get_thumbnail_url()))))
    red, green, blue = small.convert("RGB").getpixel((40, 20))
    assert red > 200 and green < 60 and blue < 60


def test_the_lobby_says_a_picture_alone_was_sent(joined):
    send(joined, "", upload("alone.png", png(40, 40)))
    lobby = joined.get("/").content.decode()
    assert "<em>sent a file</em>" in lobby


def test_an_s3_bucket_in_the_environment_switches_the_store():
    """Settings are read at start: a process started with S3_* keeps files in the bucket,
    privately; without them, in MEDIA_ROOT."""
    show = "from django.conf import settings; import json; print(json.dumps(settings.STORAGES))"
    base = {**os.environ, "SECRET_KEY": "s3-test", "DJANGO_SETTINGS_MODULE": "config.settings"}
    s3 = {
        "S3_BUCKET": "parley-files",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "S3_ACCESS_KEY_ID": "key-id",
        "S3_SECRET_ACCESS_KEY": "secret",
        "S3_REGION": "eu-central-1",
    }
    root = Path(__file__).resolve().parent.parent

    def storages(env: dict[str, str]) -> dict:
        run = subprocess.run(
            [sys.executable, "-c", show], env=env, cwd=root, capture_output=True, check=True
        )
        return json.loads(run.stdout)

    bucket = storages({**base, **s3})["default"]
    assert bucket["BACKEND"] == "storages.backends.s3.S3Storage"
    assert bucket["OPTIONS"] == {
        "bucket_name": "parley-files",
        "endpoint_url": "http://127.0.0.1:9000",
        "access_key": "key-id",
        "secret_key": "secret",
        "region_name": "eu-central-1",
        "default_acl": "private",
        "file_overwrite": False,
    }
    plain = {key: value for key, value in base.items() if not key.startswith("S3_")}
    folder = storages(plain)["default"]
    assert folder == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
