"""Backups of the register: the database and every file of the default storage, with a manifest a restore is
checked against.

A backup is a directory <BACKUP_DIR>/<UTC time>/ holding
    manifest.json     sizes and SHA-256 of every file below, the applied migrations, the row count of every table
                      and the access log's last record, all read in the very snapshot that was dumped
    database.dump     pg_dump's custom format (PostgreSQL), or database.sqlite3: a copy of the embedded SQLite
                      database made with sqlite3's online backup API
    media/...         the files of default_storage under their storage names (local folder or S3 alike)
It is written as "<name>.partial" and renamed when complete, so a directory without the suffix is whole.

A restore checks every size and SHA-256 before it touches anything, restores only into an empty (or new) database
unless forced, and then compares the restored database's figures with the manifest's.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dj_database_url
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from accounts.errors import DomainError
from accounts.models import AccessLog

FORMAT = 1
MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
MEDIA_DIR = "media"
CHUNK = 1024 * 1024
RESTORE_JOBS = 2
# The libpq parameters of DATABASES[...]["OPTIONS"] that pg_dump and pg_restore must get too; the others there
# (isolation_level, pool, server_side_binding, ...) are Django's or psycopg's own.
LIBPQ_OPTIONS = (
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "channel_binding", "gssencmode",
    "options", "connect_timeout", "application_name", "target_session_attrs", "service", "passfile",
)  # fmt: skip
MAINTENANCE_DATABASES = ("postgres", "template1")
# How long sqlite3's backup waits for a writer to let go of the database before it gives up.
SQLITE_BUSY_SECONDS = 60

# <UTC time>[-<n>]: sorting the names sorts the backups by age.
BACKUP_NAME = re.compile(r"\d{8}T\d{6}Z(-\d+)?")

Log = Callable[[str], None]


class BackupError(DomainError):
    pass


def _quiet(message: str) -> None:
    pass


@dataclass(frozen=True)
class Database:
    """Where a database is, as the tools need it: psycopg and pg_dump/pg_restore, or an SQLite file."""

    vendor: str  # "postgresql" | "sqlite"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings_dict: dict) -> "Database":
        engine = settings_dict["ENGINE"]
        if engine == "django.db.backends.sqlite3":
            return cls(vendor="sqlite", name=str(settings_dict["NAME"]))
        if engine != "django.db.backends.postgresql":
            raise BackupError(f"Резервное копирование умеет PostgreSQL и SQLite, а не {engine}.")
        options = settings_dict.get("OPTIONS") or {}
        return cls(
            vendor="postgresql",
            name=str(settings_dict["NAME"]),
            user=settings_dict.get("USER") or "",
            password=settings_dict.get("PASSWORD") or "",
            host=settings_dict.get("HOST") or "",
            port=str(settings_dict.get("PORT") or ""),
            options={key: str(value) for key, value in options.items() if key in LIBPQ_OPTIONS},
        )

    @classmethod
    def from_url(cls, url: str) -> "Database":
        return cls.from_settings(dj_database_url.parse(url))

    @property
    def label(self) -> str:
        if self.vendor == "sqlite":
            return f"SQLite «{self.name}»"
        return f"PostgreSQL «{self.name}» на {self.host or 'локальном сокете'}{':' + self.port if self.port else ''}"

    def conninfo(self, dbname: str | None = None) -> str:
        """The libpq connection string, without the password: that goes through PGPASSWORD, never into `ps`."""
        from psycopg.conninfo import make_conninfo

        params = {"dbname": dbname or self.name, "user": self.user, "host": self.host, "port": self.port}
        return make_conninfo("", **{key: value for key, value in params.items() if value}, **self.options)

    def connect(self, dbname: str | None = None, *, autocommit: bool = True):
        import psycopg

        return psycopg.connect(self.conninfo(dbname), password=self.password or None, autocommit=autocommit)

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


# Creating a backup


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float

    @property
    def total_bytes(self) -> int:
        return sum(entry["bytes"] for entry in self.manifest["files"])

    @property
    def media_files(self) -> int:
        return sum(1 for entry in self.manifest["files"] if entry["path"].startswith(MEDIA_DIR + "/"))


def backup_create(
    *,
    backup_dir: Path | str | None = None,
    using: str = "default",
    storage: Storage | None = None,
    include_media: bool = True,
    log: Log = _quiet,
) -> BackupResult:
    """Dump the database and copy the storage's files into a new directory under backup_dir, with its manifest."""
    started = time.monotonic()
    database = Database.from_settings(connections[using].settings_dict)
    storage = storage or default_storage
    backup_dir = Path(backup_dir or settings.BACKUP_DIR).resolve()
    _ensure_outside_storage(backup_dir, storage)
    created_at = timezone.now().astimezone(datetime.UTC)
    target = _free_name(backup_dir, created_at.strftime("%Y%m%dT%H%M%SZ"))
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True)
    try:
        if database.vendor == "postgresql":
            log(f"Снимок базы {database.label} (pg_dump, формат custom)…")
            database_info, figures = _pg_dump(database, partial / PG_DUMP_FILE)
        else:
            log(
                f"Встроенная база {database.label}: pg_dump для неё не нужен, файл базы копируется через "
                "sqlite3 backup API (согласованная копия, портал можно не останавливать)…"
            )
            database_info, figures = _sqlite_copy(connections[using], partial / SQLITE_FILE)
        files = [_file_entry(partial, database_info["file"])]
        if include_media:
            log(f"Файлы хранилища ({storage.__class__.__name__})…")
            files.extend(_media_copy(storage, partial / MEDIA_DIR))
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(),
            "database": database_info,
            "storage": f"{storage.__class__.__module__}.{storage.__class__.__name__}",
            "media_included": include_media,
            **figures,
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(path=target, manifest=manifest, seconds=time.monotonic() - started)


