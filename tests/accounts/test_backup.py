"""Backups (`make backup`, `make restore`): a backup restored into a scratch database holds the same rows and the same
last access-log record; a damaged backup, a non-empty target or a restored database that differs is refused.

The tests run on whichever database the suite runs on: PostgreSQL (pg_dump -Fc, pg_restore into a scratch database
created by the restore itself) or the embedded SQLite (sqlite3's backup API, restored into a scratch file). The rows
a test compares are committed (transactional tests): pg_dump reads the database through a connection of its own.
"""

import datetime
import io
import json
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.backup import backup_create
from accounts.models import AccessLog, User
from accounts.services import access_log_write
from membership.models import Member
from registry.models import Organization
from tests.factories import MemberFactory
from tests.test_celery_worker import _remove_rows_the_trigger_guards

ROOT = Path(__file__).resolve().parents[2]
SCAN = "consents/2026/скан согласия.pdf"
SCAN_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 5000  # 1.2 MB: more than one chunk of the streamed copy
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# For the tests whose rows do not matter: pg_dump reads what is committed, so on PostgreSQL the test's transaction
# (cheap to roll back) is fine; sqlite3's backup API cannot read past the write lock of that transaction, so on
# SQLite they commit (and the flush there is cheap).
any_committed_state = pytest.mark.django_db(transaction=not ON_POSTGRES)


@pytest.fixture
def access_log_flushed(transactional_db):
    """The flush after a transactional test on SQLite is a DELETE, which the 152-FZ trigger refuses."""
    yield
    _remove_rows_the_trigger_guards()


@pytest.fixture(autouse=True)
def backup_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"


@pytest.fixture
def uploaded():
    default_storage.save(SCAN, ContentFile(SCAN_BYTES))
    default_storage.save("partners/logo.png", ContentFile(b"\x89PNG\r\n\x1a\n"))


@pytest.fixture
def register(access_log_flushed, union, users, uploaded):
    """A few organisations, users and members, log records and an uploaded scan, all committed (the tests that use
    it are transactional: pg_dump reads through a connection of its own)."""
    for number in range(3):
        MemberFactory(organization=union.primary_a1a, last_name=f"Резервова{number}")
    MemberFactory(organization=union.primary_b1a)
    for member in Member.objects.order_by("id"):
        access_log_write(user=users.chair, action=AccessLog.Action.VIEW, obj=member, ip_address="203.0.113.7")
    access_log_write(user=users.central, action=AccessLog.Action.EXPORT, object_repr="Выгрузка перед копией")
    return union


@pytest.fixture
def scratch(tmp_path):
    """A database URL nobody uses yet (PostgreSQL: a new name on the same server, dropped at the end; SQLite: a new
    file) and a way to open it."""
    if not ON_POSTGRES:
        yield Scratch(url=f"sqlite:///{tmp_path / 'restored.sqlite3'}", name=str(tmp_path / "restored.sqlite3"))
        return
    db = connection.settings_dict
    name = f"backup_scratch_{uuid.uuid4().hex[:10]}"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    url = f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
    yield Scratch(url=url, name=name)
    with _admin(autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Scratch:
    def __init__(self, *, url: str, name: str):
        self.url, self.name = url, name

    def exists(self) -> bool:
        if not ON_POSTGRES:
            return Path(self.name).exists()
        with _admin() as admin:
            return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.name]).fetchone() is not None

    def query(self, sql: str) -> list[tuple]:
        if not ON_POSTGRES:
            with closing(sqlite3.connect(self.name)) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        password = connection.settings_dict["PASSWORD"] or None
        with psycopg.connect(_libpq(dbname=self.name), password=password) as conn:
            return conn.execute(sql).fetchall()

    def count(self, model) -> int:
        return self.query(f"SELECT count(*) FROM {model._meta.db_table}")[0][0]


def _libpq(*, dbname: str) -> str:
    db = connection.settings_dict
    return f"dbname={dbname} user={db['USER']} host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432}"


