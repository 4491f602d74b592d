"""A batch's vendor package, built in parts on many workers and assembled in storage.

card_batch_plan          fixes the parts once: positions in the batch's requests ordered by card number
card_batch_chunk_render  renders one part (its PDF and its rows of the CSV) into storage and records it
card_batch_assemble      streams the recorded parts into the ZIP in storage and marks the batch ready
card_batch_build         all of it in this process, one part after another (the benchmark's baseline, a shell)

cards.tasks runs the parts as a Celery chord whose body is the assembly. Every step is safe to run again: a part
recorded as rendered is skipped, a part is recorded only after both its files are in storage, and an assembly of a
batch that is no longer being built does nothing. Everything a step writes goes into the batch's own folder under a
name of that attempt: a worker killed while writing a part or the package leaves an unrecorded file, which is never
read and is removed with the rest when the package is ready. Files go only through Django's storage API: the web
process that serves the package never needs a worker's disk.

A build always ends in a state its page explains (README, «Сбои»): ready, or failed with the reason and a code the
staff quote to support (registry.failures) once a step has given up, or failed by the beat task
(card_batches_fail_stuck) when nothing has moved for CARD_BATCH_TIME_LIMIT. A build that could not be queued
(Redis down) is handed to the queue by the beat task once Redis is back (card_batches_unqueued).
"""

import datetime
import hashlib
import logging
import math
import secrets
import tempfile
from enum import StrEnum
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import CardBatch, CardBatchChunk, CardRequest
from cards.numbers import card_number_grouped
from cards.package import (
    SHEET_COLUMNS,
    SHEET_ROWS,
    CardFace,
    PackagePart,
    PackagePartCorrupt,
    cards_pdf,
    personalization_csv,
    vendor_package_write,
)
from cards.selectors import batch_progress_key
from registry.failures import failure_logged

logger = logging.getLogger(__name__)

CARDS_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS
HASH_BUFFER = 1024 * 1024
# The assembly is the last step of the bar: the parts fill it up to here.
PARTS_SHARE_OF_PROGRESS = 95
# A build on which nothing has moved this long (no part finished, not queued or started again) was lost with its
# workers: the beat task fails it. Every step stops itself well before (cards.tasks, time limits).
CARD_BATCH_TIME_LIMIT = datetime.timedelta(minutes=30)
# A build the beat task finds not queued this long after it was asked for is sent by it: the view that asked is
# done with it by then, having queued it or found the queue down.
CARD_BATCH_QUEUE_GRACE = datetime.timedelta(minutes=1)


class BatchChanged(Exception):
    """A part no longer finds the cards it was planned with: the batch's requests changed under the build."""


def chunk_size() -> int:
    """CARD_BATCH_CHUNK_SIZE rounded up to whole A4 sheets of ten cards."""
    return max(1, math.ceil(settings.CARD_BATCH_CHUNK_SIZE / CARDS_PER_SHEET)) * CARDS_PER_SHEET


def _batch_storage_folder(batch_id: int) -> str:
    return f"card-batches/parts/{batch_id}"


def _progress_set(batch_id: int) -> None:
    """Parts rendered of all, in the cache the page polls (the build's rows are read by the page only when done)."""
    counts = CardBatchChunk.objects.filter(batch_id=batch_id).aggregate(
        total=Count("id"), done=Count("id", filter=Q(rendered_at__isnull=False))
    )
    percent = counts["done"] * PARTS_SHARE_OF_PROGRESS // counts["total"] if counts["total"] else 0
    cache.set(batch_progress_key(batch_id), percent, timeout=24 * 3600)


