"""Forgetting old messages: what RETENTION_DAYS keeps, and removing the rest in batches.

Run while the rooms are live (manage.py prune_messages, from cron or a systemd timer):
each batch is one short transaction over a range of ids, so no room waits on it for long.
A removed message takes its reactions and files along (the files once its batch commits,
rooms/models.py forget_stored_files); replies to it stay, without their quote. Revisions
are not touched: open pages and catch-up simply no longer find what was removed.
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import Message

BATCH_SIZE = 1000


def cutoff(days: int, now: datetime.datetime | None = None) -> datetime.datetime:
    """Messages said before this moment are older than `days` days."""
    return (now or timezone.now()) - datetime.timedelta(days=days)


def expired(before: datetime.datetime):
    return Message.objects.filter(created__lt=before)


def prune(
    before: datetime.datetime,
    batch_size: int = BATCH_SIZE,
    done: Callable[[int], None] = lambda removed: None,
) -> int:
    """Remove every message said before `before`, `batch_size` at a time, oldest ids first;
    `done` hears how many each batch removed. Returns how many went in all."""
    removed, after = 0, 0
    while True:
        # Found by id after the last batch (keyset), never by OFFSET.
        ids = list(
            expired(before)
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return removed
        with transaction.atomic():
            # Through the ORM's collector: reactions go with their message, replies lose
            # their link (SET_NULL), and each file row sends post_delete, which removes the
            # stored files once this batch commits.
            count = Message.objects.filter(pk__in=ids).delete()[1].get("rooms.Message", 0)
        removed += count
        done(count)
        after = ids[-1]


def may_be_pruned(moment: datetime.datetime | None) -> bool:
    """Whether a message said at `moment` is old enough for retention to remove it (so a
    page drawn earlier with it may show what is gone)."""
    days = settings.RETENTION_DAYS
    return bool(days and moment and moment < cutoff(days))
