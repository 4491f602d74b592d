"""PDF documents about a member: the consent forms to sign and the "my data" statement.

Paragraph reads its text as markup: every value from the database goes in through registry.pdf (pdf_paragraph,
pdf_markup), escaped, so a name holding "<b>" or "&" prints as typed."""

import io

from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from membership.consent_texts import CONSENT_TEXTS, CURRENT_CONSENT_TEXT_VERSION
from membership.models import Member
from registry.pdf import FONT_BOLD, FONT_REGULAR, pdf_markup, pdf_paragraph, pdf_styles


def _document(buffer: io.BytesIO, title: str) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=title, author="Общероссийский Профсоюз образования",
    )  # fmt: skip


def consent_form_pdf(*, member: Member, purpose: str, version: str = CURRENT_CONSENT_TEXT_VERSION) -> bytes:
    """The consent as a separate one-page document, pre-filled with the member's name, to print and sign."""
    text = CONSENT_TEXTS[version][purpose]
    styles = pdf_styles()
    org = member.organization
    values = {
        "full_name": member.full_name,
        "birth_date": member.birth_date.strftime("%d.%m.%Y"),
        "operator": org.name,
        "operator_inn": org.inn or "—",
        "operator_address": org.address or "—",
    }
    buffer = io.BytesIO()
    story = [
        pdf_paragraph(org.name, styles["small"]),
        Spacer(1, 6 * mm),
        Paragraph(text["title"], styles["title"]),
        *[Paragraph(pdf_markup(paragraph, **values), styles["body"]) for paragraph in text["paragraphs"]],
        Spacer(1, 12 * mm),
        Table(
            [["«____» ______________ 20___ г.", "____________________ / " + _initials(member)]],
            colWidths=[80 * mm, 95 * mm],
            style=TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 10)]),
        ),
        Spacer(1, 2 * mm),
        Paragraph("дата&nbsp;" + "&nbsp;" * 95 + "подпись", styles["small"]),
        Spacer(1, 10 * mm),
        Paragraph(
            f"Редакция текста согласия: {version}. Отдельный документ согласно ст. 9 Федерального закона "
            "от 27.07.2006 № 152-ФЗ «О персональных данных».",
            styles["small"],
        ),
    ]
    _document(buffer, text["title"]).build(story)
    return buffer.getvalue()


def _initials(member: Member) -> str:
    initials = "".join(f"{name[0]}." for name in (member.first_name, member.middle_name) if name)
    return f"{member.last_name} {initials}"


def member_data_pdf(*, data: dict) -> bytes:
    """Everything the register holds about one member, as a readable statement (the "my data" export)."""
    styles = pdf_styles()
    buffer = io.BytesIO()
    table_style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT_REGULAR),
        ("FONTNAME", (0, 0), (0, -1), FONT_BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#c8cdd6"),
    ])  # fmt: skip

    def rows_table(rows):
        cells = [
            [pdf_paragraph(label, styles["small"]), pdf_paragraph(value, styles["small"])] for label, value in rows
        ]
        return Table(cells, colWidths=[60 * mm, 115 * mm], style=table_style)

    story = [
        Paragraph("Сведения о члене Профсоюза в Едином реестре", styles["title"]),
        Paragraph(f"Сформировано {timezone.localtime():%d.%m.%Y %H:%M}", styles["right"]),
        Paragraph("Учётная запись", styles["heading"]),
        rows_table(data["member"].items()),
        Paragraph("Согласия", styles["heading"]),
    ]
    for consent in data["consents"] or [{"Согласия": "не внесены"}]:
        story += [rows_table(consent.items()), Spacer(1, 3 * mm)]
    story.append(Paragraph("История учётной записи", styles["heading"]))
    for event in data["history"] or [{"События": "нет"}]:
        story += [rows_table(event.items()), Spacer(1, 2 * mm)]
    _document(buffer, "Мои данные").build(story)
    return buffer.getvalue()
