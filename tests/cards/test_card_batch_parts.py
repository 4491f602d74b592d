"""A batch's vendor package built in parts: each part on its own (a Celery chord; here eager, inline), then streamed
into one ZIP. Whatever happens to a part (a failure, a retry, a killed worker, a damaged file), the package holds
every number exactly once, in order, and its manifest matches its files."""

import csv
import datetime
import hashlib
import io
import json
import math
import re
import traceback
import zipfile

import pypdfium2
import pytest
import zxingcpp
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from cards import batch_build, tasks
from cards.models import CardBatch, CardBatchChunk
from cards.selectors import card_batch_can_rebuild
from cards.services import card_batch_form, card_request_approve, card_request_create
from tests.factories import MemberFactory

CARDS = 23  # parts of ten: 10, 10 and 3


@pytest.fixture(autouse=True)
def parts_of_ten(settings):
    settings.CARD_BATCH_CHUNK_SIZE = 10


def approve_requests(union, users, count: int = CARDS) -> list[str]:
    numbers = []
    for number in range(count):
        member = MemberFactory(organization=union.primary_a1a, last_name=f"Частева{number}", first_name="Нина", middle_name="Петровна", search_name=f"частева{number} нина петровна", card_consents=True)  # fmt: skip
        request = card_request_approve(request=card_request_create(member=member, by=users.chair), by=users.regional)
        numbers.append(request.card.number)
    return numbers


@pytest.fixture
def numbers(union, users) -> list[str]:
    return approve_requests(union, users)


@pytest.fixture
def batch(numbers, users) -> CardBatch:
    return card_batch_form(by=users.regional)


