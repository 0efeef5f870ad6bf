"""Migrations: what was stored before a migration is carried over."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from rooms.models import Room
from rooms.search import search

pytestmark = pytest.mark.django_db(transaction=True)


def migrated_back_to(name: str):
    """The database as migration `name` of rooms left it, and the models as they were then."""
    target = [("rooms", name)]
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def migrated_forward() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_gives_existing_messages_their_revisions():
    old = migrated_back_to("0001_initial")
    room = old.get_model("rooms", "Room").objects.create(slug="old", name="Old", last_seq=2)
    for seq in (1, 2):
        old.get_model("rooms", "Message").objects.create(
            room=room, seq=seq, author="ada", body=f"said {seq}"
        )
    migrated_forward()
    room = Room.objects.get(slug="old")
    assert room.last_revision == 2
    assert [(m.seq, m.revision) for m in room.messages.order_by("seq")] == [(1, 1), (2, 2)]
    # And the room goes on from there.
    message = room.post("bob", "new")
    assert (message.seq, message.revision) == (3, 3)


def test_messages_stored_before_the_search_index_are_found():
    old = migrated_back_to("0009_reactions_replies")
    room = old.get_model("rooms", "Room").objects.create(slug="old", name="Old", last_seq=2)
    for seq, body in ((1, "archived deployment notes"), (2, "archived lunch")):
        old.get_model("rooms", "Message").objects.create(
            room=room, seq=seq, revision=seq, author="ada", body=body
        )
    migrated_forward()
    hits = search("archived deplo").hits
    assert [hit.message.body for hit in hits] == ["archived deployment notes"]
