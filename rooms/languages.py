"""Which language a socket reads, and pushes drawn once in each language the site offers.

A page is drawn in its reader's language (Django's LocaleMiddleware). Its socket is given
the same language when it opens (`socket_language`), and whatever is drawn for that socket
alone (a refusal, an acknowledgement, a catch-up) is drawn in it. A push for a whole group is
drawn once per language in settings.LANGUAGES (`per_language`): a dict {language: html} in the
group event, from which each process's hub hands every socket the drawing of its own language
(`for_readers`). With one language, or when every language drew the same bytes, the event
keeps a plain string.
"""

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import trans_real

# A group event's drawing: the same bytes for everyone, or one per language.
type Drawn = str | dict[str, str]


def offered() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def socket_language(scope: dict[str, Any]) -> str:
    """The language a page opened by this socket's browser was drawn in, as
    LocaleMiddleware chose it: the language form's cookie, else Accept-Language, else the
    site's language."""
    chosen = _cookie(scope, settings.LANGUAGE_COOKIE_NAME)
    if chosen and chosen in offered():
        return chosen
    asked = _header(scope, b"accept-language")
    for code, _quality in trans_real.parse_accept_lang_header(asked) if asked else ():
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    # Channels' cookie middleware fills scope["cookies"]; a consumer run without it has the
    # header only.
    if "cookies" in scope:
        return scope["cookies"].get(name)
    header = _header(scope, b"cookie")
    if not header:
        return None
    morsel = SimpleCookie(header).get(name)
    return morsel.value if morsel else None


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def per_language[**P](draw: Callable[P, str]) -> Callable[P, Drawn]:
    """Draw a group push once in each offered language (plain bytes when that is one)."""

    def drawn(*args: P.args, **kwargs: P.kwargs) -> Drawn:
        languages = offered()
        if len(languages) == 1:
            with translation.override(settings.LANGUAGE_CODE):
                return draw(*args, **kwargs)
        drawings = {}
        for code in languages:
            with translation.override(code):
                drawings[code] = draw(*args, **kwargs)
        first = next(iter(drawings.values()))
        # A push without words (a read mark) is sent once, not once per language.
        if all(html == first for html in drawings.values()):
            return first
        return drawings

    drawn.__name__ = draw.__name__
    drawn.__doc__ = draw.__doc__
    return drawn


def process_wide(start: Callable[[], Any]) -> Any:
    """Start work that serves every socket of the process (the runtime's loops, the hub's
    receiver, the outbox) in the site's language: a task keeps the context it was created
    in, and the socket that happens to start it reads its own language."""
    with translation.override(settings.LANGUAGE_CODE):
        return start()


def for_readers(html: Drawn) -> Callable[[str], str]:
    """What a socket of each language is handed of a group event's drawing: its own
    language's, or the site language's when the event has none for it."""
    if isinstance(html, str):
        return lambda language: html
    fallback = html.get(settings.LANGUAGE_CODE) or next(iter(html.values()))
    return lambda language: html.get(language, fallback)
