"""152-FZ: the access log is append-only in the database itself, not only in the application.

Rows can never be updated; a row can be deleted only after the minimum retention period, which is what the
retention purge does.
"""

from django.db import migrations

MINIMUM_RETENTION_DAYS = 365

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION accounts_accesslog_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'access log is append-only';
    END IF;
    IF OLD.created_at > now() - interval '{MINIMUM_RETENTION_DAYS} days' THEN
        RAISE EXCEPTION 'access log rows younger than {MINIMUM_RETENTION_DAYS} days cannot be deleted';
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER accounts_accesslog_append_only
    BEFORE UPDATE OR DELETE ON accounts_accesslog
    FOR EACH ROW EXECUTE FUNCTION accounts_accesslog_guard();
"""
POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS accounts_accesslog_append_only ON accounts_accesslog;
DROP FUNCTION IF EXISTS accounts_accesslog_guard();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER accounts_accesslog_no_update BEFORE UPDATE ON accounts_accesslog
       BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END;""",
    f"""CREATE TRIGGER accounts_accesslog_no_early_delete BEFORE DELETE ON accounts_accesslog
       WHEN OLD.created_at > datetime('now', '-{MINIMUM_RETENTION_DAYS} days')
       BEGIN SELECT RAISE(ABORT, 'access log rows younger than {MINIMUM_RETENTION_DAYS} days cannot be deleted'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS accounts_accesslog_no_update;",
    "DROP TRIGGER IF EXISTS accounts_accesslog_no_early_delete;",
]


def forward(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def reverse(apps, schema_editor):
    statements = {"postgresql": [POSTGRES_REVERSE], "sqlite": SQLITE_REVERSE}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(forward, reverse)]
