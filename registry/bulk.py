"""Writing many rows fast: COPY on PostgreSQL, bulk_create elsewhere (the embedded SQLite).

Used by the member import and the demo seeder; every function runs inside the caller's transaction.
"""

import functools
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models import Max

BULK_CREATE_CHUNK = 2_000


def uses_copy() -> bool:
    return connection.vendor == "postgresql"


def copy_rows(*, table: str, columns: Sequence[str], rows: Iterable[tuple], binary_types: Sequence[str] = ()) -> int:
    """Stream rows into `table` with COPY FROM STDIN on the connection Django holds (so: in its transaction).

    With `binary_types` (the columns' PostgreSQL types) the rows go in COPY's binary format: no text to escape on
    this side or to parse on the server's, which counts for wide values such as packed bytes."""
    connection.ensure_connection()
    quote = connection.ops.quote_name
    statement = f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
    if binary_types:
        statement += " (FORMAT BINARY)"
    written = 0
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        if binary_types:
            copy.set_types(list(binary_types))
        write_row = copy.write_row
        for row in rows:
            write_row(row)
            written += 1
    return written


def write_rows(model, *, columns: Sequence[str], rows: Iterable[tuple], binary: bool = False) -> int:
    """Insert rows given as tuples in `columns` order (attribute names such as "organization_id"). `binary`: in
    COPY's binary format, which needs every value of exactly its column's type (no int for a date, say)."""
    if uses_copy():
        types = [_column_type(model, column) for column in columns] if binary else ()
        return copy_rows(table=model._meta.db_table, columns=columns, rows=rows, binary_types=types)
    written, chunk = 0, []
    for row in rows:
        chunk.append(model(**dict(zip(columns, row, strict=True))))
        if len(chunk) >= BULK_CREATE_CHUNK:
            written += len(model.objects.bulk_create(chunk))
            chunk = []
    if chunk:
        written += len(model.objects.bulk_create(chunk))
    return written


def _column_type(model, attname: str) -> str:
    """The PostgreSQL type name of a model's column, as COPY's binary format wants it ("varchar(10)" → "varchar")."""
    field = next(field for field in model._meta.concrete_fields if field.attname == attname)
    return field.db_type(connection).split("(")[0].strip()


def next_ids(model, count: int) -> list[int]:
    """`count` fresh primary keys from the table's own sequence, without blocking other writers.

    On SQLite (no sequences) the ids follow the current maximum; SQLite serialises writers anyway.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if uses_copy():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        (last,) = cursor.fetchone()
        return list(range(last + 1, last + 1 + count))


def reserve_ids(model, count: int) -> range:
    """A block of primary keys for rows written with explicit ids (children and chairs' trainings need them).

    The table is locked against other writers until the seeding commits, and its id sequence is moved past the
    block before a row is written: afterwards the application goes on from the right number.
    """
    if count == 0:
        return range(0)
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(table)} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute("SELECT nextval(%s)", [sequence])
            (first,) = cursor.fetchone()
            cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return range(first, first + count)
    # SQLite: the transaction holds the write lock from its start, so nobody takes these ids meanwhile.
    first = (model.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    return range(first, first + count)


def insert_without_waiting_for_the_disk(*instances) -> None:
    """Insert these new rows together, in one round trip to PostgreSQL, in a transaction whose commit does not wait
    for its WAL to be flushed (synchronous_commit off for that transaction only).

    For records that are many, small and not money, such as a card verification and its access-log line: a server
    crash may lose the last fraction of a second of them (at most three wal_writer_delay), the database stays
    consistent, and nothing else written by the process is affected. Outside a transaction of the caller's the rows
    get one of their own: the statements go as one simple-protocol query (Django binds parameters on the client),
    which PostgreSQL runs as a single implicit transaction, all or nothing. Inside the caller's transaction they
    simply join it. Elsewhere (the embedded SQLite) they are saved one by one in a transaction."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for instance in instances:
                instance.save(force_insert=True)
        return
    statement = _unflushed_insert_statement(tuple(type(instance) for instance in instances))
    parameters = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection=connection)
        for instance in instances
        for field in _inserted_fields(type(instance))
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)


def _inserted_fields(model) -> tuple:
    return tuple(field for field in model._meta.local_concrete_fields if not field.primary_key)


@functools.cache
def _unflushed_insert_statement(models: tuple) -> str:
    """Built once per combination of models: a verification should not pay for compiling the same SQL each time."""
    quote = connection.ops.quote_name
    statements = ["SELECT set_config('synchronous_commit', 'off', true)"]
    for model in models:
        fields = _inserted_fields(model)
        columns = ", ".join(quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        statements.append(f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})")
    return ";\n".join(statements)
