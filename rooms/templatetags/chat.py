"""Safe formatting for message text: a small Markdown set, links and @mentions.

`**bold**`, `_italic_`, `` `code` ``, fenced code blocks, `> quotes` and line breaks, by
markdown-it-py with HTML off and every other rule off (no headings, lists, images or
[text](links) that hide where they go); bare web addresses become links and @names are
marked, by this module. Everything a person typed is escaped piece by piece; the only
markup in the result is what these renderers and the templates in templates/rooms/format/
write (rooms/markup.py hands those templates escaped parts only), so no input can open a
tag or an attribute.
"""

import datetime
import hashlib
import re

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from markdown_it import MarkdownIt

from rooms.markup import draw

register = template.Library()

# A web address: http(s) and whatever follows up to a space or a character that
# never belongs in one unquoted. Trailing punctuation is given back to the sentence.
URL = r"https?://[^\s<>\"'`]+"
# A name a mention can spell: no spaces (rooms/mentions.py offers only these).
MENTION_NAME = r"\w[\w.\-]*"
# A mention: @ at the start or after a non-word character, then such a name.
MENTION = rf"(?<![\w@])@(?P<name>{MENTION_NAME})"
TOKENS = re.compile(f"(?P<url>{URL})|(?P<mention>{MENTION})")
TRAILING = ".,;:!?)]}*"
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): in a
# message they reorder what follows ("to \u202eRUE 0001\u202c" reads "to 1000 EUR"), so
# they are left out when text is drawn. The record keeps the text as it was sent.
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# A message longer than this folds behind "Show more" (static/css/parley.css folds the
# body to the same number of lines): lines as typed, a long one counted as wrapping every
# WRAP characters. Decided from the text alone, so every reader gets the same bytes.
FOLD_LINES = 12
WRAP = 80


def mention_tag(name: str) -> str:
    """A CSS-safe token for a name as people write it after @ (any letter case)."""
    return "n" + hashlib.blake2s(name.casefold().encode(), digest_size=6).hexdigest()


def _link(url: str) -> tuple[str, str]:
    """The link markup for a matched address, and any punctuation that ends the sentence."""
    tail = ""
    while url and url[-1] in TRAILING:
        # A closing bracket that opened inside the address belongs to it (Wikipedia links).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    if re.fullmatch(r"https?://", url):
        return escape(url + tail), ""
    href = escape(url)
    return draw("_link", href=href, text=href), escape(tail)


@register.filter
def bidi_safe(text: str) -> str:
    """Text without the bidirectional controls that would reorder what it is drawn in."""
    return str(text).translate(BIDI_CONTROLS)


@register.filter
def folds(text: str) -> bool:
    """Whether a message is long enough to fold behind "Show more"."""
    lines = 0
    for line in str(text).split("\n"):
        lines += max(1, -(-len(line) // WRAP))
        if lines > FOLD_LINES:
            return True
    return False


def _text(renderer, tokens, index, options, env) -> str:
    """A run of plain text: escaped, with its web addresses linked and its @names marked."""
    text = tokens[index].content
    out: list[str] = []
    start = 0
    for match in TOKENS.finditer(text):
        out.append(escape(text[start : match.start()]))
        start = match.end()
        if match["url"]:
            out.extend(_link(match["url"]))
        else:
            name = match["name"]
            # Names end before trailing dots and dashes ("thanks @ada.").
            stripped = name.rstrip(".-")
            rest = name[len(stripped) :]
            tag = escape(mention_tag(stripped))
            out.append(draw("_mention", tag=tag, name=escape(stripped)))
            out.append(escape(rest))
    out.append(escape(text[start:]))
    return "".join(out)


def _fence(renderer, tokens, index, options, env) -> str:
    """A fenced code block, as typed: a language after the fence shows as its first line
    (nothing typed goes missing, and no attribute carries it)."""
    token = tokens[index]
    info = token.info.strip()
    code = escape(info + "\n" if info else "") + escape(token.content)
    return draw("_code_block", code=code)


def _code(renderer, tokens, index, options, env) -> str:
    return draw("_code", code=escape(tokens[index].content))


def _markdown() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "breaks": True, "xhtmlOut": False})
    md.enable(["emphasis", "backticks", "fence", "blockquote", "escape", "newline"])
    md.add_render_rule("text", _text)
    md.add_render_rule("fence", _fence)
    md.add_render_rule("code_inline", _code)
    return md


MARKDOWN = _markdown()


@register.filter(is_safe=True)
def chat(text: str) -> SafeString:
    """Message text as HTML: paragraphs and line breaks, the few formats above, links and
    mentions; everything else escaped."""
    html = MARKDOWN.render(bidi_safe(text)).strip()
    return mark_safe(html)  # noqa: S308 -- markdown-it escapes all text; HTML input is off


# Each name gets one of this many colours for its initials (static/css/parley.css).
HUES = 12


@register.filter
def initials(name: str) -> str:
    """Up to two letters for a name's round badge: the first of its first two words."""
    words = bidi_safe(name).split()
    return "".join(word[0] for word in words[:2]).upper()


@register.filter
def hue(name: str) -> int:
    """A colour for a name's initials, the same for the name on every page and process."""
    digest = hashlib.blake2s(str(name).casefold().encode(), digest_size=2).digest()
    return int.from_bytes(digest) % HUES


@register.filter
def day_label(value: datetime.datetime | None) -> str:
    """'Today', 'Yesterday' or the date, in the server's zone (pages read without script)."""
    if not isinstance(value, datetime.datetime):
        return ""
    day = timezone.localtime(value).date()
    today = timezone.localdate()
    if day == today:
        return gettext("Today")
    if day == today - datetime.timedelta(days=1):
        return gettext("Yesterday")
    # Weekday and month named in the active language.
    return date_format(day, "l, j F Y")