@transaction.atomic
def card_batch_plan(*, batch_id: int) -> list[int] | None:
    """The indexes of the parts still to render, or None if the batch is not being built. The parts are fixed by
    the first call: slices of the batch's card numbers in order, so a rerun or a changed chunk size later renders
    exactly the same cards into the same parts."""
    batch = CardBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != CardBatch.Status.BUILDING:
        return None
    if batch.build_queued_at is None:  # it reached a worker, whatever the view that sent it could record
        batch.build_queued_at = timezone.now()
        batch.save(update_fields=["build_queued_at"])
    if not batch.chunks.exists():
        ordered = list(batch.requests.order_by("card__number", "pk").values_list("card__number", "pk"))
        numbers = [number for number, _pk in ordered]
        if None in numbers or len(set(numbers)) != len(numbers):
            raise BatchChanged(f"batch {batch_id}: a request without a card number, or one number twice")
        size = chunk_size()
        CardBatchChunk.objects.bulk_create(
            CardBatchChunk(
                batch=batch, index=start // size + 1, first_number=part[0][0], last_number=part[-1][0],
                card_count=len(part), request_ids=[pk for _number, pk in part],
            )
            for start in range(0, len(ordered), size)
            for part in [ordered[start : start + size]]
        )  # fmt: skip
    pending = list(batch.chunks.filter(rendered_at=None).order_by("index").values_list("index", flat=True))
    transaction.on_commit(lambda: _progress_set(batch_id))
    return pending


# Primary keys per query: under SQLite's oldest limit of bound parameters.
READ_SLICE = 500


def _chunk_faces(chunk: CardBatchChunk) -> list[CardFace]:
    requests = []
    for start in range(0, len(chunk.request_ids), READ_SLICE):
        requests += (
            CardRequest.objects.filter(batch_id=chunk.batch_id, pk__in=chunk.request_ids[start : start + READ_SLICE])
            .select_related("card", "member__organization__region")
            .only("card__number", "member__last_name", "member__first_name", "member__middle_name",
                  "member__organization__name", "member__organization__region__name")
        )  # fmt: skip
    requests.sort(key=lambda request: (request.card.number, request.pk))
    faces = [
        CardFace(
            number=request.card.number,
            last_name=request.member.last_name,
            first_name=request.member.first_name,
            middle_name=request.member.middle_name,
            organization=request.member.organization.name,
            region=request.member.organization.region.name if request.member.organization.region else "",
        )
        for request in requests
    ]
    if len(faces) != chunk.card_count or (faces and (faces[0].number, faces[-1].number) != (
        chunk.first_number, chunk.last_number
    )):  # fmt: skip
        raise BatchChanged(f"part {chunk}: its requests left the batch or changed their cards")
    return faces


def card_batch_chunk_render(*, batch_id: int, index: int, worker: str = "") -> CardBatchChunk:
    """Render one part into storage and record it. Two workers rendering one part (a redelivered message) write
    files of their own; the first record stands and the other's files are removed."""
    chunk = CardBatchChunk.objects.select_related("batch").get(batch_id=batch_id, index=index)
    if chunk.rendered_at is not None or chunk.batch.status not in (CardBatch.Status.BUILDING, CardBatch.Status.FAILED):
        return chunk
    faces = _chunk_faces(chunk)
    pdf = cards_pdf(faces)
    rows = personalization_csv(faces, header=False)
    storage = chunk.pdf.storage
    # A name of this attempt's own: a half-written file of a killed attempt is never mistaken for this one.
    stem = f"{_batch_storage_folder(batch_id)}/chunk-{index:04d}-{secrets.token_hex(4)}"
    pdf_name = storage.save(f"{stem}.pdf", ContentFile(pdf))
    csv_name = storage.save(f"{stem}.csv", ContentFile(rows))
    recorded = CardBatchChunk.objects.filter(pk=chunk.pk, rendered_at=None).update(
        pdf=pdf_name, csv=csv_name, pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_bytes=len(pdf),
        rendered_at=timezone.now(), worker=worker[:200],
    )  # fmt: skip
    if not recorded:
        storage.delete(pdf_name)
        storage.delete(csv_name)
    _progress_set(batch_id)
    chunk.refresh_from_db()
    return chunk


def _sha256_of(file) -> str:
    file.seek(0)
    digest = hashlib.sha256()
    while piece := file.read(HASH_BUFFER):
        digest.update(piece)
    file.seek(0)
    return digest.hexdigest()


def _parts_check(batch: CardBatch, chunks: list[CardBatchChunk]) -> None:
    """Every card once and in order: the parts follow each other by number and add up to the batch."""
    if sum(chunk.card_count for chunk in chunks) != batch.card_count:
        raise BatchChanged(f"batch {batch.pk}: parts hold {sum(c.card_count for c in chunks)} of {batch.card_count}")
    for position, chunk in enumerate(chunks, start=1):
        if chunk.index != position or chunk.first_number > chunk.last_number:
            raise BatchChanged(f"batch {batch.pk}: part {chunk.index} out of order")
        if position > 1 and chunks[position - 2].last_number >= chunk.first_number:
            raise BatchChanged(f"batch {batch.pk}: parts {position - 1} and {position} overlap")


