"""The record: rooms and the messages said in them.

Every message is stored before anyone sees it. The rules for a message's text live
on ``Message`` (its fields' validators), so every way of saying something keeps
them: forms and sockets post through rooms/posting.py, which stores with
``store_messages``; edits and deletions (rooms/editing.py, the admin too) go
through ``Room.revise``. Every change (a new message, an edit, a deletion) takes
the room's next revision, so a page that knows the last revision it saw can be
sent exactly what changed since.
"""

import datetime
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .names import validate_visible
from .words import Words

ROOM_NAME_MAX_LENGTH = 60
AUTHOR_MAX_LENGTH = 40
MESSAGE_MAX_LENGTH = 2000
DESCRIPTION_MAX_LENGTH = 200
TOPIC_MAX_LENGTH = 120
AUTHOR_KEY_MAX_LENGTH = 40
HISTORY_LENGTH = 50
# A message's key, made when it was written (a hidden field of the composer): a short token.
# A repeat of a key in the same room is the same message, never a second one.
MESSAGE_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
MESSAGE_KEY_MAX_LENGTH = 64
NOT_REPLYABLE = Words("The message you are replying to is not in this room.")
BAD_MESSAGE_KEY = Words("This message's key is not valid; reload the page and send it again.")


def record_number(value: object) -> int | None:
    """An id, sequence number or revision as pages send it (a string of digits); None for
    anything else: no signs, spaces, other digits or numbers too big for the database."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def validate_message_key(value: str) -> None:
    if not MESSAGE_KEY.fullmatch(value):
        raise ValidationError(BAD_MESSAGE_KEY, code="bad_key")


def validate_printable(value: str) -> None:
    """Refuse control characters: they render as nothing or garble the page."""
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value if char != "\n"):
        raise ValidationError(_("Remove control characters from the text."), code="control")


def message_text(text: str) -> str:
    """Text as a message keeps it: lines end in \n (a plain form sends \r\n) and the
    blanks around it go."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def room_slug(name: str) -> str:
    """The address a room name leads to; raises ValidationError when there is none
    or it is too long. Checked on the slug itself: normalising can make it longer
    than the name ("\ufb03", one ligature, becomes "ffi")."""
    slug = slugify(name)
    if not slug:
        raise ValidationError(
            _("Use at least one letter or digit in the room name."), code="no_slug"
        )
    if len(slug) > ROOM_NAME_MAX_LENGTH:
        raise ValidationError(
            _(
                "That name makes a room address of %(length)s characters; "
                "use a shorter name (at most %(most)s)."
            )
            % {"length": len(slug), "most": ROOM_NAME_MAX_LENGTH},
            code="slug_too_long",
        )
    return slug


class RoomQuerySet(models.QuerySet["Room"]):
    def for_name(self, name: str) -> "Room":
        """The open room a name leads to, created on first use; raises ValidationError for
        a name that leads to no address (see room_slug). Private rooms and conversations
        have addresses no name leads to (see private_slug), so typing a name never finds one."""
        name = " ".join(name.split())
        room, _created = self.get_or_create(slug=room_slug(name), defaults={"name": name})
        return room

    def open(self) -> "RoomQuerySet":
        return self.filter(kind=Room.Kind.OPEN)


def private_slug(name: str) -> str:
    """A private room's address: its name's, and a random tail, so that nobody finds it by
    guessing or typing its name, and an open room of the same name can still be made."""
    base = room_slug(name)[: ROOM_NAME_MAX_LENGTH - 11].rstrip("-")
    return f"{base}-{secrets.token_hex(5)}"


