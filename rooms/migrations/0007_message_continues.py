"""Grouping: a message said by the same person within minutes of the one before it is drawn
under that one's name and time. Messages stored before are drawn with their own, as they were.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0006_message_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="continues",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
