"""Each room's last activity (a message posted, edited or deleted), indexed for the lobby."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_from_newest_message(apps, schema_editor):
    Room = apps.get_model("rooms", "Room")
    Message = apps.get_model("rooms", "Message")
    newest = Message.objects.filter(room=OuterRef("pk"), seq=OuterRef("last_seq"))
    Room.objects.filter(last_seq__gt=0).update(
        last_activity=Subquery(newest.values("created")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("rooms", "0004_identity"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="last_activity",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="room",
            index=models.Index(fields=["last_activity"], name="room_last_activity"),
        ),
        migrations.RunPython(fill_from_newest_message, migrations.RunPython.noop),
    ]
