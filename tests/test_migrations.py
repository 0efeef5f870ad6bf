"""Migrations: what was stored before a migration is carried over."""

import pytest

from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_migration_gives_existing_messages_their_revisions():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("rooms", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    room = old.get_model("rooms", "Room").objects.create(slug="old", name="Old", last_seq=2)
    for seq in (1, 2):
        old.get_model("rooms", "Message").objects.create(
            room=room, seq=seq, author="ada", body=f"said {seq}"
        )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    room = Room.objects.get(slug="old")
    assert room.last_revision == 2
    assert [(m.seq, m.revision) for m in room.messages.order_by("seq")] == [(1, 1), (2, 2)]
    # And the room goes on from there.
    message = room.post("bob", "new")
    assert (message.seq, message.revision) == (3, 3)
