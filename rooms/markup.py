"""The markup the message formatter (rooms/templatetags/chat.py) writes around links,
mentions and code: small templates in templates/rooms/format/, so a designer changes it
without Python.

Each template is loaded once a process and rendered with a bare Context: a formatted
message costs a few string joins more than before, not a template lookup each. Every part
handed over is already escaped (SafeString), so nothing a person typed reaches the page
unescaped whatever the template does with it.
"""

from functools import cache

from django.core.signals import setting_changed
from django.template import Context
from django.template.base import Template
from django.template.loader import get_template
from django.utils.safestring import SafeString


@cache
def _template(name: str) -> Template:
    return get_template(f"rooms/format/{name}.html").template


def draw(template: str, /, **parts: SafeString) -> str:
    """The template `template` filled with escaped parts. The line breaks around it (after its
    comment, at the end of the file) are dropped: the markup sits inside a line of text."""
    return _template(template).render(Context(parts)).strip("\n")


def _forget_templates(*, setting: str, **_kwargs) -> None:
    # Tests (and any settings override) may point TEMPLATES somewhere else.
    if setting == "TEMPLATES":
        _template.cache_clear()


setting_changed.connect(_forget_templates)