class Room(models.Model):
    class Kind(models.TextChoices):
        # Anyone who types its name walks in, guests too.
        OPEN = "open", _("open")
        # Its members only (rooms/access.py): joined by an invitation (rooms/invites.py).
        PRIVATE = "private", _("private")
        # A conversation among a fixed set of members (found again by `direct_key`).
        DIRECT = "direct", _("direct message")

    slug = models.SlugField(max_length=ROOM_NAME_MAX_LENGTH, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=ROOM_NAME_MAX_LENGTH, verbose_name=_("name"))
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.OPEN, verbose_name=_("kind")
    )
    # A direct conversation's people, as one key (their identity keys, sorted, hashed):
    # starting the same conversation again finds this room.
    direct_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, verbose_name=_("direct key")
    )
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    # The sequence number of the room's newest message: every message gets the next one,
    # so a gap in what a socket received is visible and can be filled from here.
    last_seq = models.PositiveBigIntegerField(default=0, editable=False, verbose_name=_("last seq"))
    # What the room is for, and what it is talking about now: anyone in it may change them.
    description = models.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
        verbose_name=_("description"),
    )
    topic = models.CharField(
        max_length=TOPIC_MAX_LENGTH,
        blank=True,
        validators=[validate_printable],
        verbose_name=_("topic"),
    )
    # The room's newest change: posting, editing and deleting each take the next one.
    # Pages and sockets track this number, so catch-up brings edits and deletions too.
    last_revision = models.PositiveBigIntegerField(
        default=0, editable=False, verbose_name=_("last revision")
    )
    # When a message was last posted, edited or deleted here, set in the same transaction:
    # the lobby finds the recently active rooms through its index, not by reading every room.
    last_activity = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("last activity")
    )

    objects = RoomQuerySet.as_manager()

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["slug"]
        indexes = [models.Index(fields=["last_activity"], name="room_last_activity")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.kind == Room.Kind.OPEN

    def changes_after(self, revision: int, limit: int) -> list["Message"]:
        """Messages posted, edited or deleted after `revision`, in the order they changed.

        A message changed twice shows up once, at its newest revision: its older
        revision numbers are simply gone, and the newest state is all a page needs.
        """
        query = self.messages.drawn().filter(revision__gt=revision).order_by("revision")
        return list(query[:limit])

    def post(
        self, author: str, text: str, *, guest: bool = True, author_key: str = ""
    ) -> "Message":
        """Validate and store one message, and announce nothing: a room's past, as tests
        and scripts set it up (or a message whose push was lost). People's messages go
        through rooms/posting.py, which counts them, answers repeats and announces them.
        Raises ValidationError for bad text.

        `author_key` is the author's identity key (rooms/identity.py): only its holder may edit.
        """
        message = self.new_message(author, text, guest=guest, author_key=author_key)
        store_messages([message])
        self.last_seq, self.last_revision = message.seq, message.revision
        return message

    def new_message(
        self,
        author: str,
        text: str,
        *,
        guest: bool = True,
        author_key: str = "",
        key: str | None = None,
        reply_to: "Message | None" = None,
        attached: bool = False,
    ) -> "Message":
        """A message for this room, validated but not stored (see store_messages).

        `author_key` is who wrote it (rooms/identity.py), `key` the message's own key,
        `reply_to` the message of this room it answers (see posting.replied_to);
        `attached`: files go with it (rooms/uploads.py), so it may have no text.
        """
        message = Message(
            room=self,
            author=author,
            guest=guest,
            author_key=author_key,
            body=message_text(text),
            key=key,
            reply_to=reply_to,
        )
        unchecked = {"room", "seq", "revision"}
        if attached and not message.body:
            unchecked.add("body")  # a picture alone is a message; any text is checked
        message.clean_fields(exclude=unchecked)
        return message

    def revise(self, pk: int, change: Callable[["Message"], bool]) -> tuple["Message", bool]:
        """Change one of the room's messages under the room's row lock.

        `change` gets the message as it is in the record now and returns whether it
        changed anything; only then does the message take the room's next revision,
        so revisions have no holes a reader would wait for. Returns the message and
        whether it changed; raises Message.DoesNotExist for a message not in this room.
        The replies redrawn with it (see below) are its `replies_redrawn`.
        """
        with transaction.atomic():
            # Locks the room row, as store_messages' UPDATE does: revisions follow commit order.
            locked = Room.objects.select_for_update().only("last_revision").get(pk=self.pk)
            message = self.messages.select_related("reply_to__room").get(pk=pk)
            before = (message.body, message.deleted)
            if not change(message):
                return message, False
            message.revision = self.last_revision = locked.last_revision + 1
            message.revised = True
            message.save(update_fields=["body", "edited", "deleted", "revision"])
            # Replies quote the start of this one's text: a new text or a deletion
            # redraws them too, each at a revision of its own, so catch-up brings them.
            quoted = before != (message.body, message.deleted)
            message.replies_redrawn = list(
                self.messages.drawn().filter(reply_to=message) if quoted else ()
            )
            for reply in message.replies_redrawn:
                reply.revision = self.last_revision = self.last_revision + 1
                reply.reply_to, reply.revised = message, True
                reply.save(update_fields=["revision"])
            self.last_activity = timezone.now()
            Room.objects.filter(pk=self.pk).update(
                last_revision=self.last_revision, last_activity=self.last_activity
            )
            # Its files and reactions are drawn with it: read them as they are now.
            models.prefetch_related_objects([message], DRAWN_ATTACHMENTS, DRAWN_REACTIONS)
        return message, True


def store_messages(messages: list["Message"]) -> None:
    """Store new messages, of one room or several, in one transaction: one commit.

    Each room's row stays locked until commit, so numbers are handed out in commit
    order: once a reader sees message n, messages 1..n-1 are in the record too.
    Rooms are locked in id order, so two batches never wait for each other in a circle.
    A key its room already holds raises IntegrityError, and then nothing is stored.
    """
    by_room: dict[int, list[Message]] = {}
    for message in messages:
        by_room.setdefault(message.room_id, []).append(message)
    now = timezone.now()
    with transaction.atomic():
        for room_id in sorted(by_room):
            batch = by_room[room_id]
            rooms = Room.objects.filter(pk=room_id)
            # The UPDATE takes the row lock that orders concurrent posts.
            step = models.F("last_seq") + len(batch), models.F("last_revision") + len(batch)
            rooms.update(last_seq=step[0], last_revision=step[1], last_activity=now)
            last_seq, last_revision = rooms.values_list("last_seq", "last_revision").get()
            for back, message in enumerate(reversed(batch)):
                message.seq, message.revision = last_seq - back, last_revision - back
            group(batch, now)
        Message.objects.bulk_create(messages)


# Messages by one person this close together read as one thought: drawn under one name.
GROUPED_WITHIN = datetime.timedelta(minutes=5)


def group(batch: list["Message"], now: datetime.datetime) -> None:
    """Mark each new message of one room that continues its author's message just before it
    (decided once, as it is stored, so every page and push draws it the same way)."""
    before = (
        Message.objects.filter(room_id=batch[0].room_id, seq=batch[0].seq - 1)
        .values_list("author_key", "created", "deleted")
        .first()
    )
    for message in batch:
        if before is not None:
            author_key, created, deleted = before
            message.continues = bool(
                author_key == message.author_key != ""
                and deleted is None
                and now - created <= GROUPED_WITHIN
            )
        before = (message.author_key, now, None)


class MessageQuerySet(models.QuerySet["Message"]):
    def drawn(self) -> "MessageQuerySet":
        """Messages with what their partial shows besides their own fields, read in three
        queries for a whole page: with the message each replies to, their files, and their
        reactions. Drawing may run on the event loop, where nothing can be read."""
        drawn = self.select_related("reply_to__room")
        return drawn.prefetch_related(DRAWN_ATTACHMENTS, DRAWN_REACTIONS)


class Message(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="messages", verbose_name=_("room")
    )
    seq = models.PositiveBigIntegerField(editable=False, verbose_name=_("seq"))
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("author"))
    # Guests pick a name per session; members' names are their usernames.
    guest = models.BooleanField(default=True, verbose_name=_("guest"))
    # Who wrote it: the author's identity key ("guest.<token>", "user.<pk>"), never shown.
    # Guests' names are not unique, so this and not the name decides who may edit.
    author_key = models.CharField(
        max_length=AUTHOR_KEY_MAX_LENGTH,
        blank=True,
        default="",
        editable=False,
        verbose_name=_("author key"),
    )
    body = models.TextField(
        validators=[MaxLengthValidator(MESSAGE_MAX_LENGTH), validate_printable, validate_visible],
        error_messages={"blank": _("Write something before sending.")},
        verbose_name=_("body"),
    )
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    # Said by the same person within minutes of the message before it (see group()).
    continues = models.BooleanField(default=False, editable=False, verbose_name=_("continues"))
    # The room's revision of this message's latest change (see Room.revise).
    revision = models.PositiveBigIntegerField(editable=False, verbose_name=_("revision"))
    edited = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("edited"))
    # Deleting keeps the row (its place and revision matter to catch-up) but not the text.
    deleted = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("deleted"))
    # Made by the page when the message was written; a repeat (a retry after a lost
    # acknowledgement, a double click) is answered with this message, not stored again.
    # Messages from before keys, and from clients that send none, have none: NULL, not "",
    # so they never clash in the unique constraint.
    key = models.CharField(  # noqa: DJ001
        max_length=MESSAGE_KEY_MAX_LENGTH,
        null=True,
        blank=True,
        editable=False,
        validators=[validate_message_key],
        verbose_name=_("key"),
    )

    # The message this one answers, quoted above its text. Messages are deleted as
    # tombstones, so the quote says "Message deleted" rather than vanishing.
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        editable=False,
        verbose_name=_("reply to"),
    )

    objects = MessageQuerySet.as_manager()

    # Not a field: True on the copy handed back for a repeated key (stored and announced
    # before), so the caller answers without announcing it again.
    repeated = False
    # Not fields: True on a message changed by Room.revise (so a push of it replaces the
    # page's copy, even when the change shows nowhere in its fields, as a reaction taken
    # back), and the replies a change of its text redrew.
    revised = False
    replies_redrawn: "list[Message] | tuple" = ()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["room", "seq"]
        constraints = [
            # Its index serves both "latest N in a room" and "after N in a room".
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique"),
            # And this one "what changed after revision N in a room" (catch-up).
            models.UniqueConstraint(
                fields=["room", "revision"], name="message_room_revision_unique"
            ),
            # One message per key in a room; keyless messages (NULL) never clash.
            models.UniqueConstraint(fields=["room", "key"], name="message_room_key_unique"),
        ]
        # A day's page finds its messages, and the days before and after it, by time.
        indexes = [models.Index(fields=["room", "created"], name="message_room_created")]

    def __str__(self) -> str:
        return f"{self.author}: {'(deleted)' if self.deleted else self.body[:40]}"

    def get_absolute_url(self) -> str:
        return reverse("rooms:message", kwargs={"slug": self.room.slug, "pk": self.pk})

    def rewrite(self, text: str) -> bool:
        """New text, checked by the same rules as posting; False when nothing changed.

        Raises ValidationError on `body`.
        """
        text = message_text(text)
        if self.deleted is not None:
            raise ValidationError({"body": _("That message was deleted; it can't be edited.")})
        if text == self.body:
            return False
        self.body = text
        self.clean_fields(exclude={f.name for f in self._meta.fields if f.name != "body"})
        self.edited = timezone.now()
        return True

    def erase(self) -> bool:
        """Remove the text, keep the row as a tombstone; False when it was already gone."""
        if self.deleted is not None:
            return False
        self.body = ""
        self.deleted = timezone.now()
        # Its pictures and files go with the text (the stored copies once committed).
        self.attachments.all().delete()
        return True

    def get_react_url(self) -> str:
        return reverse("rooms:react", kwargs={"slug": self.room.slug, "pk": self.pk})

    @property
    def attachment_list(self) -> "list[Attachment]":
        """Its files as MessageQuerySet.drawn read them; one read without them has none
        drawn (a text sent over a socket has none)."""
        return self.__dict__.get("fetched_attachments", [])

    @property
    def reaction_list(self) -> "list[Reaction]":
        """The reactions drawn with it, oldest first, as MessageQuerySet.drawn read them;
        a message read without them (a new one, say) has none."""
        return self.__dict__.get("fetched_reactions", [])

    @property
    def reactions(self) -> "list[Reacted]":
        """Its reactions as drawn: each text once, in the order first given, with who gave it."""
        by_text: dict[str, Reacted] = {}
        for reaction in self.reaction_list:
            shown = by_text.setdefault(reaction.text, Reacted(reaction.text))
            shown.names.append(reaction.author)
            shown.tags.append(author_tag(reaction.author_key))
        return list(by_text.values())

    def get_edit_url(self) -> str:
        return reverse("rooms:edit_message", kwargs={"slug": self.room.slug, "pk": self.pk})

    def get_delete_url(self) -> str:
        return reverse("rooms:delete_message", kwargs={"slug": self.room.slug, "pk": self.pk})

    def written_by(self, key: str) -> bool:
        """Whether the identity with this key wrote it; a message without a key is nobody's."""
        return bool(self.author_key) and self.author_key == key

    @property
    def author_tag(self) -> str:
        """A CSS-safe token for the author, so pages can style their own messages."""
        return author_tag(self.author_key)

    @property
    def author_mark(self) -> str:
        """Tells guests with the same name apart (members' names are unique already)."""
        return guest_mark(self.author_key) if self.guest else ""


