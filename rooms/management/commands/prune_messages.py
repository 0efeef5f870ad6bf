"""`manage.py prune_messages`: remove messages older than RETENTION_DAYS (docs/deploy.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from rooms import retention


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Remove messages older than RETENTION_DAYS (or --days), with their files and "
        "reactions, in short batches: safe while the rooms are live."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=positive, help="keep this many days instead of RETENTION_DAYS"
        )
        parser.add_argument(
            "--batch-size",
            type=positive,
            default=retention.BATCH_SIZE,
            help=f"messages per transaction (default {retention.BATCH_SIZE})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say how many would go, and remove nothing"
        )

    def handle(self, *args, days, batch_size, dry_run, verbosity, **options) -> None:
        days = days or settings.RETENTION_DAYS
        if days is None:
            self.stdout.write("Retention is off (RETENTION_DAYS is not set): nothing removed.")
            return
        before = retention.cutoff(days)
        if dry_run:
            count = retention.expired(before).count()
            self.stdout.write(
                f"Would remove {count} messages said before {before:%Y-%m-%d %H:%M:%S %Z} "
                f"(older than {days} days); dry run, nothing removed."
            )
            return
        batches = []

        def done(removed: int) -> None:
            batches.append(removed)
            if verbosity > 1:
                self.stdout.write(f"batch {len(batches)}: {removed} removed")

        removed = retention.prune(before, batch_size, done)
        self.stdout.write(
            f"Removed {removed} messages said before {before:%Y-%m-%d %H:%M:%S %Z} "
            f"(older than {days} days) in {len(batches)} batches."
        )
