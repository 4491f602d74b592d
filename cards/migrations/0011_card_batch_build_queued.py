from django.db import migrations, models
from django.db.models import F


def batches_so_far_were_queued(apps, schema_editor):
    """Every batch formed before this field was handed to the queue at once (a failure to do so was a 500 page)."""
    apps.get_model("cards", "CardBatch").objects.update(build_queued_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0010_card_request_waiting"),
    ]

    operations = [
        migrations.AddField(
            model_name="cardbatch",
            name="build_queued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="сборка поставлена в очередь"),
        ),
        migrations.RunPython(batches_so_far_were_queued, migrations.RunPython.noop),
    ]
