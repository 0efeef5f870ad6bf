"""Search on PostgreSQL: rooms_message.search, a tsvector generated from the text (its
punctuation made spaces) with the 'simple' configuration (no stemming, so prefixes behave
as on SQLite), and its GIN index (see migration 0010_message_search)."""

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from .query import Phrase, Query


def phrase(words: Phrase) -> str:
    # Lexemes hold letters and digits only, so quoting them cannot be escaped from.
    return " <-> ".join(f"'{word}':*" for word in words)


def render(query: Query) -> str:
    """The tsquery text: every wanted phrase, and not any unwanted one."""
    wanted = [f"({phrase(words)})" for words in query.wanted]
    unwanted = [f"!({phrase(words)})" for words in query.unwanted]
    return " & ".join(wanted + unwanted)


def matches(query: Query) -> RawSQL:
    """A condition for Message querysets: the message's text matches `query`."""
    return RawSQL(
        "rooms_message.search @@ to_tsquery('simple', %s)",
        [render(query)],
        output_field=BooleanField(),
    )
