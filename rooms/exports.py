"""A room's record as a download: plain text or JSON, streamed a page of messages at a time.

Each format turns pages of messages (rooms/transcripts.py in_pages) into pieces of text;
`download` streams them. Under ASGI a streamed response must be an async iterator, or
Django reads it all into memory first: so each page is read and written in the request's
database thread and sent before the next is read.
"""

import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator

from channels.db import database_sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Message
from .words import Words

TOMBSTONE = "[message deleted]"
# What a continued line of a message starts with in the text export.
INDENT = "    "


def when(moment) -> str | None:
    """A time as JSON carries it: ISO 8601 in the site's zone, with its offset."""
    return timezone.localtime(moment).isoformat() if moment else None


def as_record(message: Message) -> dict:
    """One message as the JSON export writes it. A deleted one keeps its place, author and
    times with no text, files or reactions: a tombstone, as the room shows it."""
    shown = message.deleted is None
    return {
        "id": message.pk,
        "seq": message.seq,
        "author": message.author,
        "guest": message.guest,
        "created": when(message.created),
        "edited": when(message.edited),
        "deleted": when(message.deleted),
        "reply_to": message.reply_to_id,
        "body": message.body,
        "attachments": [
            {
                "name": attachment.name,
                "url": attachment.get_absolute_url(),
                "size": attachment.size,
                "content_type": attachment.content_type,
            }
            for attachment in (message.attachment_list if shown else ())
        ],
        "reactions": [
            {"text": reacted.text, "count": reacted.count, "names": reacted.names}
            for reacted in (message.reactions if shown else ())
        ],
    }


def as_json(pages: Iterable[list[Message]]) -> Iterator[str]:
    """One JSON document, an array of messages, written a page at a time."""
    yield "["
    first = True
    for page in pages:
        for message in page:
            yield ("" if first else ",") + "\n" + json.dumps(as_record(message))
            first = False
    yield "\n]\n"


def as_lines(message: Message) -> str:
    """One message as lines of text: "2026-12-04 10:15:03 ada: hello", its further lines
    indented, then what it replies to, its files and its reactions, indented too."""
    stamp = timezone.localtime(message.created).strftime("%Y-%m-%d %H:%M:%S")
    if message.deleted:
        return f"{stamp} {message.author}: {TOMBSTONE}\n"
    first, *rest = message.body.split("\n")
    edited = " (edited)" if message.edited else ""
    lines = [f"{stamp} {message.author}: {first}{edited}", *(INDENT + line for line in rest)]
    if message.reply_to_id:
        lines.append(f"{INDENT}(in reply to message {message.reply_to_id})")
    lines += [
        f"{INDENT}[file: {a.name}, {a.size} bytes, {a.get_absolute_url()}]"
        for a in message.attachment_list
    ]
    if reactions := message.reactions:
        shown = ", ".join(f"{r.text} {r.count}" for r in reactions)
        lines.append(f"{INDENT}[reactions: {shown}]")
    return "\n".join(lines) + "\n"


def as_text(pages: Iterable[list[Message]]) -> Iterator[str]:
    for page in pages:
        yield "".join(as_lines(message) for message in page)


# The formats a download comes in: ?format= and how each is written and sent.
FORMATS: dict[str, tuple[Callable[[Iterable[list[Message]]], Iterator[str]], str]] = {
    "txt": (as_text, "text/plain; charset=utf-8"),
    "json": (as_json, "application/json"),
}
UNKNOWN_FORMAT = Words("Ask for ?format=txt or ?format=json.")


_END = object()


async def in_thread(pieces: Iterator[str]) -> AsyncIterator[str]:
    """Each piece made in the database's thread (reading the page it needs) and sent
    before the next one is made."""
    step = database_sync_to_async(next)
    while (piece := await step(pieces, _END)) is not _END:
        yield piece


def download(pages: Iterable[list[Message]], kind: str, filename: str) -> StreamingHttpResponse:
    """The pages written as `kind` (a key of FORMATS), streamed as a file to save."""
    write, content_type = FORMATS[kind]
    response = StreamingHttpResponse(in_thread(write(pages)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{kind}"'
    return response
