"""Room revisions: posting, editing and deleting each take the room's next one."""

from django.db import migrations, models


def number_existing(apps, schema_editor):
    # Until now the only change was posting, so each message's revision is its seq.
    apps.get_model("rooms", "Room").objects.update(last_revision=models.F("last_seq"))
    apps.get_model("rooms", "Message").objects.update(revision=models.F("seq"))


class Migration(migrations.Migration):

    dependencies = [
        ("rooms", "0002_room_about"),
    ]

    operations = [
        migrations.AddField(
            model_name="room",
            name="last_revision",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="message",
            name="revision",
            field=models.PositiveBigIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="message",
            name="edited",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="message",
            name="deleted",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("room", "revision"), name="message_room_revision_unique"
            ),
        ),
    ]
