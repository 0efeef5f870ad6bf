"""Identity: messages know their author's key, members' names keep their look-alikes away.

Guests' names are not unique, so a message now records who wrote it (the author's
identity key) and only that identity may edit or delete it. Members' messages get
their member's key here. Guests' messages from before have no key and cannot get one:
a name alone never proved who wrote them, so they become nobody's to edit or delete
(moderators still delete them).
"""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import rooms.models
import rooms.names


def key_member_messages(apps, schema_editor):
    # A member's name is their username, unique: their messages are theirs for sure.
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Message = apps.get_model("rooms", "Message")
    authors = Message.objects.filter(guest=False, author_key="").values("author").distinct()
    for pk, username in User.objects.filter(username__in=authors).values_list("pk", "username"):
        Message.objects.filter(guest=False, author=username, author_key="").update(
            author_key=f"user.{pk}"
        )


def hold_member_names(apps, schema_editor):
    # Oldest account first: of two members whose names look the same (possible until
    # now), the first keeps the name's forms; the other keeps its account, and both
    # names stay closed to guests through the first one's row.
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    MemberName = apps.get_model("rooms", "MemberName")
    held_folded: set[str] = set()
    held_mapped: set[str] = set()
    rows = []
    for pk, username in User.objects.order_by("pk").values_list("pk", "username"):
        folded, mapped = rooms.names.name_keys(username)
        if folded in held_folded or mapped in held_mapped:
            continue
        held_folded.add(folded)
        held_mapped.add(mapped)
        rows.append(MemberName(user_id=pk, folded=folded, mapped=mapped))
    MemberName.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("rooms", "0003_message_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="author_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=40),
        ),
        migrations.AlterField(
            model_name="message",
            name="body",
            field=models.TextField(
                error_messages={"blank": "Write something before sending."},
                validators=[
                    django.core.validators.MaxLengthValidator(2000),
                    rooms.models.validate_printable,
                    rooms.names.validate_visible,
                ],
            ),
        ),
        migrations.CreateModel(
            name="MemberName",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="parley_name",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("folded", models.TextField(unique=True)),
                ("mapped", models.TextField(unique=True)),
            ],
        ),
        migrations.RunPython(key_member_messages, migrations.RunPython.noop),
        migrations.RunPython(hold_member_names, migrations.RunPython.noop),
    ]
