"""Fonts and styles for the PDF documents the portal prints (consent forms, member data, card proofs).

DejaVu Sans ships with the project so that Cyrillic renders the same on every machine.
"""

from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


@cache
def pdf_fonts_register() -> None:
    pdfmetrics.registerFont(TTFont(FONT_REGULAR, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT_REGULAR, normal=FONT_REGULAR, bold=FONT_BOLD)


@cache
def pdf_styles() -> dict[str, ParagraphStyle]:
    pdf_fonts_register()
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=FONT_REGULAR, fontSize=10, leading=13.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=13, leading=17, alignment=1, spaceAfter=8
        ),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4
        ),
        "right": ParagraphStyle("right", parent=body, alignment=2),
    }


def pdf_text(value) -> str:
    """Any text from the database or a user, ready for a reportlab Paragraph, which reads its input as markup: a name
    holding "<b>", "</para>" or "&" is printed as typed instead of breaking the document."""
    return escape("" if value is None else str(value))


def pdf_paragraph(value, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped): what every name, organisation or comment goes through."""
    return Paragraph(pdf_text(value), style)


def pdf_markup(template: str, **values) -> str:
    """A paragraph of the portal's own markup (a consent text with <b> or &nbsp;) filled with escaped values."""
    return template.format(**{name: pdf_text(value) for name, value in values.items()})