def backup_prune(*, backup_dir: Path | str | None = None, keep: int) -> list[Path]:
    """Delete all but the `keep` newest complete backups of backup_dir; unfinished (".partial") ones are left alone:
    one may be being written right now."""
    if keep < 1:
        raise BackupError("Хранить нужно хотя бы одну копию (--keep 1 или больше).")
    backup_dir = Path(backup_dir or settings.BACKUP_DIR)
    complete = sorted(
        path for path in backup_dir.iterdir() if BACKUP_NAME.fullmatch(path.name) and (path / MANIFEST).is_file()
    )
    removed = complete[:-keep]
    for path in removed:
        shutil.rmtree(path)
    return removed


def _free_name(directory: Path, name: str) -> Path:
    candidate, number = directory / name, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        number += 1
        candidate = directory / f"{name}-{number}"
    return candidate


def _ensure_outside_storage(backup_dir: Path, storage: Storage) -> None:
    """A backup written inside MEDIA_ROOT would be copied into the next backup, and that one into the next."""
    if isinstance(storage, FileSystemStorage):
        media_root = Path(storage.location).resolve()
        if backup_dir == media_root or media_root in backup_dir.parents:
            raise BackupError(
                f"Папка копий {backup_dir} лежит внутри MEDIA_ROOT ({media_root}): каждая копия попадала бы в "
                "следующую. Задайте BACKUP_DIR вне MEDIA_ROOT."
            )


def _pg_dump(database: Database, path: Path) -> tuple[dict, dict]:
    """pg_dump in the snapshot of a REPEATABLE READ transaction that stays open meanwhile: the figures of the
    manifest are read in that same snapshot, so they describe exactly the rows dumped, whatever the portal writes."""
    pg_dump = _pg_tool("pg_dump")
    with database.connect(autocommit=False) as conn:
        tool_version = _pg_tool_version(pg_dump)
        server_major = conn.info.server_version // 10000
        if _major(tool_version) < server_major:
            raise BackupError(
                f"{tool_version} не может снять копию с сервера PostgreSQL {server_major}: нужна версия не ниже "
                f"сервера (пакет postgresql-client-{server_major}; папку с ней можно указать в PG_BIN_DIR)."
            )
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={path}", f"--dbname={database.conninfo()}"],
            env=database.tool_env(),
            what="pg_dump",
        )
        figures = _figures(conn, "postgresql")
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        conn.rollback()
    info = {
        "vendor": "postgresql",
        "name": database.name,
        "host": database.host,
        "server_version": server_version,
        "tool": tool_version,
        "file": PG_DUMP_FILE,
    }
    return info, figures