def decoded_proofs(pdf: bytes, count: int) -> list[str]:
    """The barcode of each proof page, read back from the rendered page as a scanner would."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) == count + math.ceil(count / 10)  # a proof per card, then A4 sheets of ten
        return [
            "".join(result.text for result in zxingcpp.read_barcodes(document[page].render(scale=4).to_pil()))
            for page in range(count)
        ]
    finally:
        document.close()


def assert_package_exact(batch: CardBatch, numbers: list[str]) -> dict:
    """Every number exactly once and in order, in the PDFs (decoded) and in the CSV; the manifest lists the files in
    order with their true SHA-256 and size; the batch's checksum is the ZIP's."""
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.READY, batch.failure
    with batch.package.open("rb") as handle:
        content = handle.read()
    assert hashlib.sha256(content).hexdigest() == batch.package_sha256
    archive = zipfile.ZipFile(io.BytesIO(content))
    manifest = json.loads(archive.read("manifest.json"))
    pdfs = [entry for entry in manifest["files"] if entry["name"].endswith(".pdf")]
    assert [entry["name"] for entry in pdfs] == [f"cards-{index:04d}.pdf" for index in range(1, len(pdfs) + 1)]
    assert archive.namelist() == [entry["name"] for entry in manifest["files"]] + ["manifest.json"]
    assert manifest["files"][-1]["name"] == "personalization.csv"
    for entry in manifest["files"]:
        data = archive.read(entry["name"])
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["bytes"])
    decoded = []
    for entry in pdfs:
        proofs = decoded_proofs(archive.read(entry["name"]), entry["count"])
        assert (proofs[0], proofs[-1]) == (entry["first_number"], entry["last_number"])
        decoded += proofs
    assert decoded == sorted(numbers)
    rows = list(csv.reader(io.StringIO(archive.read("personalization.csv").decode("utf-8"))))
    assert [row[0] for row in rows[1:]] == decoded
    assert manifest["count"] == batch.card_count == len(numbers)
    return manifest


@pytest.fixture
def renders(monkeypatch):
    """Which parts were rendered, in order of the calls (a part's first card number names it)."""
    calls = []
    original = batch_build.cards_pdf

    def spy(faces, **kwargs):
        calls.append(faces[0].number)
        return original(faces, **kwargs)

    monkeypatch.setattr(batch_build, "cards_pdf", spy)
    return calls


def test_a_batch_is_built_in_parts_and_the_package_lists_them_in_order(
    client_for, users, numbers, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(users.regional).post(reverse("cards:card_batch_form"))
    batch = CardBatch.objects.get()
    manifest = assert_package_exact(batch, numbers)
    assert [entry["count"] for entry in manifest["files"][:-1]] == [10, 10, 3]
    chunks = list(batch.chunks.all())
    assert [(chunk.index, chunk.card_count) for chunk in chunks] == [(1, 10), (2, 10), (3, 3)]
    assert all(chunk.rendered_at for chunk in chunks)
    # The parts' files were copied into the package and removed; only the package stays in storage.
    assert not any(chunk.pdf or chunk.csv for chunk in chunks)
    folder = batch_build._batch_storage_folder(batch.pk)
    assert [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]] == [batch.package.name]
    assert client_for(users.regional).get(reverse("cards:card_batch_status", args=[batch.pk])).json() == {
        "status": "ready", "running": False, "progress": 100,
    }  # fmt: skip


def test_the_chunk_size_is_rounded_up_to_whole_sheets(settings):
    settings.CARD_BATCH_CHUNK_SIZE = 15
    assert batch_build.chunk_size() == 20
    settings.CARD_BATCH_CHUNK_SIZE = 0
    assert batch_build.chunk_size() == 10


def test_a_part_that_fails_once_is_retried_alone(batch, numbers, monkeypatch):
    original, attempts = batch_build.cards_pdf, []

    def fail_part_two_once(faces, **kwargs):
        attempts.append(faces[0].number)
        if faces[0].number == sorted(numbers)[10] and attempts.count(faces[0].number) == 1:
            raise OSError("диск изготовителя недоступен")
        return original(faces, **kwargs)

    monkeypatch.setattr(batch_build, "cards_pdf", fail_part_two_once)
    tasks.card_batch_build.delay(batch.pk)

    assert_package_exact(batch, numbers)
    ordered = sorted(numbers)
    assert attempts == [ordered[0], ordered[10], ordered[10], ordered[20]]  # part 2 twice, the others once
    assert batch.failure == ""


def test_a_rerun_after_a_killed_worker_renders_only_the_missing_parts(batch, numbers, renders):
    """The worker died after part 2 was recorded and while it was writing part 1: the batch stays «building», a
    half-written file lies in storage unrecorded. The rerun (the redelivered message, or «Собрать заново») renders
    parts 1 and 3 only and never takes the half-written file."""
    assert batch_build.card_batch_plan(batch_id=batch.pk) == [1, 2, 3]
    part_two = batch_build.card_batch_chunk_render(batch_id=batch.pk, index=2)
    folder = batch_build._batch_storage_folder(batch.pk)
    default_storage.save(f"{folder}/chunk-0001-deadbeef.pdf", ContentFile(b"%PDF-1.4 half of a"))
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.BUILDING and renders == [sorted(numbers)[10]]

    tasks.card_batch_build.delay(batch.pk)

    assert_package_exact(batch, numbers)
    assert renders == [sorted(numbers)[10], sorted(numbers)[0], sorted(numbers)[20]]
    assert CardBatchChunk.objects.get(pk=part_two.pk).rendered_at == part_two.rendered_at
    assert [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]] == [batch.package.name]  # no leftover


def test_a_second_run_of_a_ready_batch_changes_nothing(batch, numbers, renders):
    tasks.card_batch_build.delay(batch.pk)
    batch.refresh_from_db()
    checksum, package = batch.package_sha256, batch.package.name
    assert batch_build.card_batch_plan(batch_id=batch.pk) is None
    tasks.card_batch_build.delay(batch.pk)
    batch_build.card_batch_assemble(batch_id=batch.pk)
    batch_build.card_batch_chunk_render(batch_id=batch.pk, index=1)
    batch.refresh_from_db()
    assert (batch.package_sha256, batch.package.name) == (checksum, package)
    assert len(renders) == 3


