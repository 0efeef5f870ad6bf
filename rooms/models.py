"""The record: rooms and the messages said in them.

Every message is stored before anyone sees it; forms, sockets and the admin
all post through ``Room.post`` so the rules live in one place.
"""

import hashlib
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils.text import slugify

ROOM_NAME_MAX_LENGTH = 60
AUTHOR_MAX_LENGTH = 40
MESSAGE_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200
TOPIC_MAX_LENGTH = 120
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
    # The sequence number of the room's newest message: every message gets the next one,
    # so a gap in what a socket received is visible and can be filled from here.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    # What the room is for, and what it is talking about now: anyone in it may change them.
    description = models.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, blank=True, validators=[validate_printable]
    )
    topic = models.CharField(
        max_length=TOPIC_MAX_LENGTH, blank=True, validators=[validate_printable]
    )

    objects = RoomManager()

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", kwargs={"slug": self.slug})

    def latest_messages(self, limit: int = HISTORY_LENGTH) -> list["Message"]:
        """The newest messages, oldest first, read newest-first off the (room, seq) index."""
        return list(reversed(self.messages.order_by("-seq")[:limit]))

    def messages_after(self, seq: int, limit: int) -> list["Message"]:
        """The next messages after seq, in order: what a page that has seq is missing."""
        return list(self.messages.filter(seq__gt=seq).order_by("seq")[:limit])

    def post(self, author: str, text: str, *, guest: bool = True) -> "Message":
        """Validate and store a message; raises ValidationError for bad text.

        The room row stays locked until commit, so sequence numbers are handed out in
        commit order: once a reader sees message n, messages 1..n-1 are in the record too.
        """
        message = Message(room=self, author=author, guest=guest, body=text.strip())
        message.clean_fields(exclude={"room", "seq"})
        with transaction.atomic():
            rooms = Room.objects.filter(pk=self.pk)
            # The UPDATE takes the row lock that orders concurrent posts.
            rooms.update(last_seq=models.F("last_seq") + 1)
            message.seq = self.last_seq = rooms.values_list("last_seq", flat=True).get()
            message.save()
        return message


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField(editable=False)
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH)
    # Guests pick a name per session; members' names are their usernames.
    guest = models.BooleanField(default=True)
    body = models.TextField(
        validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH), validate_printable],
        error_messages={"blank": "Write something before sending."},
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            # Its index serves both "latest N in a room" and "after N in a room".
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"

    @property
    def author_tag(self) -> str:
        """A CSS-safe token for the author, so pages can style their own messages."""
        return author_tag(self.author, self.guest)


def author_tag(name: str, guest: bool) -> str:
    return ("g" if guest else "m") + hashlib.blake2s(name.encode(), digest_size=6).hexdigest()
