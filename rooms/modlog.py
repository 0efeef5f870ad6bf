"""The room's moderation log: who did what to whom, and when (ModerationAction).

Written in the same transaction as the action it records, by rooms/moderation.py and by
rooms/editing.py (a moderator deleting someone else's message), so the log and the
record never disagree.
"""

from .identity import Identity
from .models import Membership, Message, ModerationAction, Room


def name_in(room: Room, key: str) -> str:
    """What a person is called in the room: the name on their latest message there, or
    on their membership; their key when neither says."""
    said = room.messages.filter(author_key=key).order_by("-seq").values_list("author", flat=True)
    if name := said.first():
        return name
    member = Membership.objects.filter(room=room, key=key).values_list("name", flat=True)
    return member.first() or key


def record(
    room: Room, actor: Identity, action: str, target_key: str = "", detail: str = ""
) -> ModerationAction:
    return ModerationAction.objects.create(
        room=room,
        actor_key=actor.key,
        actor_name=actor.name,
        action=action,
        target_key=target_key,
        target_name=name_in(room, target_key) if target_key else "",
        detail=detail.strip()[:300],
    )


def deleted(message: Message, actor: Identity) -> None:
    """A moderator deleted someone else's message: logged with the start of its text."""
    start = message.body[:80] if message.body else ""
    record(
        message.room,
        actor,
        ModerationAction.Kind.DELETE,
        message.author_key,
        f"message #{message.seq}: {start}" if start else f"message #{message.seq}",
    )
