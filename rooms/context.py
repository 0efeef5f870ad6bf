"""Values every page's templates may use, so no template hard-codes them."""

from django.http import HttpRequest

from .models import MESSAGE_MAX_LENGTH


def limits(request: HttpRequest) -> dict:
    # Pushed fragments are drawn without a request: rooms/broadcast.py render_push adds the same.
    return {"message_max_length": MESSAGE_MAX_LENGTH}