def _sqlite_copy(django_connection, path: Path) -> tuple[dict, dict]:
    if django_connection.in_atomic_block:
        # The backup would wait for ever for the write lock this very connection holds.
        raise BackupError("Копию SQLite нельзя снять изнутри транзакции: запустите backup_create отдельно.")
    django_connection.ensure_connection()
    with closing(sqlite3.connect(path)) as copy:
        django_connection.connection.backup(copy, progress=_sqlite_patience(django_connection.settings_dict["NAME"]))
        # One self-contained file: the source's WAL mode would otherwise travel with the copy.
        copy.execute("PRAGMA journal_mode=DELETE")
        figures = _figures(copy, "sqlite")
    info = {"vendor": "sqlite", "name": django_connection.settings_dict["NAME"], "file": SQLITE_FILE}
    info["server_version"] = sqlite3.sqlite_version
    return info, figures


def _media_copy(storage: Storage, destination: Path) -> list[dict]:
    entries = []
    for name in _storage_walk(storage):
        target = destination.joinpath(*PurePosixPath(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with storage.open(name, "rb") as source, target.open("wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        entries.append({"path": f"{MEDIA_DIR}/{name}", "bytes": size, "sha256": digest.hexdigest()})
    return entries


def _storage_walk(storage: Storage, directory: str = "") -> Iterator[str]:
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:  # a local MEDIA_ROOT nothing was ever uploaded to
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for name in sorted(directories):
        yield from _storage_walk(storage, f"{directory}/{name}" if directory else name)


def _file_entry(root: Path, relative: str) -> dict:
    size, digest = _hash_file(root / relative)
    return {"path": relative, "bytes": size, "sha256": digest}


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# The figures a restore is checked against


def _figures(conn, vendor: str) -> dict:
    """Row count of every table, the applied migrations and the access log's last record, through a DB-API
    connection of either vendor (psycopg and sqlite3 both have conn.execute)."""
    if vendor == "postgresql":
        tables_sql = (
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
    else:
        tables_sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    tables = [row[0] for row in conn.execute(tables_sql).fetchall()]
    counts = {table: conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0] for table in tables}
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in counts:
        for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, id").fetchall():
            migrations.setdefault(app, []).append(name)
    last = None
    log_table = AccessLog._meta.db_table
    if log_table in counts:
        row = conn.execute(f"SELECT id, created_at FROM {_quote(log_table)} ORDER BY id DESC LIMIT 1").fetchone()
        if row is not None:
            last = {"id": row[0], "created_at": _utc_iso(row[1])}
    return {"tables": counts, "access_log_last": last, "migrations": migrations}


def _quote(identifier: str) -> str:
    """An SQL identifier in double quotes: the same syntax in PostgreSQL and SQLite."""
    return '"' + identifier.replace('"', '""') + '"'


def _utc_iso(value) -> str:
    """psycopg gives a datetime in the session's time zone, sqlite3 the text Django stored (UTC): one spelling."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).isoformat()


# Checking and restoring a backup


def backup_verify(*, path: Path | str) -> dict:
    """The manifest of a whole, undamaged backup; BackupError naming every file that is missing, extra, of another
    size or another SHA-256."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        suffix = " (копия не дописана)" if path.name.endswith(".partial") else ""
        raise BackupError(f"В {path} нет {MANIFEST}: это не резервная копия{suffix}.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["files"]
        database_file = manifest["database"]["file"]
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{MANIFEST} в {path} повреждён: {error}.") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Копия в формате {manifest.get('format')!r}, эта версия портала читает формат {FORMAT}.")
    problems, listed = [], set()
    for entry in entries:
        relative = _safe_relative(entry["path"])
        listed.add(relative)
        file = path.joinpath(*PurePosixPath(relative).parts)
        if not file.is_file():
            problems.append(f"{relative}: файла нет")
            continue
        size, digest = _hash_file(file)
        if size != entry["bytes"]:
            problems.append(f"{relative}: {size} байт, в манифесте {entry['bytes']}")
        elif digest != entry["sha256"]:
            problems.append(f"{relative}: SHA-256 не совпадает с манифестом")
    if database_file not in listed:
        problems.append(f"{database_file}: файла базы нет в манифесте")
    for file in sorted(path.rglob("*")):
        relative = file.relative_to(path).as_posix()
        if file.is_file() and relative != MANIFEST and relative not in listed:
            problems.append(f"{relative}: файла нет в манифесте")
    if problems:
        raise BackupError(
            f"Копия {path} повреждена, восстанавливать её нельзя:\n  " + "\n  ".join(problems)
        )  # fmt: skip
    return manifest


def _safe_relative(relative: str) -> str:
    """A manifest's path must stay inside the backup (and the storage): a forged one never writes elsewhere."""
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or "\\" in relative or not pure.parts:
        raise BackupError(f"В манифесте недопустимый путь {relative!r}: копия подделана или повреждена.")
    return pure.as_posix()


def backup_check_archive(*, path: Path | str, manifest: dict) -> str:
    """Beyond the hashes: pg_restore reads the dump's table of contents (SQLite: integrity_check)."""
    database_file = Path(path) / manifest["database"]["file"]
    if manifest["database"]["vendor"] == "postgresql":
        result = _run([_pg_tool("pg_restore"), "--list", str(database_file)], env=dict(os.environ), what="pg_restore")
        entries = sum(1 for line in result.splitlines() if line and not line.startswith(";"))
        return f"pg_restore читает оглавление дампа: {entries} объектов."
    with closing(sqlite3.connect(database_file.resolve().as_uri() + "?mode=ro", uri=True)) as copy:
        verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    if verdict != "ok":
        raise BackupError(f"Файл базы SQLite в копии повреждён: {verdict}")
    return "SQLite: integrity_check — ok."


@dataclass
class RestoreReport:
    target: str
    tables: int = 0
    rows: int = 0
    mismatches: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    media_written: int = 0
    media_unchanged: int = 0
    access_log_last: dict | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.mismatches


def backup_restore(
    *,
    path: Path | str,
    database_url: str | None = None,
    force: bool = False,
    include_media: bool = True,
    storage: Storage | None = None,
    log: Log = _quiet,
) -> RestoreReport:
    """Restore a backup into database_url (the configured database when not given) and the default storage, then
    compare the restored database with the manifest. Nothing is touched unless every file of the backup is whole."""
    started = time.monotonic()
    path = Path(path)
    log(f"Проверка размеров и SHA-256 всех файлов копии {path}…")
    manifest = backup_verify(path=path)
    target = (
        Database.from_url(database_url)
        if database_url
        else Database.from_settings(connections["default"].settings_dict)
    )
    source_vendor = manifest["database"]["vendor"]
    if target.vendor != source_vendor:
        raise BackupError(
            f"Копия базы {source_vendor} восстанавливается только в {source_vendor}, а не в {target.label}."
        )
    storage = storage or default_storage
    media = [entry for entry in manifest["files"] if entry["path"].startswith(MEDIA_DIR + "/")]
    states = _media_states(storage, media) if include_media else {}
    conflicts = [name for name, state in states.items() if state == "different"]
    if conflicts and not force:
        raise BackupError(
            f"В хранилище уже есть {len(conflicts)} файл(ов) с тем же именем и другим содержимым (например, "
            f"{conflicts[0]}): восстановление отменено. --force заменит их файлами копии."
        )
    report = RestoreReport(target=target.label)
    database_file = path / manifest["database"]["file"]
    if source_vendor == "postgresql":
        _pg_restore(target, database_file, force=force, log=log)
    else:
        _sqlite_restore(target, database_file, force=force, log=log)
    if include_media:
        log(f"Файлы в хранилище ({storage.__class__.__name__})…")
        for entry in media:
            name = entry["path"][len(MEDIA_DIR) + 1 :]
            if states[name] == "same":
                report.media_unchanged += 1
                continue
            if states[name] == "different":
                storage.delete(name)
            with (path / entry["path"]).open("rb") as source:
                saved = storage.save(name, File(source, name=name))
            if saved != name:
                raise BackupError(f"Хранилище сохранило {name} под другим именем ({saved}).")
            report.media_written += 1
    log("Сверка восстановленной базы с манифестом…")
    _compare(report, manifest, _target_figures(target))
    report.warnings.extend(_migration_warnings(manifest.get("migrations") or {}))
    report.seconds = time.monotonic() - started
    return report


def _media_states(storage: Storage, media: list[dict]) -> dict[str, str]:
    """For each file of the backup: "absent" from the storage, there and the "same", or there and "different"."""
    states = {}
    for entry in media:
        name = entry["path"][len(MEDIA_DIR) + 1 :]
        if not storage.exists(name):
            states[name] = "absent"
            continue
        digest = hashlib.sha256()
        with storage.open(name, "rb") as existing:
            while chunk := existing.read(CHUNK):
                digest.update(chunk)
        states[name] = "same" if digest.hexdigest() == entry["sha256"] else "different"
    return states


def _pg_restore(target: Database, dump: Path, *, force: bool, log: Log) -> None:
    pg_restore = _pg_tool("pg_restore")
    _pg_database_prepare(target, force=force, log=log)
    log(f"pg_restore в {target.label} ({RESTORE_JOBS} потока)…")
    _run(
        [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", f"--jobs={RESTORE_JOBS}",
         f"--dbname={target.conninfo()}", str(dump)],
        env=target.tool_env(),
        what="pg_restore",
    )  # fmt: skip
    # pg_restore leaves the planner without statistics: the first pages after a restore would pick bad plans.
    with target.connect() as conn:
        conn.execute("ANALYZE")


def _pg_database_prepare(target: Database, *, force: bool, log: Log) -> None:
    """Create the database when it does not exist; refuse one that holds anything unless forced (then empty it)."""
    import psycopg
    from psycopg import sql

    try:
        conn = target.connect()
    except psycopg.OperationalError as error:
        if not _pg_create_database(target, log=log):
            raise BackupError(f"Нет соединения с {target.label}: {error}".strip()) from error
        return
    with conn:
        objects = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        ).fetchone()[0]
        if not objects:
            log(f"База {target.label} пуста.")
            return
        if not force:
            raise BackupError(
                f"База {target.label} не пуста ({objects} таблиц и других объектов): восстановление поверх данных "
                "отменено. Укажите новую или пустую базу либо --force, чтобы удалить всё в ней и восстановить копию."
            )
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        log(f"--force: всё содержимое схемы {schema} в {target.label} удаляется…")
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def _pg_create_database(target: Database, *, log: Log) -> bool:
    """True when the database did not exist and has been created; False when it exists (or cannot be checked)."""
    import psycopg
    from psycopg import sql

    for maintenance in MAINTENANCE_DATABASES:
        try:
            admin = target.connect(maintenance)
        except psycopg.OperationalError:
            continue
        with admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target.name]).fetchone():
                return False
            log(f"Создаётся база {target.label}…")
            admin.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(target.name))
            )
            return True
    return False


