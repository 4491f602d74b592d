"""The vendor package of a card batch: cards-0001.pdf, cards-0002.pdf, …, personalization.csv and manifest.json in
one ZIP. The batch is rendered in parts by separate workers (cards.batch_build); the ZIP streams the parts in order.

Each cards-NNNN.pdf has one CR80 proof (85.60 × 53.98 mm) per page, then A4 sheets of ten cards with crop marks.
Barcodes are reportlab vector drawings so that any scanner reads them at any print resolution.
personalization.csv carries what goes on the card and nothing else: no date of birth, phone or e-mail.
"""

import csv
import datetime
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import BinaryIO

import barcode
from reportlab import rl_config
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from cards.numbers import card_number_grouped
from registry.pdf import FONT_BOLD, FONT_REGULAR, pdf_fonts_register

CARD_WIDTH, CARD_HEIGHT = 85.60 * mm, 53.98 * mm
SHEET_COLUMNS, SHEET_ROWS = 2, 5
CROP_MARK = 4 * mm
# Width of one Code128 module (the narrowest bar): 0.33 mm, well inside what card printers and scanners handle.
BAR_MODULE_WIDTH = 0.33 * mm
UNION_BLUE = HexColor("#0b4f9c")
CSV_COLUMNS = ("card_number", "last_name", "first_name", "middle_name", "organization", "region")


@dataclass(frozen=True)
class CardFace:
    number: str
    last_name: str
    first_name: str
    middle_name: str
    organization: str
    region: str


def _draw_card(canvas: Canvas, face: CardFace, x: float, y: float) -> None:
    canvas.setFillColor(UNION_BLUE)
    canvas.roundRect(x, y, CARD_WIDTH, CARD_HEIGHT, 3 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont(FONT_REGULAR, 6.5)
    canvas.drawString(x + 5 * mm, y + CARD_HEIGHT - 7 * mm, "Общероссийский Профсоюз образования")
    canvas.setFont(FONT_BOLD, 7.5)
    canvas.drawString(x + 5 * mm, y + CARD_HEIGHT - 11 * mm, "Электронный профсоюзный билет")
    canvas.setFont(FONT_BOLD, 9)
    canvas.drawString(x + 5 * mm, y + 27 * mm, face.last_name)
    canvas.drawString(x + 5 * mm, y + 23 * mm, f"{face.first_name} {face.middle_name}".strip())
    canvas.setFont(FONT_REGULAR, 6)
    canvas.drawString(x + 5 * mm, y + 19.5 * mm, face.organization[:70])
    canvas.setFont(FONT_BOLD, 10)
    canvas.drawString(x + 5 * mm, y + 14.5 * mm, card_number_grouped(face.number))
    # The barcode on a white field with quiet zones, as the vendor prints it on the card's face.
    canvas.roundRect(x + 4 * mm, y + 2.5 * mm, 60 * mm, 10 * mm, 1 * mm, stroke=0, fill=1)
    _draw_code128(canvas, face.number, x + 4 * mm, y + 3.5 * mm, field_width=60 * mm, height=8 * mm)


def _draw_code128(canvas: Canvas, number: str, x: float, y: float, *, field_width: float, height: float) -> None:
    """Code128 as vector bars: one rectangle per run of dark modules, centred in its white field."""
    modules = barcode.get("code128", number).build()[0]
    module = BAR_MODULE_WIDTH
    left = x + (field_width - len(modules) * module) / 2
    canvas.setFillColorRGB(0, 0, 0)
    position = 0
    for dark, run in groupby(modules):
        length = len(list(run))
        if dark == "1":
            canvas.rect(left + position * module, y, length * module, height, stroke=0, fill=1)
        position += length


def _crop_marks(canvas: Canvas, x: float, y: float) -> None:
    canvas.setStrokeColorRGB(0, 0, 0)
    canvas.setLineWidth(0.25)
    for corner_x, corner_y, dx, dy in (
        (x, y, -1, -1), (x + CARD_WIDTH, y, 1, -1), (x, y + CARD_HEIGHT, -1, 1), (x + CARD_WIDTH, y + CARD_HEIGHT, 1, 1)
    ):  # fmt: skip
        canvas.line(corner_x + dx * 1 * mm, corner_y, corner_x + dx * (1 * mm + CROP_MARK), corner_y)
        canvas.line(corner_x, corner_y + dy * 1 * mm, corner_x, corner_y + dy * (1 * mm + CROP_MARK))


def cards_pdf(faces: Sequence[CardFace], *, progress: Callable[[int], None] = lambda _: None) -> bytes:
    pdf_fonts_register()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(CARD_WIDTH, CARD_HEIGHT), pageCompression=1)
    canvas.setTitle("Профсоюзные билеты: макеты")
    total_steps = len(faces) * 2 or 1
    # Each card is drawn once as a form (PDF XObject) and placed twice: on its proof page and on its A4 sheet.
    for position, face in enumerate(faces, start=1):
        canvas.beginForm(_form_name(position))
        _draw_card(canvas, face, 0, 0)
        canvas.endForm()
        canvas.doForm(_form_name(position))
        canvas.showPage()
        if position % 500 == 0:
            progress(int(position / total_steps * 100))
    sheet_width, sheet_height = A4
    gap_x = (sheet_width - SHEET_COLUMNS * CARD_WIDTH) / (SHEET_COLUMNS + 1)
    gap_y = (sheet_height - SHEET_ROWS * CARD_HEIGHT) / (SHEET_ROWS + 1)
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    for start in range(0, len(faces), per_sheet):
        canvas.setPageSize(A4)
        for slot in range(min(per_sheet, len(faces) - start)):
            column, row = slot % SHEET_COLUMNS, slot // SHEET_COLUMNS
            x = gap_x + column * (CARD_WIDTH + gap_x)
            y = sheet_height - (row + 1) * (CARD_HEIGHT + gap_y)
            canvas.saveState()
            canvas.translate(x, y)
            canvas.doForm(_form_name(start + slot + 1))
            canvas.restoreState()
            _crop_marks(canvas, x, y)
        canvas.showPage()
        progress(int((len(faces) + start + per_sheet) / total_steps * 100))
    # Binary streams: reportlab's default ASCII85 (for 7-bit channels of old) makes the file 15 % larger and slower
    # to write, and the vendor's PDF travels in a ZIP. The filters are chosen while saving, so only this PDF is affected.
    ascii85, rl_config.useA85 = rl_config.useA85, 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = ascii85
    return buffer.getvalue()


