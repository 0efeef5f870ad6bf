"""Search on SQLite: the FTS5 table rooms_message_fts, an external-content index of the
messages' text kept in step by triggers (see migration 0010_message_search)."""

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from .query import Phrase, Query


def phrase(words: Phrase) -> str:
    # Each word quoted (it holds letters and digits only) and a prefix; "+" joins them
    # into a phrase whose every word is a prefix, as on PostgreSQL.
    return " + ".join(f'"{word}"*' for word in words)


def render(query: Query) -> str:
    """The FTS5 query: all wanted phrases, then each unwanted one taken away (NOT needs
    something on its left, and a Query that can search has it)."""
    wanted = " AND ".join(phrase(words) for words in query.wanted)
    return " ".join([f"({wanted})", *(f"NOT ({phrase(words)})" for words in query.unwanted)])


def matches(query: Query) -> RawSQL:
    """A condition for Message querysets: the message's text matches `query`."""
    return RawSQL(
        "rooms_message.id IN"
        " (SELECT rowid FROM rooms_message_fts WHERE rooms_message_fts MATCH %s)",
        [render(query)],
        output_field=BooleanField(),
    )