def card_batch_assemble(*, batch_id: int, worker: str = "") -> CardBatch:
    """Stream the parts into the package in storage and mark the batch ready. A part still missing (a chord whose
    count was upset by a redelivered message) is rendered here first; a stored part that does not match its
    checksum is marked missing again and the step fails, so its retry renders that part anew."""
    batch = CardBatch.objects.get(pk=batch_id)
    if batch.status != CardBatch.Status.BUILDING:
        return batch
    for index in batch.chunks.filter(rendered_at=None).order_by("index").values_list("index", flat=True):
        card_batch_chunk_render(batch_id=batch_id, index=index, worker=worker)
    chunks = list(batch.chunks.order_by("index"))
    _parts_check(batch, chunks)
    storage = batch.package.storage
    parts = [
        PackagePart(
            index=chunk.index, pdf_name=chunk.pdf_name, open_pdf=partial(storage.open, chunk.pdf.name, "rb"),
            open_csv=partial(storage.open, chunk.csv.name, "rb"), pdf_sha256=chunk.pdf_sha256,
            pdf_bytes=chunk.pdf_bytes, count=chunk.card_count, first_number=chunk.first_number,
            last_number=chunk.last_number,
        )
        for chunk in chunks
    ]  # fmt: skip
    # The ZIP is spooled to a temporary file of this worker and copied into storage in pieces (a multipart upload
    # on S3): neither the package nor a part is ever held whole in memory.
    with tempfile.TemporaryFile(prefix=f"card-batch-{batch_id}-") as spool:
        try:
            vendor_package_write(spool, batch_id=batch.pk, created=timezone.localtime(batch.created_at), parts=parts)
        except PackagePartCorrupt as error:
            CardBatchChunk.objects.filter(batch_id=batch_id, index=error.part.index).update(
                rendered_at=None, pdf="", csv="", pdf_sha256="", pdf_bytes=0
            )
            raise
        checksum = _sha256_of(spool)
        # In the batch's folder under a name of this attempt, like the parts: a copy cut short by a killed worker is
        # never taken for the package and goes with the parts' files once a package is ready.
        name = storage.save(
            f"{_batch_storage_folder(batch_id)}/batch-{batch_id}-{secrets.token_hex(4)}.zip", File(spool)
        )
    with transaction.atomic():
        batch = CardBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != CardBatch.Status.BUILDING:
            transaction.on_commit(lambda: storage.delete(name))
            return batch
        batch.package.name, batch.package_sha256, batch.failure = name, checksum, ""
        batch.status, batch.status_changed_at = CardBatch.Status.READY, timezone.now()
        batch.save(update_fields=["package", "package_sha256", "failure", "status", "status_changed_at"])
    cache.set(batch_progress_key(batch_id), 100, timeout=24 * 3600)
    _parts_remove(batch_id, package=name)
    return batch


def _parts_remove(batch_id: int, *, package: str) -> None:
    """The parts' files are in the package now; the rows stay as the record of who rendered what. Whatever else is
    in the batch's folder, but the package, is a killed or outrun attempt's leftover."""
    storage = CardBatchChunk._meta.get_field("pdf").storage
    folder = _batch_storage_folder(batch_id)
    try:
        _folders, files = storage.listdir(folder)
        for file_name in files:
            if f"{folder}/{file_name}" != package:
                storage.delete(f"{folder}/{file_name}")
    except Exception:  # whatever the storage raises: the package is ready, a leftover costs only space
        logger.warning("card batch %s: could not remove the parts' files from %s", batch_id, folder, exc_info=True)
    CardBatchChunk.objects.filter(batch_id=batch_id).update(pdf="", csv="")


def card_batch_build(*, batch_id: int) -> CardBatch:
    """The whole build in this process: every missing part, then the assembly. The same steps the workers run."""
    for index in card_batch_plan(batch_id=batch_id) or []:
        card_batch_chunk_render(batch_id=batch_id, index=index)
    return card_batch_assemble(batch_id=batch_id)


