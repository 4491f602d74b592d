"""The snapshot's figures move from JSON text to packed integers (indicators.vector_pack); rows are converted."""

import json

from django.db import migrations, models

from union_statistics.indicators import vector_pack


def figures_pack(apps, schema_editor):
    RollupSnapshot = apps.get_model("statistics", "RollupSnapshot")
    table = schema_editor.quote_name(RollupSnapshot._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, figures FROM {table}")
        converted = [(vector_pack(json.loads(figures)), pk) for pk, figures in cursor.fetchall()]
        # One statement per row, pipelined by the driver: far quicker than an ORM bulk_update's CASE.
        cursor.executemany(f"UPDATE {table} SET figures_packed = %s WHERE id = %s", converted)


def snapshots_forget(apps, schema_editor):
    """Going back: the snapshots are derived data that a rollup rebuilds, so they are dropped, not unpacked."""
    apps.get_model("statistics", "RollupSnapshot").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("statistics", "0002_snapshot_without_fk_triggers")]

    operations = [
        migrations.AddField(
            model_name="rollupsnapshot",
            name="figures_packed",
            field=models.BinaryField(null=True, verbose_name="показатели"),
        ),
        migrations.RunPython(figures_pack, migrations.RunPython.noop, elidable=True),
        migrations.RemoveField(model_name="rollupsnapshot", name="figures"),
        migrations.RenameField(model_name="rollupsnapshot", old_name="figures_packed", new_name="figures"),
        migrations.AlterField(
            model_name="rollupsnapshot", name="figures", field=models.BinaryField(verbose_name="показатели")
        ),
        migrations.RunPython(migrations.RunPython.noop, snapshots_forget, elidable=True),
    ]
