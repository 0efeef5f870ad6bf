"""A message's files, for templates/rooms/_attachments.html."""

from pathlib import PurePath

from django import template

register = template.Library()


@register.filter
def kind(name: str) -> str:
    """What kind of file it is, as people name it: its extension ("PDF"), else "file"."""
    extension = PurePath(name).suffix.lstrip(".")
    return extension.upper()[:10] if extension.isalnum() else "file"