class BuildStep(StrEnum):
    """The steps of a build, as a failure names them."""

    PLAN = "plan"
    PART = "part"
    PACKAGE = "package"


def card_batch_fail(*, batch_id: int, step: str, error: BaseException, index: int | None = None) -> str:
    """A step gave up after its retries: the batch says why in words the region's staff read, with a code they
    quote to support; the traceback goes to the log under the same code. Called inside the `except` block. The
    parts already rendered stay, so «Собрать заново» renders only the missing ones. Returns the code."""
    reference = failure_logged(logger, "card batch %s: the %s step %s failed", batch_id, step, index or "")
    if step == BuildStep.PLAN:
        reason = _("Не удалось начать сборку пакета.")
    elif step == BuildStep.PART:
        chunk = CardBatchChunk.objects.filter(batch_id=batch_id, index=index).first()
        reason = _(
            "Не удалось подготовить часть %(index)s пакета (билеты %(first)s – %(last)s) после нескольких попыток."
        ) % {"index": index, "first": card_number_grouped(chunk.first_number) if chunk else "?",
             "last": card_number_grouped(chunk.last_number) if chunk else "?"}  # fmt: skip
    else:
        reason = _("Не удалось собрать пакет из готовых частей.")
    if isinstance(error, BatchChanged):
        reason += " " + _("Заявки партии изменились во время сборки.")
    elif isinstance(error, SoftTimeLimitExceeded):
        reason += " " + _("Шаг сборки не уложился в отведённое время.")
    failure = reason + " " + _("Сообщите в службу поддержки код сбоя %(reference)s.") % {"reference": reference}
    CardBatch.objects.filter(pk=batch_id, status=CardBatch.Status.BUILDING).update(
        status=CardBatch.Status.FAILED, failure=failure, status_changed_at=timezone.now()
    )
    return reference


def card_batch_build_queued(*, batch_id: int) -> None:
    """The build's message is in the queue: the beat task need not send it."""
    CardBatch.objects.filter(pk=batch_id, build_queued_at=None).update(build_queued_at=timezone.now())


def card_batches_unqueued(*, now: datetime.datetime | None = None) -> list[int]:
    """Batches being built whose build never reached the queue (Redis was down when it was asked for), for the beat
    task to send now that it can."""
    cutoff = (now or timezone.now()) - CARD_BATCH_QUEUE_GRACE
    waiting = CardBatch.objects.filter(status=CardBatch.Status.BUILDING, build_queued_at=None, created_at__lt=cutoff)
    return list(waiting.exclude(status_changed_at__gte=cutoff).order_by("pk").values_list("pk", flat=True))


def card_batches_fail_stuck(*, now: datetime.datetime | None = None) -> int:
    """The beat task: a build queued, but on which nothing has moved for CARD_BATCH_TIME_LIMIT, was lost with its
    workers (killed, or stopped at their hard time limit); it ends as failed, and «Собрать заново» renders only the
    parts still missing. Returns how many builds were ended."""
    cutoff = (now or timezone.now()) - CARD_BATCH_TIME_LIMIT
    stuck = (
        CardBatch.objects.filter(status=CardBatch.Status.BUILDING, created_at__lt=cutoff, build_queued_at__lt=cutoff)
        .exclude(status_changed_at__gte=cutoff)
        .exclude(chunks__rendered_at__gte=cutoff)
    )
    failure = _(
        "Сборка пакета прервалась: %(minutes)s минут она не продвигалась (обработчик остановлен или перезапущен). "
        "Готовые части сохранены; нажмите «Собрать заново»."
    ) % {"minutes": int(CARD_BATCH_TIME_LIMIT.total_seconds() // 60)}
    ended = 0
    for batch_id in list(stuck.values_list("pk", flat=True)):
        # One conditional update per batch: a part finishing at this moment keeps its build going.
        if stuck.filter(pk=batch_id).update(
            status=CardBatch.Status.FAILED, failure=failure, status_changed_at=timezone.now()
        ):
            ended += 1
            logger.warning("card batch %s: nothing moved for %s, marked failed", batch_id, CARD_BATCH_TIME_LIMIT)
    return ended
