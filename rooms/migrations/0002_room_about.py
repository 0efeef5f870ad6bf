import rooms.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rooms', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='room',
            name='description',
            field=models.CharField(blank=True, max_length=200, validators=[rooms.models.validate_printable]),
        ),
        migrations.AddField(
            model_name='room',
            name='topic',
            field=models.CharField(blank=True, max_length=120, validators=[rooms.models.validate_printable]),
        ),
    ]