def _admin(*, autocommit: bool = False):
    import psycopg

    password = connection.settings_dict["PASSWORD"] or None
    return psycopg.connect(_libpq(dbname="postgres"), password=password, autocommit=autocommit)


def aware(value) -> datetime.datetime:
    """psycopg reads an aware datetime; sqlite3 the UTC text Django wrote."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value


def run(command: str, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=out, **options)
    return out.getvalue()


def only_backup() -> Path:
    (path,) = Path(settings.BACKUP_DIR).iterdir()
    return path


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_scratch_database_with_the_same_rows_and_last_log_record(
    register, scratch, settings, tmp_path
):
    output = run("backup_create")
    backup = only_backup()
    manifest = json.loads((backup / "manifest.json").read_text(encoding="utf-8"))
    last = AccessLog.objects.order_by("-id").first()
    files = {entry["path"]: entry for entry in manifest["files"]}
    assert str(backup) in output
    assert files[f"media/{SCAN}"]["bytes"] == len(SCAN_BYTES)
    assert (backup / "media" / SCAN).read_bytes() == SCAN_BYTES
    assert set(files) == {manifest["database"]["file"], f"media/{SCAN}", "media/partners/logo.png"}
    assert manifest["database"]["name"] == connection.settings_dict["NAME"]
    assert manifest["tables"]["membership_member"] == 4
    assert manifest["tables"]["accounts_accesslog"] == AccessLog.objects.count() == 5
    assert manifest["access_log_last"]["id"] == last.id
    assert "0002_access_log_append_only" in manifest["migrations"]["accounts"]

    settings.MEDIA_ROOT = tmp_path / "media-of-the-restored-portal"
    output = run("backup_restore", str(backup), database_url=scratch.url)

    assert "Копия восстановлена и сверена" in output
    assert "записано 2, уже были такими же 0" in output
    for model in (Organization, Member, AccessLog, User):
        assert scratch.count(model) == model.objects.count() > 0, model
    ((restored_id, restored_at, restored_repr),) = scratch.query(
        "SELECT id, created_at, object_repr FROM accounts_accesslog ORDER BY id DESC LIMIT 1"
    )
    assert (restored_id, restored_repr) == (last.id, "Выгрузка перед копией")
    assert aware(restored_at) == last.created_at
    assert default_storage.open(SCAN).read() == SCAN_BYTES
    assert default_storage.listdir("partners") == ([], ["logo.png"])

    # Never over data by accident; on purpose (--force) the database is emptied and restored again.
    with pytest.raises(CommandError, match="не пуста"):
        run("backup_restore", str(backup), database_url=scratch.url)
    output = run("backup_restore", str(backup), database_url=scratch.url, force=True)
    assert "Копия восстановлена и сверена" in output
    assert "записано 0, уже были такими же 2" in output
    assert scratch.count(Member) == 4


@any_committed_state
def test_a_tampered_file_makes_restore_refuse_before_touching_anything(uploaded, scratch, settings, tmp_path):
    run("backup_create")
    backup = only_backup()
    with (backup / "media" / SCAN).open("r+b") as scan:
        scan.seek(1000)
        scan.write(b"\x00")
    settings.MEDIA_ROOT = tmp_path / "empty-media"

    with pytest.raises(CommandError, match=r"повреждена.*\n.*SHA-256 не совпадает"):
        run("backup_restore", str(backup), database_url=scratch.url)

    assert not scratch.exists()
    assert not (tmp_path / "empty-media").exists()


@any_committed_state
def test_check_passes_a_whole_backup_and_names_a_cut_dump_or_a_stray_file_with_a_non_zero_exit(uploaded):
    run("backup_create")
    backup = only_backup()
    output = run("backup_restore", str(backup), check=True)
    assert "совпадают с манифестом" in output
    assert "цела" in output

    database_file = next(path for path in backup.iterdir() if path.name.startswith("database."))
    database_file.write_bytes(database_file.read_bytes()[:-10])
    (backup / "media" / "added-later.txt").write_text("не из копии")
    result = subprocess.run(
        [sys.executable, "manage.py", "backup_restore", str(backup), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert f"{database_file.name}: " in result.stderr
    assert "в манифесте" in result.stderr
    assert "media/added-later.txt: файла нет в манифесте" in result.stderr


@any_committed_state
def test_restore_fails_when_the_restored_database_differs_from_the_manifest(scratch):
    """The manifest is the reference: a restore that ends with other figures is reported and exits non-zero."""
    run("backup_create")
    manifest_path = only_backup() / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tables"]["membership_member"] += 1
    manifest["access_log_last"] = {"id": 1, "created_at": "2026-01-01T00:00:00+00:00"}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")

    out = io.StringIO()
    with pytest.raises(CommandError, match="не совпадает с копией \\(2 расхождений\\)"):
        call_command("backup_restore", str(manifest_path.parent), database_url=scratch.url, stdout=out, stderr=out)
    assert "membership_member: 0 строк, в копии 1" in out.getvalue()
    assert "последняя запись журнала доступа — (журнал пуст), в копии № 1" in out.getvalue()


@any_committed_state
def test_a_forged_manifest_path_never_leaves_the_backup():
    run("backup_create")
    backup = only_backup()
    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"].append({"path": "media/../../outside.txt", "bytes": 0, "sha256": ""})
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    with pytest.raises(CommandError, match="недопустимый путь"):
        run("backup_restore", str(backup), check=True)


@any_committed_state
def test_keep_leaves_the_newest_backups_and_any_unfinished_one(settings):
    backups = Path(settings.BACKUP_DIR)
    for name in ("20250101T020000Z", "20250102T020000Z", "20250103T020000Z", "20250103T020000Z-2"):
        (backups / name).mkdir(parents=True)
        (backups / name / "manifest.json").write_text("{}")
    (backups / "20250104T020000Z.partial").mkdir()
    (backups / "notes").mkdir()

    output = run("backup_create", keep=3)

    kept = {"20250103T020000Z", "20250103T020000Z-2", "20250104T020000Z.partial", "notes"}
    left = {path.name for path in backups.iterdir()}
    assert left > kept
    assert len(left - kept) == 1  # the new one
    assert "Удалена старая копия 20250101T020000Z." in output


def test_a_backup_directory_inside_media_root_is_refused(settings):
    settings.BACKUP_DIR = Path(settings.MEDIA_ROOT) / "backups"

    with pytest.raises(CommandError, match="внутри MEDIA_ROOT"):
        run("backup_create")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(ON_POSTGRES, reason="the embedded SQLite's own path; this run is on PostgreSQL")
def test_sqlite_is_copied_with_its_backup_api_not_pg_dump(register):
    output = run("backup_create")

    backup = only_backup()
    assert "sqlite3 backup API" in output
    assert "pg_dump для неё не нужен" in output
    assert sorted(path.name for path in backup.iterdir()) == ["database.sqlite3", "manifest.json", "media"]
    with closing(sqlite3.connect(backup / "database.sqlite3")) as copy:
        assert copy.execute("SELECT count(*) FROM membership_member").fetchone() == (4,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.django_db
@pytest.mark.skipif(ON_POSTGRES, reason="the embedded SQLite's own path; this run is on PostgreSQL")
def test_sqlite_backup_inside_a_transaction_is_refused_rather_than_waiting_for_its_own_lock():
    with pytest.raises(CommandError, match="изнутри транзакции"):
        run("backup_create")

    assert list(Path(settings.BACKUP_DIR).iterdir()) == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_backup_is_a_pg_dump_custom_archive_with_the_log_trigger():
    result = backup_create()

    dump = result.path / "database.dump"
    assert dump.read_bytes()[:5] == b"PGDMP"
    assert result.manifest["database"]["tool"].startswith("pg_dump (PostgreSQL)")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "TABLE DATA public membership_member" in listing
    assert "TRIGGER public accounts_accesslog accounts_accesslog_append_only" in listing
