"""Message keys: a repeat of the same key in a room is the same message, never a second one.

Messages stored before have no key (NULL), and NULLs never clash in the unique constraint.
"""

from django.db import migrations, models

import rooms.models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0005_room_activity"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="key",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                validators=[rooms.models.validate_message_key],
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("room", "key"), name="message_room_key_unique"
            ),
        ),
    ]
