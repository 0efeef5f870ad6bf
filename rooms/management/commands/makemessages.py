"""Django's makemessages, also collecting the server's refusals written as `Words("…")`
(rooms/words.py)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=Words"]
