"""Finding messages by their words: one function, whichever database stores them.

`search()` parses what a person typed once (rooms/search/query.py), asks the database's
own full-text index for the matching messages (rooms/search/sqlite.py, postgresql.py),
newest first, a page at a time by keyset on the message id, and highlights the words in
Python (rooms/search/highlight.py), so every backend answers alike.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from ..models import Message, Room
from . import postgresql, sqlite
from .highlight import excerpt
from .query import Query, parse

BACKENDS = {"sqlite": sqlite, "postgresql": postgresql}
PAGE_LENGTH = 20


@dataclass(frozen=True)
class Hit:
    message: Message
    # Its text, escaped, the words found marked with <mark>.
    excerpt: SafeString


@dataclass(frozen=True)
class Results:
    """A page of matching messages, newest first; `older` is the id the next page starts
    before (the ?before= of its link), None when there are no more."""

    query: Query
    hits: list[Hit] = field(default_factory=list)
    older: int | None = None


def search(
    text: str,
    *,
    rooms: QuerySet[Room] | Iterable[Room] | None = None,
    before: int | None = None,
    limit: int = PAGE_LENGTH,
) -> Results:
    """Messages whose text matches `text`, in `rooms` (None: every room), older than the
    message `before` when given. Deleted messages never match. A query that asks for no
    word (empty, punctuation, or only -words) finds nothing and touches no table."""
    query = parse(text)
    if not query.searchable:
        return Results(query)
    scope = rooms
    if rooms is not None and not isinstance(rooms, QuerySet):
        scope = Room.objects.filter(pk__in=[room.pk for room in rooms])
    # One more than shown tells whether there is an older page, without a COUNT.
    matches = BACKENDS[connection.vendor].matches(query, scope, before, limit + 1)
    found = Message.objects.filter(matches, deleted__isnull=True)
    if scope is not None:
        found = found.filter(room__in=scope)
    if before is not None:
        found = found.filter(pk__lt=before)
    rows = list(found.select_related("room").order_by("-pk")[: limit + 1])
    hits = [
        Hit(message, excerpt(message.body, query.words, query.prefix)) for message in rows[:limit]
    ]
    older = hits[-1].message.pk if len(rows) > limit else None
    return Results(query, hits, older)
