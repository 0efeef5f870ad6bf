"""Search results' excerpts: the message's text, escaped, with each word that matched in
<mark>. Done here for both databases, so every backend highlights alike."""

import unicodedata
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..templatetags.chat import bidi_safe
from .query import WORD

# Long messages show this many characters, starting a little before the first match.
EXCERPT_LENGTH = 240
LEAD = 60


def fold(word: str) -> str:
    """A word as matching sees it: lower case, without accents (as SQLite's index has it)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def excerpt(text: str, words: Sequence[str], prefix: str = "") -> SafeString:
    """`text` on one line, escaped, with every one of `words` and every word starting
    with `prefix` marked; a long text cut to a window around its first mark."""
    text = " ".join(bidi_safe(text).split())
    whole = {fold(word) for word in words}
    start = fold(prefix)

    def found(word: str) -> bool:
        word = fold(word)
        return word in whole or (bool(start) and word.startswith(start))

    marks = [match.span() for match in WORD.finditer(text) if found(match.group())]
    start, end = window(text, marks[0][0] if marks else 0)
    pieces = ["…" if start else ""]
    at = start
    for first, last in marks:
        if first < start or last > end:
            continue
        pieces += [escape(text[at:first]), "<mark>", escape(text[first:last]), "</mark>"]
        at = last
    pieces += [escape(text[at:end]), "…" if end < len(text) else ""]
    return mark_safe("".join(pieces))  # noqa: S308 -- every piece of text is escaped above


def window(text: str, first_mark: int) -> tuple[int, int]:
    """Where the excerpt starts and ends: all of a short text, else EXCERPT_LENGTH characters
    from a word's start a little before the first mark, ending at a word's end."""
    if len(text) <= EXCERPT_LENGTH:
        return 0, len(text)
    start = max(0, min(first_mark - LEAD, len(text) - EXCERPT_LENGTH))
    if start:
        start = text.find(" ", start, first_mark) + 1 or start
    end = min(len(text), start + EXCERPT_LENGTH)
    if end < len(text):
        space = text.rfind(" ", first_mark, end)
        end = space if space > first_mark else end
    return start, end
