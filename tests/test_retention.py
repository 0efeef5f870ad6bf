"""Retention: `manage.py prune_messages` removes old messages in batches, with their files
and reactions, while the rooms stay live."""

import datetime
import io
import json
import re

import pytest
from channels.db import database_sync_to_async
from django.core.management import CommandError, call_command
from django.utils import timezone

from rooms import retention
from rooms.models import Attachment, Message, Reaction, Room, store_messages

from . import helpers
from .test_uploads import png, send, stored, upload

pytestmark = [
    # Files go once a batch commits: the batches must really commit.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fresh_channel_layer"),
]

LONG_AGO = timezone.now() - datetime.timedelta(days=40)
SEQ = re.compile(r'data-seq="(\d+)"')


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def age(*messages: Message, when: datetime.datetime = LONG_AGO) -> None:
    Message.objects.filter(pk__in=[m.pk for m in messages]).update(created=when)


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_messages", *args, stdout=out)
    return out.getvalue()


def bodies() -> list[str]:
    return list(Message.objects.order_by("pk").values_list("body", flat=True))


def test_with_retention_off_nothing_is_removed_and_it_says_so(room, settings):
    settings.RETENTION_DAYS = None
    age(room.post("ada", "old"))
    assert prune() == "Retention is off (RETENTION_DAYS is not set): nothing removed.\n"
    assert bodies() == ["old"]


def test_old_messages_go_in_batches_and_newer_ones_stay(room, settings):
    settings.RETENTION_DAYS = 30
    old = [room.post("ada", f"old {n}") for n in range(5)]
    age(*old)
    room.post("bob", "recent")
    age(room.post("bob", "29 days"), when=timezone.now() - datetime.timedelta(days=29))
    other = Room.objects.for_name("Elsewhere")
    age(other.post("carol", "old elsewhere"))
    said = prune("--batch-size", "2", "-v", "2")
    assert bodies() == ["recent", "29 days"]
    lines = said.splitlines()
    assert lines[:3] == ["batch 1: 2 removed", "batch 2: 2 removed", "batch 3: 2 removed"]
    assert lines[3].startswith("Removed 6 messages said before ")
    assert lines[3].endswith("(older than 30 days) in 3 batches.")


def test_days_on_the_command_line_replace_the_setting(room, settings):
    settings.RETENTION_DAYS = None
    age(room.post("ada", "old"), when=timezone.now() - datetime.timedelta(days=8))
    room.post("ada", "new")
    assert "Removed 1 messages" in prune("--days", "7")
    assert bodies() == ["new"]


def test_a_dry_run_counts_and_removes_nothing(room, settings):
    settings.RETENTION_DAYS = 30
    age(*[room.post("ada", f"old {n}") for n in range(3)])
    room.post("ada", "new")
    said = prune("--dry-run")
    assert said.startswith("Would remove 3 messages said before ")
    assert "dry run, nothing removed" in said
    assert len(bodies()) == 4


@pytest.mark.parametrize("bad", [["--days", "0"], ["--batch-size", "-1"], ["--days", "x"]])
def test_bad_numbers_are_refused(room, bad):
    with pytest.raises(CommandError, match="invalid positive value"):
        call_command("prune_messages", *bad)


def test_files_and_reactions_go_with_their_messages(joined, room, media, settings):
    settings.RETENTION_DAYS = 30
    send(joined, "our cat", upload("cat.png", png(800, 400), "image/png"))
    send(joined, "notes", upload("notes.txt", b"remember", "text/plain"))
    old, kept = Message.objects.order_by("pk")
    Reaction.objects.create(message=old, text="👍", author="bob", author_key="guest.bob")
    assert len(stored(media)) == 3  # a picture, its thumbnail and a file
    age(old)
    prune()
    assert list(Attachment.objects.values_list("name", flat=True)) == ["notes.txt"]
    assert [path.name for path in stored(media)] == [kept.attachments.get().token]
    assert not Reaction.objects.exists()


def test_a_reply_to_a_removed_message_stays_without_its_quote(joined, room, settings):
    settings.RETENTION_DAYS = 30
    original = room.post("ada", "long ago")
    reply = room.new_message("bob", "still here", reply_to=original)
    store_messages([reply])
    age(original)
    prune()
    reply.refresh_from_db()
    assert reply.reply_to_id is None
    page = joined.get(room.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "still here" in html and "long ago" not in html
    assert 'class="quote"' not in html


def test_links_into_removed_history_answer_with_a_clean_page(joined, room, settings):
    settings.RETENTION_DAYS = 30
    messages = [room.post("ada", f"message {n}") for n in range(1, 121)]
    age(*messages[:100])
    prune()
    url = room.get_absolute_url()
    # The loader of a page opened before: older than anything left.
    older = joined.get(f"{url}?before=60", headers={"HX-Request": "true"})
    assert older.status_code == 200
    assert "The start of Django Girls" in older.content.decode()
    assert SEQ.findall(older.content.decode()) == []
    assert joined.get(f"{url}?before=60").status_code == 200
    # A link to a removed message, and the room around where it was.
    assert joined.get(messages[10].get_absolute_url()).status_code == 404
    around = joined.get(f"{url}?at=11").content.decode()
    assert SEQ.findall(around)[0] == "101"


def test_the_room_page_drawn_before_shows_no_removed_messages_after(joined, room, settings):
    settings.RETENTION_DAYS = 30
    old = [room.post("ada", f"old {n}") for n in range(3)]
    age(*old)
    room.refresh_from_db()
    room.post("bob", "recent")
    assert "old 0" in joined.get(room.get_absolute_url()).content.decode()
    prune()
    html = joined.get(room.get_absolute_url()).content.decode()
    assert "old 0" not in html
    assert "recent" in html


async def test_an_open_socket_still_gets_new_messages_and_catches_up_after_pruning(settings):
    settings.RETENTION_DAYS = 30
    room = await helpers.make_room()
    old = await database_sync_to_async(lambda: [room.post("ada", f"old {n}") for n in range(3)])()
    await database_sync_to_async(age)(*old)
    ada = await helpers.joined("ada")
    await database_sync_to_async(prune)()
    assert await database_sync_to_async(bodies)() == []
    bob = await helpers.joined("bob")
    await bob.send_to(helpers.frame("after pruning"))
    pushed = await helpers.receive_message(ada)
    assert "after pruning" in pushed and SEQ.findall(pushed) == ["4"]
    # A page that saw the old messages (revision 3) reconnects: it gets what came since.
    late = await helpers.joined("carol")
    await late.send_to(json.dumps({"after": "3"}))
    caught = await late.receive_from()
    assert "after pruning" in caught and SEQ.findall(caught) == ["4"]
    for socket in (ada, bob, late):
        await socket.disconnect()


def test_may_be_pruned_only_with_retention_on(settings):
    settings.RETENTION_DAYS = None
    assert not retention.may_be_pruned(LONG_AGO)
    settings.RETENTION_DAYS = 30
    assert retention.may_be_pruned(LONG_AGO)
    assert not retention.may_be_pruned(timezone.now())
    assert not retention.may_be_pruned(None)
