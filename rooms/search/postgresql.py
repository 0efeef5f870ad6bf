"""Search on PostgreSQL: rooms_message.search, a tsvector generated from the text (its
punctuation made spaces) with the 'simple' configuration (no stemming, so prefixes behave
as on SQLite), and its GIN index (see migration 0010_message_search)."""

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from ..models import Room
from .query import Phrase, Query


def phrase(words: Phrase, prefix: bool = False) -> str:
    # Lexemes hold letters and digits only, so quoting them cannot be escaped from.
    quoted = [f"'{word}'" for word in words]
    if prefix:
        quoted[-1] += ":*"
    return " <-> ".join(quoted)


def render(query: Query) -> str:
    """The tsquery text: every wanted phrase, and not any unwanted one."""
    wanted = [f"({phrase(words, prefix)})" for words, prefix in query.wanted_words()]
    unwanted = [f"!({phrase(words)})" for words in query.unwanted]
    return " & ".join(wanted + unwanted)


def matches(query: Query, rooms: QuerySet[Room] | None, before: int | None, limit: int) -> RawSQL:
    """A condition for Message querysets: the message's text matches `query` (the
    queryset keeps to the rooms, the keyset and the limit; the GIN index finds)."""
    return RawSQL(
        "rooms_message.search @@ to_tsquery('simple', %s)",
        [render(query)],
        output_field=BooleanField(),
    )