def author_tag(key: str) -> str:
    """A CSS-safe token for an identity key; one-way, so the page never shows the key.
    Messages from before keys have none, and match no one's style."""
    if not key:
        return ""
    return "a" + hashlib.blake2s(key.encode(), digest_size=6, person=b"tag").hexdigest()


# Crockford's base 32: no i, l, o or u, so a mark is never misread.
MARK_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def guest_mark(key: str) -> str:
    """Four characters from a guest's identity key: the same on every message of theirs,
    different (in all but one case in a million) for another guest of the same name."""
    if not key:
        return ""
    number = int.from_bytes(hashlib.blake2s(key.encode(), digest_size=4, person=b"mark").digest())
    return "".join(MARK_ALPHABET[(number >> shift) & 31] for shift in (15, 10, 5, 0))


class MemberName(models.Model):
    """A member's name in the forms look-alikes share (rooms/names.py), one row per member.

    Unique, so no two members can hold names that look the same, and a guest's name is
    checked against members' names with one indexed lookup.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="parley_name",
        verbose_name=_("user"),
    )
    # name_keys(username): case folded first, and look-alikes mapped first.
    folded = models.TextField(unique=True, verbose_name=_("folded"))
    mapped = models.TextField(unique=True, verbose_name=_("mapped"))

    class Meta:
        verbose_name = _("member name")
        verbose_name_plural = _("member names")

    def __str__(self) -> str:
        return self.folded


REACTION_MAX_LENGTH = 16
NO_REACTION = Words("Pick an emoji or write a reaction.")


class Reaction(models.Model):
    """One person's reaction to a message: an emoji or a few words. Given again, it is
    taken back (rooms/reacting.py)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reaction_set", verbose_name=_("message")
    )
    text = models.CharField(
        max_length=REACTION_MAX_LENGTH,
        validators=[validate_printable, validate_visible],
        error_messages={"blank": NO_REACTION},
        verbose_name=_("text"),
    )
    # Who gave it, as on messages: the name shown, and the identity key that decides.
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("author"))
    author_key = models.CharField(max_length=AUTHOR_KEY_MAX_LENGTH, verbose_name=_("author key"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        ordering = ["message", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "author_key", "text"], name="reaction_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.author} {self.text}"


DRAWN_REACTIONS = models.Prefetch(
    "reaction_set", queryset=Reaction.objects.order_by("pk"), to_attr="fetched_reactions"
)


@dataclass
class Reacted:
    """One reaction under a message: its text, and who gave it (names and CSS tags)."""

    text: str
    names: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.names)


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """Where a file is stored: named by its token alone, never by what the person called it
    (a name can hold anything; the shown name lives in the row)."""
    return f"attachments/{attachment.token[:2]}/{attachment.token}"


def thumbnail_path(attachment: "Attachment", filename: str) -> str:
    return f"attachments/{attachment.token[:2]}/{attachment.token}.thumb"


def attachment_token() -> str:
    return secrets.token_urlsafe(24)


class Attachment(models.Model):
    """A picture or a file that came with a message (rooms/uploads.py stores them with it).

    Served by rooms/files.py only, at an address made of `token`, which cannot be
    guessed: never from a public media URL.
    """

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    token = models.CharField(
        max_length=64,
        unique=True,
        default=attachment_token,
        editable=False,
        verbose_name=_("token"),
    )
    file = models.FileField(upload_to=attachment_path, max_length=200, verbose_name=_("file"))
    # Pictures only: the small copy drawn in the message, and its size, so the page keeps
    # its place while it loads.
    thumbnail = models.FileField(
        upload_to=thumbnail_path, max_length=200, blank=True, verbose_name=_("thumbnail")
    )
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("height"))
    # As the person's computer called it: shown (escaped) and offered as the download's name.
    name = models.CharField(max_length=255, verbose_name=_("name"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    # Decided by the server (the picture's own format, or the name's extension), never
    # taken from the browser.
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]  # in the order they were chosen

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        room = self.message.room.slug
        return reverse(
            "rooms:attachment", kwargs={"slug": room, "token": self.token, "name": self.name}
        )

    @property
    def is_image(self) -> bool:
        return bool(self.thumbnail)

    def get_thumbnail_url(self) -> str:
        room = self.message.room.slug
        return reverse("rooms:thumbnail", kwargs={"slug": room, "token": self.token})


@receiver(post_delete, sender=Attachment)
def forget_stored_files(sender, instance: Attachment, **kwargs) -> None:
    """A row gone (its message deleted, or its room) takes its files along, once the
    deletion is committed: a rollback keeps both."""
    names = [f.name for f in (instance.file, instance.thumbnail) if f]
    storage = instance.file.storage

    def remove() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(remove, robust=True)


DRAWN_ATTACHMENTS = models.Prefetch(
    "attachments", queryset=Attachment.objects.order_by("pk"), to_attr="fetched_attachments"
)


def invite_nonce() -> str:
    return secrets.token_hex(16)


class Membership(models.Model):
    """Someone who belongs to a private room or a conversation, and their role in it.

    Known by identity key, as messages are ("user.<pk>" for members, "guest.<token>" for a
    guest an invitation let in), so a guest's place ends with their name. Open rooms need
    no membership to enter: rows there only give roles (owner, moderator).
    """

    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        MODERATOR = "moderator", _("moderator")
        MEMBER = "member", _("member")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("room")
    )
    key = models.CharField(max_length=AUTHOR_KEY_MAX_LENGTH, verbose_name=_("key"))
    # Members only: the account (for their rooms across devices); null for a guest.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="parley_memberships",
        verbose_name=_("user"),
    )
    name = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("name"))
    role = models.CharField(
        max_length=10, choices=Role.choices, default=Role.MEMBER, verbose_name=_("role")
    )
    joined = models.DateTimeField(auto_now_add=True, verbose_name=_("joined"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["room", "joined", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["room", "key"], name="membership_once_per_room")
        ]
        indexes = [models.Index(fields=["key"], name="membership_key")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}) in {self.room}"

    @property
    def guest(self) -> bool:
        return self.user_id is None