def test_a_damaged_part_in_storage_is_rendered_anew_by_the_assembly_retry(batch, numbers, renders):
    for index in batch_build.card_batch_plan(batch_id=batch.pk):
        batch_build.card_batch_chunk_render(batch_id=batch.pk, index=index)
    damaged = CardBatchChunk.objects.get(batch=batch, index=3)
    with default_storage.open(damaged.pdf.name, "wb") as handle:
        handle.write(b"%PDF-1.4 not what the worker wrote")

    tasks.card_batch_build.delay(batch.pk)  # nothing left to render: straight to the assembly, which retries

    assert_package_exact(batch, numbers)
    assert renders[-1] == sorted(numbers)[20] and len(renders) == 4


def test_a_part_that_keeps_failing_fails_the_batch_and_a_rebuild_renders_only_what_is_missing(
    client_for, users, batch, numbers, renders, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    original = batch_build.cards_pdf
    monkeypatch.setattr(
        batch_build, "cards_pdf",
        lambda faces, **kwargs: (_ for _ in ()).throw(OSError("нет места")) if faces[0].number == sorted(numbers)[20]
        else original(faces, **kwargs),
    )  # fmt: skip
    with pytest.raises(OSError):
        tasks.card_batch_build.delay(batch.pk)  # eager: the error reaches the caller after the retries
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.FAILED
    assert "Не удалось подготовить часть 3 пакета" in batch.failure
    # The page gives the code to quote; the error itself is in the log under that code, never on the page.
    reference = re.search(r"код сбоя ([0-9A-F]{4}-[0-9A-F]{4})", batch.failure).group(1)
    logged = next(record for record in caplog.records if reference in record.getMessage())
    assert "нет места" in "".join(traceback.format_exception(*logged.exc_info))
    assert not batch.package
    page = client_for(users.regional).get(reverse("cards:card_batch", args=[batch.pk])).content.decode()
    assert "Пакет не собран" in page and reference in page and "Собрать заново" in page
    assert "нет места" not in page and "OSError" not in page

    monkeypatch.setattr(batch_build, "cards_pdf", original)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users.regional).post(reverse("cards:card_batch_rebuild", args=[batch.pk]))
    assert response.status_code == 302
    assert_package_exact(batch, numbers)
    assert renders == [sorted(numbers)[0], sorted(numbers)[10], sorted(numbers)[20]]  # parts 1 and 2 only once
    assert batch.chunks.filter(rendered_at__isnull=False).count() == 3


def test_only_a_failed_or_stalled_build_can_be_started_again(client_for, users, batch, numbers):
    assert not card_batch_can_rebuild(batch)  # being built right now
    CardBatch.objects.filter(pk=batch.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=20),
        status_changed_at=timezone.now() - datetime.timedelta(minutes=20),
    )
    batch.refresh_from_db()
    assert card_batch_can_rebuild(batch)  # nothing moved for 20 minutes: its workers are gone

    tasks.card_batch_build.delay(batch.pk)
    batch.refresh_from_db()
    assert not card_batch_can_rebuild(batch)
    response = client_for(users.regional).post(reverse("cards:card_batch_rebuild", args=[batch.pk]), follow=True)
    assert "собирать заново нечего" in response.content.decode()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("regional", 302), ("central", 302), ("other_regional", 404), ("chair", 403), ("local", 403), ("member", 403)],
)
def test_who_may_start_a_build_again(client_for, users, batch, role, expected, django_capture_on_commit_callbacks):
    CardBatch.objects.filter(pk=batch.pk).update(status=CardBatch.Status.FAILED, failure="сбой")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(users.by_role(role)).post(reverse("cards:card_batch_rebuild", args=[batch.pk]))
    assert response.status_code == expected
    batch.refresh_from_db()
    assert batch.status == (CardBatch.Status.READY if expected == 302 else CardBatch.Status.FAILED)


def test_a_part_whose_requests_left_the_batch_fails_instead_of_printing_other_cards(batch, numbers):
    assert batch_build.card_batch_plan(batch_id=batch.pk) == [1, 2, 3]
    batch.requests.filter(card__number=sorted(numbers)[3]).update(batch=None)
    with pytest.raises(batch_build.BatchChanged):
        tasks.card_batch_build.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == CardBatch.Status.FAILED and "часть 1 пакета" in batch.failure
