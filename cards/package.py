"""The vendor package of a card batch: cards.pdf, personalization.csv and manifest.json in one ZIP.

cards.pdf has one CR80 proof (85.60 × 53.98 mm) per page, then A4 sheets of ten cards with crop marks.
Barcodes are reportlab vector drawings so that any scanner reads them at any print resolution.
personalization.csv carries what goes on the card and nothing else: no date of birth, phone or e-mail.
"""

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

import barcode
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
    canvas.save()
    return buffer.getvalue()


def _form_name(position: int) -> str:
    return f"card{position}"


def personalization_csv(faces: Sequence[CardFace]) -> bytes:
    """UTF-8, a header row, CRLF line ends, every field quoted so the vendor reads the numbers as text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for face in faces:
        writer.writerow(
            [face.number, face.last_name, face.first_name, face.middle_name, face.organization, face.region]
        )
    return buffer.getvalue().encode("utf-8")


def vendor_package(*, batch_id: int, faces: Sequence[CardFace], progress: Callable[[int], None]) -> bytes:
    files = {
        "cards.pdf": cards_pdf(faces, progress=lambda percent: progress(min(95, percent))),
        "personalization.csv": personalization_csv(faces),
    }
    manifest = {
        "batch_id": batch_id,
        "count": len(faces),
        "files": {
            name: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
            for name, content in files.items()
        },
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
