"""Search on SQLite: the FTS5 table rooms_message_fts, an external-content index of the
messages' text kept in step by triggers (see migration 0010_message_search)."""

from django.core.exceptions import EmptyResultSet
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from ..models import Room
from .query import Phrase, Query


def phrase(words: Phrase, prefix: bool = False) -> str:
    # Each word quoted (it holds letters and digits only); "+" joins them into a phrase.
    quoted = [f'"{word}"' for word in words]
    if prefix:
        quoted[-1] += "*"
    return " + ".join(quoted)


def render(query: Query) -> str:
    """The FTS5 query: all wanted phrases, then each unwanted one taken away (NOT needs
    something on its left, and a Query that can search has it)."""
    wanted = " AND ".join(phrase(words, prefix) for words, prefix in query.wanted_words())
    return " ".join([f"({wanted})", *(f"NOT ({phrase(words)})" for words in query.unwanted)])


def matches(query: Query, rooms: QuerySet[Room] | None, before: int | None, limit: int) -> RawSQL:
    """A condition for Message querysets: the newest `limit` messages in `rooms` before
    the id `before` whose text matches `query`.

    The index drives: it hands out matches newest first and the read stops at `limit`,
    where filtering messages by a list of every match would read and sort them all.
    """
    sql = (
        "SELECT f.rowid FROM rooms_message_fts f JOIN rooms_message m ON m.id = f.rowid"
        " WHERE rooms_message_fts MATCH %s AND m.deleted IS NULL"
    )
    params: list = [render(query)]
    if rooms is not None:
        try:
            rooms_sql, rooms_params = rooms.values("pk").query.sql_with_params()
        except EmptyResultSet:  # no room at all: nothing can match
            return RawSQL("0 = 1", [], output_field=BooleanField())
        sql += f" AND m.room_id IN ({rooms_sql})"
        params += rooms_params
    if before is not None:
        sql += " AND f.rowid < %s"
        params.append(before)
    sql += " ORDER BY f.rowid DESC LIMIT %s"
    params.append(limit)
    # The SQL is this function's own text; all that came from outside is in `params`.
    return RawSQL(f"rooms_message.id IN ({sql})", params, output_field=BooleanField())  # noqa: S611