def _form_name(position: int) -> str:
    return f"card{position}"


def personalization_csv(faces: Sequence[CardFace], *, header: bool = True) -> bytes:
    """UTF-8, CRLF line ends, every field quoted so the vendor reads the numbers as text. A part of a chunked build
    writes its rows without the header; the package's one file is the header and the parts' rows in order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for face in faces:
        writer.writerow(
            [face.number, face.last_name, face.first_name, face.middle_name, face.organization, face.region]
        )
    return buffer.getvalue().encode("utf-8")


@dataclass(frozen=True)
class PackagePart:
    """A stored part of the package: cards-NNNN.pdf and its rows of personalization.csv, opened when copied."""

    index: int
    pdf_name: str
    open_pdf: Callable[[], BinaryIO]
    open_csv: Callable[[], BinaryIO]
    pdf_sha256: str
    pdf_bytes: int
    count: int
    first_number: str
    last_number: str


class PackagePartCorrupt(Exception):
    """A stored part does not match the checksum its worker recorded."""

    def __init__(self, part: PackagePart):
        super().__init__(f"{part.pdf_name}: SHA-256 differs from the one recorded when it was rendered")
        self.part = part


COPY_BUFFER = 1024 * 1024


def _copy(source: BinaryIO, target: BinaryIO, digest) -> int:
    """Copy in pieces of a megabyte, hashing on the way: a part is never held whole in memory."""
    copied = 0
    while piece := source.read(COPY_BUFFER):
        target.write(piece)
        digest.update(piece)
        copied += len(piece)
    return copied


def _entry(name: str, when: datetime.datetime, *, compress: int, size: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    if size is not None:
        info.file_size = size  # lets zipfile decide on ZIP64 before it writes the entry's header
    return info


def vendor_package_write(
    target: BinaryIO, *, batch_id: int, created: datetime.datetime, parts: Sequence[PackagePart]
) -> None:
    """Stream the package into `target` (a seekable file): the parts' PDFs in order (stored as they are: a PDF is
    compressed already), personalization.csv made of the header and the parts' rows, and manifest.json listing every
    file in order with its SHA-256, size, number of cards and first and last number. Memory stays at a buffer."""
    manifest_files = []
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for part in parts:
            digest = hashlib.sha256()
            with (
                part.open_pdf() as source,
                archive.open(
                    _entry(part.pdf_name, created, compress=zipfile.ZIP_STORED, size=part.pdf_bytes), "w"
                ) as entry,
            ):
                copied = _copy(source, entry, digest)
            if digest.hexdigest() != part.pdf_sha256 or copied != part.pdf_bytes:
                raise PackagePartCorrupt(part)
            manifest_files.append({
                "name": part.pdf_name, "sha256": part.pdf_sha256, "bytes": part.pdf_bytes, "count": part.count,
                "first_number": part.first_number, "last_number": part.last_number,
            })  # fmt: skip
        digest, header = hashlib.sha256(), personalization_csv([], header=True)
        # Rows of about 150 bytes: a plain (not ZIP64) entry holds over ten million cards.
        with archive.open(_entry("personalization.csv", created, compress=zipfile.ZIP_DEFLATED), "w") as entry:
            entry.write(header)
            digest.update(header)
            written = len(header)
            for part in parts:
                with part.open_csv() as source:
                    written += _copy(source, entry, digest)
        manifest_files.append({
            "name": "personalization.csv", "sha256": digest.hexdigest(), "bytes": written,
            "count": sum(part.count for part in parts),
            "first_number": parts[0].first_number if parts else "", "last_number": parts[-1].last_number if parts else "",
        })  # fmt: skip
        manifest = {"batch_id": batch_id, "count": sum(part.count for part in parts), "files": manifest_files}
        archive.writestr(
            _entry("manifest.json", created, compress=zipfile.ZIP_DEFLATED),
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
        )
