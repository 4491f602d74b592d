"""A large table's indexes and keys dropped for the seeding's COPY and rebuilt after it (PostgreSQL).

One sorted build per index, and one validating scan per foreign key, are far cheaper than maintaining them row by
row for millions of rows (a foreign key is checked by a trigger that locks the referenced row).
"""

from contextlib import contextmanager

from django.db import connection

from demo.report import DemoSeedReport, Say


@contextmanager
def indexes_deferred(model, *, enabled: bool, report: DemoSeedReport, phase: str, what: str, say: Say):
    """Drop the table's indexes, unique constraints and foreign keys for the COPY, rebuild them after it.

    The definitions are read back from the catalogue (pg_get_indexdef, pg_get_constraintdef) and replayed under
    the same names, so the table ends exactly as the migrations left it. The primary key stays (other tables'
    foreign keys hang on it), and so do check constraints and partial unique indexes: they are cheap, keep the
    rules ("one valid card a member") checked as the rows arrive, and a replayed predicate would not read back
    word for word. All of it is one transaction: a failure rolls the drop back too. The rebuild is timed as
    `phase` of the report; `what` names the table's rows for `say`.
    """
    if not enabled:
        yield
        return
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND i.indpred IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
            [table],
        )
        indexes = cursor.fetchall()
        # Unique constraints first, foreign keys after them; a unique key another table refers to is left alone.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint k "
            "WHERE conrelid = %s::regclass AND (contype = 'f' OR contype = 'u' AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = k.conindid AND r.conrelid <> k.conrelid"
            ")) ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()
        # Deferred checks queued by the earlier writes would forbid altering the tables they touch.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    say(f"  индексы и ключи таблицы {what} строятся заново…")
    with report.timed(phase, part=True), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
