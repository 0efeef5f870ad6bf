"""What a person typed into the search box, parsed once into a form no database syntax
can see through.

Plain words must all match; "quoted words" must match side by side; -word (or -"quoted
words") leaves out messages that have them. Words match whole, but for the last word
wanted, which matches as a prefix ("deplo" finds "deployment"), so results keep up with
typing. Only one: a prefix makes the index read every word it starts, and one such read
keeps a search of a million messages in milliseconds (benchmarks/search.py).

Each backend renders a Query into its own syntax from words made only of letters and
digits: no quote, operator or bracket a person typed ever reaches a database's query parser.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Longer text is cut here, and only the first terms count: a search stays one cheap query.
MAX_LENGTH = 200
MAX_TERMS = 12
# A term: "words in quotes" (a lone quote runs to the end), or a run without spaces; either
# may start with the minus that leaves it out.
TERM = re.compile(r'(?P<minus>-?)(?:"(?P<quoted>[^"]*)"?|(?P<plain>[^\s"]+))')
# Letters and digits only: both databases' tokenizers split words at underscores and at
# punctuation, so "e-mail" or "foo_bar" is searched as the words side by side.
WORD = re.compile(r"[^\W_]+")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """Phrases (one word or more, lower case) each message must have, and must not. The
    last word of the last phrase wanted is a prefix."""

    wanted: tuple[Phrase, ...] = ()
    unwanted: tuple[Phrase, ...] = ()

    def wanted_words(self) -> Iterator[tuple[Phrase, bool]]:
        """Each wanted phrase, and whether it ends in the prefix."""
        for n, phrase in enumerate(self.wanted):
            yield phrase, n == len(self.wanted) - 1

    @property
    def searchable(self) -> bool:
        """Whether it can find anything: leaving words out alone asks for nothing."""
        return bool(self.wanted)

    @property
    def words(self) -> list[str]:
        """The words a result is found by whole, for highlighting."""
        # All but the very last, which is the prefix.
        return [word for phrase in self.wanted for word in phrase][:-1]

    @property
    def prefix(self) -> str:
        """The start of a word a result is found by (the last word wanted)."""
        return self.wanted[-1][-1] if self.wanted else ""


def clean(text: str) -> str:
    """The text as searched and shown back: cut to MAX_LENGTH, without control characters
    or lone surrogates (which no page can draw)."""
    unseen = {"Cc", "Cs"}
    kept = "".join(char for char in text[:MAX_LENGTH] if unicodedata.category(char) not in unseen)
    return unicodedata.normalize("NFC", kept)


def parse(text: str) -> Query:
    wanted: list[Phrase] = []
    unwanted: list[Phrase] = []
    for term in TERM.finditer(clean(text)):
        phrase = tuple(WORD.findall((term["quoted"] or term["plain"] or "").lower()))
        chosen = unwanted if term["minus"] else wanted
        if phrase and phrase not in chosen and len(wanted) + len(unwanted) < MAX_TERMS:
            chosen.append(phrase)
    return Query(tuple(wanted), tuple(unwanted))