class Invite(models.Model):
    """An invitation into a private room: a link holding a signed token (rooms/invites.py)
    that expires, can be revoked, and may be good for one person only."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="invites", verbose_name=_("room")
    )
    # Random, and signed with the expiry into the link: neither guessed nor stretched.
    nonce = models.CharField(
        max_length=32, unique=True, default=invite_nonce, editable=False, verbose_name=_("nonce")
    )
    created_by = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("created by"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    expires = models.DateTimeField(verbose_name=_("expires"))
    single_use = models.BooleanField(default=False, verbose_name=_("single use"))
    # Whether a guest (someone not signed in) may come in with it, under a guest name.
    guests = models.BooleanField(default=False, verbose_name=_("guests"))
    revoked = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked"))
    uses = models.PositiveIntegerField(default=0, verbose_name=_("uses"))

    class Meta:
        verbose_name = _("invite")
        verbose_name_plural = _("invites")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"invite to {self.room} by {self.created_by}"


# Moderation (rooms/moderation.py): who may not speak in a room for a while, who may not
# come in at all, and what the room's moderators did. Keyed by identity key, as messages.

MODERATION_REASON_MAX_LENGTH = 200


class Mute(models.Model):
    """Someone who may read a room but not say anything in it until `until`."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="mutes", verbose_name=_("room")
    )
    key = models.CharField(max_length=AUTHOR_KEY_MAX_LENGTH, verbose_name=_("key"))
    until = models.DateTimeField(verbose_name=_("until"))
    by = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("by"))
    reason = models.CharField(
        max_length=MODERATION_REASON_MAX_LENGTH, blank=True, verbose_name=_("reason")
    )
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("mute")
        verbose_name_plural = _("mutes")
        ordering = ["room", "-created"]
        constraints = [models.UniqueConstraint(fields=["room", "key"], name="mute_once_per_room")]

    def __str__(self) -> str:
        return f"{self.key} muted in {self.room} until {self.until:%Y-%m-%d %H:%M}"


