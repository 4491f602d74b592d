"""Consents (152-FZ): separate forms, scans, withdrawal that blocks, destruction with a record, "my data"."""

import datetime
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import AccessLog, Role
from membership.models import Consent, Member, MemberEvent, PersonalDataDestruction
from membership.services import consent_record, consent_withdraw, members_destroy_after_withdrawal
from tests.factories import MemberFactory, UserFactory


@pytest.fixture
def member(union):
    return MemberFactory(
        organization=union.primary_a1a, last_name="Орлова", first_name="Вера", middle_name="Павловна",
        phone="+7 901 000-11-22", email="orlova@example.org", search_name="орлова вера павловна",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize("purpose", ["processing", "card_vendor", "partners"])
def test_printed_consent_form_is_a_separate_document_with_the_members_name(client_for, users, member, purpose):
    response = client_for(users.chair).get(reverse("membership:consent_form_pdf", args=[member.pk, purpose]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Орлова Вера Павловна" in text and "17.05.1985" in text
    assert "Согласие" in text and "152-ФЗ" in text


def test_card_vendor_form_promises_no_birth_date_phone_or_email_to_the_vendor(client_for, users, member):
    text = pdf_text(
        client_for(users.chair).get(reverse("membership:consent_form_pdf", args=[member.pk, "card_vendor"])).content
    )
    assert "Дата рождения, номер телефона и адрес электронной почты изготовителю не передаются" in " ".join(
        text.split()
    )


def test_chair_records_a_scanned_consent_and_only_staff_in_scope_can_open_the_scan(client_for, users, member):
    scan = SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scanned consent", content_type="application/pdf")
    response = client_for(users.chair).post(
        reverse("membership:consent_add", args=[member.pk]),
        {"purpose": "processing", "given_on": "2025-10-01", "method": "scan", "scan": scan},
    )
    assert response.status_code == 302
    consent = member.consents.get()
    assert (consent.purpose, consent.text_version, consent.method) == ("processing", "2025-09", "scan")
    assert member.events.filter(kind=MemberEvent.Kind.CONSENT_GIVEN).exists()

    scan_url = reverse("membership:consent_scan", args=[member.pk, consent.pk])
    assert b"".join(client_for(users.chair).get(scan_url).streaming_content) == b"%PDF-1.4 scanned consent"
    assert client_for(users.other_chair).get(scan_url).status_code == 404
    assert client_for(users.member).get(scan_url).status_code == 403


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": "scan"}, "Приложите скан подписанного согласия."),
        ({"method": "scan", "scan": "exe"}, "Скан принимается в формате PDF, JPEG или PNG."),
        ({"given_on": "2099-01-01"}, "Дата согласия не может быть в будущем."),
    ],
)
def test_bad_consent_input_is_refused(client_for, users, member, data, message):
    payload = {"purpose": "processing", "given_on": "2025-10-01", "method": "signed_form", **data}
    if payload.get("scan") == "exe":
        payload["scan"] = SimpleUploadedFile("virus.exe", b"MZ")
    response = client_for(users.chair).post(reverse("membership:consent_add", args=[member.pk]), payload)
    assert message in response.content.decode()
    assert not member.consents.exists()


def test_second_active_consent_for_the_same_purpose_is_refused(users, member):
    consent_record(
        by=users.chair, member=member, purpose="processing", given_on=datetime.date(2025, 10, 1), method="signed_form"
    )
    with pytest.raises(Exception, match="уже действует"):
        consent_record(
            by=users.chair,
            member=member,
            purpose="processing",
            given_on=datetime.date(2025, 10, 2),
            method="signed_form",
        )


def test_withdrawal_blocks_the_record_and_the_account_then_data_are_destroyed_after_30_days(users, member, client_for):
    account = UserFactory(username="orlova", role=Role.MEMBER)
    member.user = account
    member.save()
    consent = consent_record(
        by=users.chair, member=member, purpose="processing", given_on=datetime.date(2025, 10, 1), method="signed_form"
    )
    withdrawn_on = datetime.date(2026, 10, 1)
    consent_withdraw(by=users.chair, consent=consent, withdrawn_on=withdrawn_on)

    member.refresh_from_db()
    account.refresh_from_db()
    assert member.processing_blocked_on == withdrawn_on and not account.is_active
    edit = client_for(users.chair).get(member.get_absolute_url()).content.decode()
    assert "Обработка данных прекращена" in edit and reverse("membership:member_edit", args=[member.pk]) not in edit

    assert members_destroy_after_withdrawal(today=withdrawn_on + datetime.timedelta(days=29)) == 0
    assert members_destroy_after_withdrawal(today=withdrawn_on + datetime.timedelta(days=31)) == 1
    member.refresh_from_db()
    assert "Орлова" not in member.full_name and member.phone == "" and member.email == "" and member.search_name == ""
    assert member.birth_date == datetime.date(1985, 1, 1)
    act = PersonalDataDestruction.objects.get(member=member)
    assert "Отзыв согласия" in act.basis and "phone" in act.fields
    assert AccessLog.objects.filter(action="delete", object_id=str(member.pk)).exists()
    # Counts survive: the record is still a (blocked) member of the organisation.
    assert Member.objects.filter(organization=member.organization).count() == 1
    # Running again destroys nothing twice.
    assert members_destroy_after_withdrawal(today=withdrawn_on + datetime.timedelta(days=60)) == 0


def test_my_data_statement_holds_the_record_consents_and_history_and_is_logged(client_for, users, member):
    consent_record(
        by=users.chair, member=member, purpose="partners", given_on=datetime.date(2025, 11, 1), method="signed_form"
    )
    client = client_for(users.chair)

    data = json.loads(client.get(reverse("membership:member_data", args=[member.pk, "json"])).content)
    assert data["member"]["ФИО"] == "Орлова Вера Павловна" and data["member"]["Телефон"] == "+7 901 000-11-22"
    assert data["consents"][0]["Согласие"] == Consent.Purpose.PARTNERS.label
    assert any(event["Событие"] == "Получено согласие" for event in data["history"])

    text = pdf_text(client.get(reverse("membership:member_data", args=[member.pk, "pdf"])).content)
    assert "Орлова Вера Павловна" in text
    assert AccessLog.objects.filter(user=users.chair, action="export", object_id=str(member.pk)).count() == 2


def test_statement_of_another_regions_member_is_not_given(client_for, users, member):
    assert (
        client_for(users.other_regional).get(reverse("membership:member_data", args=[member.pk, "json"])).status_code
        == 404
    )