def _sqlite_restore(target: Database, copy: Path, *, force: bool, log: Log) -> None:
    if target.name == ":memory:" or target.name.startswith("file:"):
        raise BackupError(f"Восстановить можно только в файл SQLite, а не в {target.name}.")
    target_path = Path(target.name)
    if target_path.exists():
        with closing(sqlite3.connect(target_path)) as existing:
            tables = existing.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables and not force:
            raise BackupError(
                f"База {target.label} не пуста ({tables} таблиц): восстановление поверх данных отменено. Укажите "
                "новый файл или --force, чтобы заменить её копией."
            )
    target_path.parent.mkdir(parents=True, exist_ok=True)
    log(f"Копирование базы в {target.label} (sqlite3 backup API)…")
    with (
        closing(sqlite3.connect(copy.resolve().as_uri() + "?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target_path)) as destination,
    ):
        source.backup(destination, progress=_sqlite_patience(target.name))


def _sqlite_patience(name: str):
    """sqlite3's backup retries a locked database for ever; this gives up after SQLITE_BUSY_SECONDS."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() > deadline:
            raise BackupError(f"База SQLite «{name}» занята записью дольше {SQLITE_BUSY_SECONDS} с: попробуйте позже.")

    return progress


def _target_figures(target: Database) -> dict:
    if target.vendor == "postgresql":
        with target.connect() as conn:
            return _figures(conn, "postgresql")
    with closing(sqlite3.connect(target.name)) as conn:
        return _figures(conn, "sqlite")


def _compare(report: RestoreReport, manifest: dict, restored: dict) -> None:
    for table, expected in sorted(manifest["tables"].items()):
        actual = restored["tables"].get(table)
        if actual is None:
            report.mismatches.append(f"таблицы {table} нет в восстановленной базе")
        elif actual != expected:
            report.mismatches.append(f"{table}: {actual} строк, в копии {expected}")
        else:
            report.tables += 1
            report.rows += actual
    report.access_log_last = restored["access_log_last"]
    if restored["access_log_last"] != manifest["access_log_last"]:
        report.mismatches.append(
            f"последняя запись журнала доступа {_describe_last(restored['access_log_last'])}, "
            f"в копии {_describe_last(manifest['access_log_last'])}"
        )


def _describe_last(last: dict | None) -> str:
    return f"№ {last['id']} от {last['created_at']}" if last else "— (журнал пуст)"


def _migration_warnings(applied: dict[str, list[str]]) -> list[str]:
    """The backup against this code: migrations it lacks are applied by `migrate`; ones the code lacks mean the
    backup was made by a newer version of the portal."""
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    in_backup = {(app, name) for app, names in applied.items() for name in names}
    warnings = []
    newer = sorted(key for key in in_backup - on_disk if key[0] in {app for app, _ in on_disk})
    if newer:
        warnings.append(
            f"в копии применены миграции, которых нет в этом коде ({', '.join('.'.join(key) for key in newer[:5])}"
            f"{'…' if len(newer) > 5 else ''}): копию сделала более новая версия портала"
        )
    missing = sorted(on_disk - in_backup)
    if missing:
        warnings.append(
            f"в копии не применены {len(missing)} миграций этого кода: выполните `manage.py migrate` перед запуском"
        )
    return warnings


# pg_dump and pg_restore


def _pg_tool(name: str) -> str:
    directory = settings.PG_BIN_DIR
    found = str(Path(directory) / name) if directory else shutil.which(name)
    if not found or not Path(found).is_file():
        where = f"в PG_BIN_DIR ({directory})" if directory else "в PATH"
        raise BackupError(
            f"Не найдена программа {name} {where}: установите клиент PostgreSQL той же версии, что сервер "
            "(пакет postgresql-client), или укажите его папку в PG_BIN_DIR."
        )
    return found


def _pg_tool_version(tool: str) -> str:
    return _run([tool, "--version"], env=dict(os.environ), what=Path(tool).name).strip()


def _major(version_text: str) -> int:
    match = re.search(r"\)\s+(\d+)", version_text) or re.search(r"(\d+)", version_text)
    return int(match.group(1)) if match else 0


def _run(command: list[str], *, env: dict[str, str], what: str) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise BackupError(f"{what} завершился с кодом {result.returncode}:\n{tail}")
    return result.stdout
