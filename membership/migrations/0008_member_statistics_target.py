"""Finer planner statistics for the two columns every member list filters on.

With the default target (100) PostgreSQL guesses a surname prefix matches a few hundred rows of four million when
it matches thousands, and walks the wrong index; 1000 keeps region-wide searches on the right plan.
"""

from django.db import migrations

STATISTICS_TARGET = 1000
COLUMNS = ("search_name", "organization_id")


def statistics_finer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE membership_member ALTER COLUMN {column} SET STATISTICS {STATISTICS_TARGET}"
            )


def statistics_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"ALTER TABLE membership_member ALTER COLUMN {column} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("membership", "0007_member_search_name_c_collation")]

    operations = [migrations.RunPython(statistics_finer, statistics_default)]
