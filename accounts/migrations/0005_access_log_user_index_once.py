"""The access log's user column loses its own index: accesslog_user_time, which starts with it, serves every read.

Only the index is dropped, by name. An AlterField would have SQLite rebuild the table, and a rebuilt table comes back
without the append-only triggers of 0002.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

USER_INDEX = "accounts_accesslog_user_id_4457ddc9"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_alter_accesslog_action"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="accesslog",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="пользователь",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {USER_INDEX}",
                    reverse_sql=f"CREATE INDEX {USER_INDEX} ON accounts_accesslog (user_id)",
                ),
            ],
        ),
    ]
