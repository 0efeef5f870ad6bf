"""A message's files, for templates/rooms/_attachments.html."""

import asyncio
from pathlib import PurePath

from django import template

register = template.Library()


@register.filter
def attached(message) -> list:
    """The message's files as they were read with it (prefetch_related("attachments"), as
    history, catch-up and rooms/uploads.py read them).

    Drawing may run on the event loop (a socket's push), where no query may run: there a
    message read without its files is drawn without them, which is right for the one kind
    that is (a text sent over a socket has none). Elsewhere (a page, the admin) they are
    read now.
    """
    cache = getattr(message, "_prefetched_objects_cache", {})
    if "attachments" in cache:
        return list(cache["attachments"])
    if message.pk is None:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return list(message.attachments.all())
    return []


@register.filter
def kind(name: str) -> str:
    """What kind of file it is, as people name it: its extension ("PDF"), else "file"."""
    extension = PurePath(name).suffix.lstrip(".")
    return extension.upper()[:10] if extension.isalnum() else "file"
