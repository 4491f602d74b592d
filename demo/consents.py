"""Consents of the demo to passing members' data on (152-FZ: each a document of its own): to the plastic card's
vendor and to the partners' discount and cashback programme.

Only the members for whom the demo passes data on have them, so that four million members do not bring millions of
consents: every member with a plastic-card request signed both forms when the chair ordered the card (given on the
day of the first request), and every buyer at a partner signed the programme's form when the card was issued (the
discounts step gives those, demo.discounts). The rows are written by the database from the requests in one
statement per purpose, or as rows of their own for the few buyers: nothing is drawn, so the other steps' draws are
unchanged.
"""

import datetime
from collections.abc import Iterable

from django.db import connection

from cards.models import CardRequest
from demo.plan import UnionPlan
from demo.report import DemoSeedReport, Say, grouped
from membership.consent_texts import CURRENT_CONSENT_TEXT_VERSION
from membership.models import Consent
from registry.bulk import write_rows

# Consents the chair records from signed paper forms.
METHOD = Consent.Method.SIGNED_FORM.value
CARD_PURPOSES = (Consent.Purpose.CARD_VENDOR.value, Consent.Purpose.PARTNERS.value)
ID_CHUNK = 900  # ids per IN query: SQLite's old limit on the variables of a statement


def card_consents_seed(*, plan: UnionPlan, report: DemoSeedReport, now: datetime.datetime, say: Say) -> None:
    """Step "consents": both consents for every member with a plastic-card request, signed on the day of the first
    request and recorded by the chair who made it."""
    quote = connection.ops.quote_name
    consent, request = Consent._meta.db_table, CardRequest._meta.db_table
    columns = ", ".join(
        quote(column)
        for column in ("member_id", "purpose", "text_version", "given_on", "method", "scan", "recorded_by_id",
                       "created_at")
    )  # fmt: skip
    created_at = connection.ops.adapt_datetimefield_value(now)
    written = 0
    with connection.cursor() as cursor:
        for purpose in CARD_PURPOSES:
            # date() of the first request: the same day in UTC as in Moscow, requests being made in working hours.
            cursor.execute(
                f"INSERT INTO {quote(consent)} ({columns}) "
                f"SELECT member_id, %s, %s, date(MIN(requested_at)), %s, '', MIN(requested_by_id), %s "
                f"FROM {quote(request)} GROUP BY member_id",
                [purpose, CURRENT_CONSENT_TEXT_VERSION, METHOD, created_at],
            )
            written += cursor.rowcount
    report.consents += written
    say(f"Согласий на передачу данных изготовителю билета и партнёрам: {grouped(written)}.")


def partner_consents_write(signed: Iterable[tuple[int, datetime.date]], *, now: datetime.datetime) -> int:
    """The partners' programme consent of members who buy at partners, given as (member id, day signed), unless
    they have a valid one already (the plastic card's holders). Returns how many were written."""
    signed = dict(signed)
    members, having = sorted(signed), set()
    for start in range(0, len(members), ID_CHUNK):
        having.update(
            Consent.objects.filter(
                member_id__in=members[start : start + ID_CHUNK],
                purpose=Consent.Purpose.PARTNERS,
                withdrawn_on__isnull=True,
            ).values_list("member_id", flat=True)
        )
    rows = [
        (member_id, Consent.Purpose.PARTNERS.value, CURRENT_CONSENT_TEXT_VERSION, day, METHOD, "", now)
        for member_id, day in signed.items()
        if member_id not in having
    ]
    write_rows(
        Consent,
        columns=("member_id", "purpose", "text_version", "given_on", "method", "scan", "created_at"),
        rows=rows,
    )
    return len(rows)