class Ban(models.Model):
    """Someone who may not come into a room: a member by account, a guest by their session's
    key and, when `address` is set, any guest from that address (a new name comes back
    with a new session, but usually from the same place)."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="bans", verbose_name=_("room")
    )
    key = models.CharField(max_length=AUTHOR_KEY_MAX_LENGTH, verbose_name=_("key"))
    address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("address"))
    by = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("by"))
    reason = models.CharField(
        max_length=MODERATION_REASON_MAX_LENGTH, blank=True, verbose_name=_("reason")
    )
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
        ordering = ["room", "-created"]
        constraints = [models.UniqueConstraint(fields=["room", "key"], name="ban_once_per_room")]

    def __str__(self) -> str:
        return f"{self.key} banned from {self.room}"


class ModerationAction(models.Model):
    """One thing a moderator did in a room, kept for its owners and staff to read: who,
    what, to whom, when. Names are copied: the record outlives guests' sessions."""

    class Kind(models.TextChoices):
        DELETE = "delete", _("deleted a message")
        MUTE = "mute", _("muted")
        UNMUTE = "unmute", _("unmuted")
        BAN = "ban", _("banned")
        UNBAN = "unban", _("unbanned")
        REMOVE_ALL = "remove_all", _("removed all messages of")
        APPOINT = "appoint", _("made a moderator")
        DISMISS = "dismiss", _("dismissed as moderator")
        REMOVE = "remove", _("removed from the room")

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="moderation_actions", verbose_name=_("room")
    )
    actor_key = models.CharField(max_length=AUTHOR_KEY_MAX_LENGTH, verbose_name=_("actor key"))
    actor_name = models.CharField(max_length=AUTHOR_MAX_LENGTH, verbose_name=_("actor name"))
    action = models.CharField(max_length=12, choices=Kind.choices, verbose_name=_("action"))
    target_key = models.CharField(
        max_length=AUTHOR_KEY_MAX_LENGTH, blank=True, verbose_name=_("target key")
    )
    target_name = models.CharField(
        max_length=AUTHOR_MAX_LENGTH, blank=True, verbose_name=_("target name")
    )
    detail = models.CharField(max_length=300, blank=True, verbose_name=_("detail"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")
        ordering = ["-created", "-pk"]
        # A room's log, newest first, a page at a time.
        indexes = [models.Index(fields=["room", "-created", "-id"], name="moderation_room_newest")]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display()} {self.target_name}".strip()


class ReadPosition(models.Model):
    """How far a member has read a room: the seq of the last message they were shown there.

    Kept per account, not per page, so what a member read on one device counts on all
    of them (rooms/reading.py); guests keep theirs in their session.
    """

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="read_positions", verbose_name=_("room")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="parley_read_positions",
        verbose_name=_("user"),
    )
    seq = models.PositiveBigIntegerField(default=0, verbose_name=_("seq"))
    updated = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("read position")
        verbose_name_plural = _("read positions")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="read_position_once_per_room")
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.room} up to {self.seq}"
