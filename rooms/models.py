"""The record: rooms and the messages said in them.

Every message is stored before anyone sees it; forms, sockets and the admin
all post through ``Room.post`` so the rules live in one place.
"""

import hashlib
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.text import slugify

ROOM_NAME_MAX_LENGTH = 60
AUTHOR_MAX_LENGTH = 40
MESSAGE_MAX_LENGTH = 2000
HISTORY_LENGTH = 50


def validate_printable(value: str) -> None:
    """Refuse control characters: they render as nothing or garble the page."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value if char != "\n"):
        raise ValidationError("Remove control characters from the text.", code="control")


class RoomManager(models.Manager["Room"]):
    def for_name(self, name: str) -> "Room":
        """The room a name leads to, created on first use."""
        name = " ".join(name.split())
        room, _ = self.get_or_create(slug=slugify(name), defaults={"name": name})
        return room


class Room(models.Model):
    slug = models.SlugField(max_length=ROOM_NAME_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=ROOM_NAME_MAX_LENGTH)
    created = models.DateTimeField(auto_now_add=True)

    objects = RoomManager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", kwargs={"slug": self.slug})

    def latest_messages(self, limit: int = HISTORY_LENGTH) -> list["Message"]:
        """The newest messages, oldest first, read newest-first off the (room, id) index."""
        return list(reversed(self.messages.order_by("-id")[:limit]))

    def post(self, author: str, text: str) -> "Message":
        """Validate and store a message; raises ValidationError for bad text."""
        message = Message(room=self, author=author, body=text.strip())
        message.clean_fields(exclude={"room"})
        message.save()
        return message


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH)
    body = models.TextField(
        validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH), validate_printable],
        error_messages={"blank": "Write something before sending."},
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Serves both "latest N in a room" and "after id N in a room".
            models.Index(fields=["room", "id"], name="message_room_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"

    @property
    def author_tag(self) -> str:
        """A CSS-safe token for the author, so pages can style their own messages."""
        return author_tag(self.author)


def author_tag(name: str) -> str:
    return "a" + hashlib.blake2s(name.encode(), digest_size=6).hexdigest()
