"""The plastic card and the consent to passing the member's data to its vendor (152-FZ: a consent of its own).

No request, approval or batch without a valid CARD_VENDOR consent; a bulk action lists the members it left out
instead of failing; a consent withdrawn after the approval keeps the member out of the vendor's files; the virtual
card, which goes to no vendor, needs no such consent."""

import csv
import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from cards.models import Card, CardBatch, CardRequest
from cards.selectors import CardRequestFilters
from cards.services import (
    CardError,
    card_batch_advance,
    card_batch_build,
    card_batch_form,
    card_batch_rebuild,
    card_issue,
    card_request_approve,
    card_request_create,
    card_requests_approve,
)
from membership.models import Consent, Member
from membership.services import consent_record, consent_withdraw, member_record_leaving
from tests.cards.test_card_batches import package_files
from tests.factories import MemberFactory

NO_VENDOR_CONSENT = "Нет согласия члена Профсоюза на передачу данных изготовителю билета."


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def member_in(org, name: str, **fields) -> Member:
    return MemberFactory(organization=org, last_name=name, search_name=name.lower(), **fields)


def vendor_consent_withdraw(member: Member, *, by) -> None:
    consent = member.consents.get(purpose=Consent.Purpose.CARD_VENDOR, withdrawn_on__isnull=True)
    consent_withdraw(by=by, consent=consent, withdrawn_on=timezone.localdate())


def approved_requests(union, users, names) -> list[CardRequest]:
    return [
        card_request_approve(
            request=card_request_create(member=member_in(union.primary_a1a, name, card_consents=True), by=users.chair),
            by=users.regional,
        )
        for name in names
    ]


def personalization_rows(batch: CardBatch) -> list[list[str]]:
    return list(csv.reader(io.StringIO(package_files(batch)["personalization.csv"].decode("utf-8"))))[1:]


# --- the request ----------------------------------------------------------------------------------------------------


def test_a_request_without_the_vendor_consent_is_refused_with_the_reason_on_the_chairs_page(client_for, users, union):
    member = member_in(union.primary_a1a, "Бессогласная")
    client = client_for(users.chair)
    page = client.get(reverse("cards:member_card", args=[member.pk])).content.decode()
    assert 'data-testid="vendor-consent-missing"' in page
    assert reverse("membership:consent_form_pdf", args=[member.pk, "card_vendor"]) in page

    response = client.post(reverse("cards:card_request_create", args=[member.pk]), follow=True)

    assert NO_VENDOR_CONSENT in response.content.decode()
    assert not CardRequest.objects.exists()
    with pytest.raises(CardError, match="Внесите подписанное им согласие"):
        card_request_create(member=member, by=users.chair)


def test_the_partners_consent_or_a_withdrawn_vendor_consent_is_no_vendor_consent(users, union):
    partners_only = member_in(union.primary_a1a, "Партнёрская")
    consent_record(by=users.chair, member=partners_only, purpose=Consent.Purpose.PARTNERS,
                   given_on=datetime.date(2025, 10, 1), method=Consent.Method.SIGNED_FORM)  # fmt: skip
    withdrawn = member_in(union.primary_a1a, "Передумавшая", card_consents=True)
    vendor_consent_withdraw(withdrawn, by=users.chair)
    for member in (partners_only, withdrawn):
        with pytest.raises(CardError, match=NO_VENDOR_CONSENT):
            card_request_create(member=member, by=users.chair)
    assert not CardRequest.objects.exists()


def test_a_consent_given_on_paper_lets_the_chair_order_the_card(client_for, users, union):
    member = member_in(union.primary_a1a, "Согласная")
    consent_record(by=users.chair, member=member, purpose=Consent.Purpose.CARD_VENDOR,
                   given_on=timezone.localdate(), method=Consent.Method.SIGNED_FORM)  # fmt: skip
    response = client_for(users.chair).post(reverse("cards:card_request_create", args=[member.pk]), follow=True)
    assert "Заявка на пластиковый билет подана." in response.content.decode()
    assert CardRequest.objects.get().member == member


def test_the_virtual_card_needs_no_vendor_consent(users, union):
    member = member_in(union.primary_a1a, "Виртуальная")
    assert card_issue(member=member, by=users.chair).is_active
    with pytest.raises(CardError, match=NO_VENDOR_CONSENT):  # but its plastic copy does, valid number or not
        card_request_create(member=member, by=users.chair)


def test_a_request_for_all_lists_by_name_the_members_without_the_consent_and_orders_for_the_others(
    client_for, users, union
):
    consenting = [member_in(union.primary_a1a, f"Заказная{number}", card_consents=True) for number in range(2)]
    without = member_in(union.primary_a1a, "Безбланковая")
    other_org = member_in(union.primary_b1a, "Чужая")  # another region's member: neither ordered nor listed

    response = client_for(users.chair).post(reverse("cards:card_requests_for_all"))

    assert response.status_code == 200
    page = response.content.decode()
    assert set(CardRequest.objects.values_list("member_id", flat=True)) == {member.pk for member in consenting}
    refusals = page[page.index('data-testid="refusals"') :]
    assert "Безбланковая" in refusals and NO_VENDOR_CONSENT in refusals
    assert reverse("membership:member_detail", args=[without.pk]) in refusals
    assert "Заказная" not in refusals and other_org.last_name not in page
    assert 'data-testid="created-count">2<' in page


def test_a_request_for_all_where_everybody_consented_says_how_many_and_goes_back_to_the_list(client_for, users, union):
    member_in(union.primary_a1a, "Полная", card_consents=True)
    response = client_for(users.chair).post(reverse("cards:card_requests_for_all"))
    assert response.status_code == 302
    assert [str(message) for message in get_messages(response.wsgi_request)] == ["Подано заявок: 1."]


# --- the approval ---------------------------------------------------------------------------------------------------


def test_a_bulk_approval_lists_the_member_who_withdrew_the_vendor_consent_and_approves_the_others(
    client_for, users, union
):
    requests = [
        card_request_create(member=member_in(union.primary_a1a, f"Очередная{number}", card_consents=True),
                            by=users.chair)
        for number in range(3)
    ]  # fmt: skip
    withdrawn = requests[1].member
    vendor_consent_withdraw(withdrawn, by=users.chair)

    result = card_requests_approve(by=users.regional, filters=CardRequestFilters())

    assert (result.approved, result.new_cards) == (2, 2)
    [refusal] = result.refusals
    assert (refusal.member_id, refusal.member_name, refusal.reason) == (withdrawn.pk, withdrawn.full_name,
                                                                        NO_VENDOR_CONSENT)  # fmt: skip
    assert CardRequest.objects.get(pk=requests[1].pk).status == "requested"
    assert not Card.objects.filter(member=withdrawn).exists()  # no number taken for the refused one


def test_the_bulk_approval_warns_before_and_lists_after_the_member_without_the_consent(client_for, users, union):
    request = card_request_create(member=member_in(union.primary_a1a, "Отозвавшая", card_consents=True),
                                  by=users.chair)  # fmt: skip
    card_request_create(member=member_in(union.primary_a1a, "Согласная", card_consents=True), by=users.chair)
    vendor_consent_withdraw(request.member, by=users.chair)
    client = client_for(users.regional)

    preview = client.post(reverse("cards:card_requests_approve"), {"scope": "filter"}).content.decode()
    warning = preview[preview.index('data-testid="preview-without-consent"') :]
    assert "нет согласия на передачу данных изготовителю — останутся в очереди: 1" in warning[: warning.index("</li>")]

    response = client.post(
        reverse("cards:card_requests_approve"), {"scope": "filter", "confirmed": "1", "last_id": request.pk + 1}
    )
    page = response.content.decode()
    refusals = page[page.index('data-testid="refusals"') :]
    assert response.status_code == 200 and "Отозвавшая" in refusals and NO_VENDOR_CONSENT in refusals
    assert "Согласная" not in refusals and 'data-testid="approved-count">1<' in page


def test_a_member_who_holds_a_valid_card_is_still_refused_the_plastic_one_without_the_consent(users, union):
    member = member_in(union.primary_a1a, "Держательница", card_consents=True)
    card_issue(member=member, by=users.chair)
    request = card_request_create(member=member, by=users.chair)
    vendor_consent_withdraw(member, by=users.chair)
    with pytest.raises(CardError, match=NO_VENDOR_CONSENT):
        card_request_approve(request=request, by=users.regional)
    assert CardRequest.objects.get(pk=request.pk).status == "requested"


def test_the_single_approval_on_the_queue_page_says_why(client_for, users, union):
    request = card_request_create(member=member_in(union.primary_a1a, "Одиночная", card_consents=True),
                                  by=users.chair)  # fmt: skip
    vendor_consent_withdraw(request.member, by=users.chair)
    response = client_for(users.regional).post(
        reverse("cards:card_request_action", args=[request.pk, "approve"]), follow=True
    )
    assert NO_VENDOR_CONSENT in response.content.decode()
    assert CardRequest.objects.get(pk=request.pk).status == "requested"


# --- the batch and the vendor's files -------------------------------------------------------------------------------


def test_a_consent_withdrawn_after_the_approval_keeps_the_member_out_of_the_batch_and_the_vendors_files(
    client_for, users, union, django_capture_on_commit_callbacks
):
    requests = approved_requests(union, users, ["Первая", "Отказница", "Третья"])
    withdrawn = requests[1]
    vendor_consent_withdraw(withdrawn.member, by=users.chair)
    client = client_for(users.regional)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cards:card_batch_form"))

    batch = CardBatch.objects.get()
    assert (batch.status, batch.card_count) == ("ready", 2)
    rows = personalization_rows(batch)
    assert sorted(row[1] for row in rows) == ["Первая", "Третья"]
    assert withdrawn.card.number not in package_files(batch)["personalization.csv"].decode()
    withdrawn.refresh_from_db()
    assert (withdrawn.status, withdrawn.batch_id) == ("approved", None)
    told = " ".join(str(message) for message in get_messages(response.wsgi_request))
    assert "Не вошли в партию одобренные заявки (1)" in told

    approved_list = client.get(reverse("cards:card_requests"), {"status": "approved"}).content.decode()
    row = approved_list[approved_list.index("Отказница") :]
    assert f"Не войдёт в партию: {NO_VENDOR_CONSENT}" in row[: row.index("</tr>")]
    assert "Не войдёт в партию" not in approved_list[: approved_list.index("Отказница")]
    chairs_list = client_for(users.chair).get(reverse("cards:card_requests")).content.decode()
    assert f"Не войдёт в партию: {NO_VENDOR_CONSENT}" in chairs_list
    other_region = client_for(users.other_regional).get(reverse("cards:card_requests"), {"status": "approved"})
    assert "Отказница" not in other_region.content.decode()

    # Signed again: the request goes into the next batch.
    consent_record(by=users.chair, member=withdrawn.member, purpose=Consent.Purpose.CARD_VENDOR,
                   given_on=timezone.localdate(), method=Consent.Method.SIGNED_FORM)  # fmt: skip
    assert card_batch_form(by=users.regional).card_count == 1


def test_a_member_who_left_after_the_approval_stays_out_of_the_batch_too(users, union):
    requests = approved_requests(union, users, ["Остающаяся", "Уходящая"])
    member_record_leaving(by=users.chair, member=requests[1].member, left_on=timezone.localdate(), reason="voluntary")
    batch = card_batch_form(by=users.regional)
    assert list(batch.requests.values_list("pk", flat=True)) == [requests[0].pk]


def test_nothing_to_put_in_a_batch_when_every_approved_request_waits_for_the_consent(users, union):
    [request] = approved_requests(union, users, ["Единственная"])
    vendor_consent_withdraw(request.member, by=users.chair)
    with pytest.raises(CardError, match="ждут согласия члена Профсоюза на передачу данных изготовителю"):
        card_batch_form(by=users.regional)
    assert not CardBatch.objects.exists()


def test_a_withdrawal_after_the_batch_was_formed_takes_the_card_out_before_the_package_reaches_the_vendor(
    users, union, django_capture_on_commit_callbacks
):
    requests = approved_requests(union, users, ["Ранняя", "Поздняя", "Средняя"])
    batch = card_batch_build(batch_id=card_batch_form(by=users.regional).pk)
    assert batch.status == "ready" and len(personalization_rows(batch)) == 3
    old_package = batch.package.name
    storage = batch.package.storage

    with django_capture_on_commit_callbacks(execute=True):
        vendor_consent_withdraw(requests[1].member, by=users.chair)

    batch.refresh_from_db()
    assert (batch.status, batch.card_count, batch.package.name) == ("failed", 2, "")
    assert "отозвано согласие" in batch.failure and "Собрать заново" in batch.failure
    assert not storage.exists(old_package)  # the package that named her is gone
    requests[1].refresh_from_db()
    assert (requests[1].status, requests[1].batch_id) == ("approved", None)

    batch = card_batch_build(batch_id=card_batch_rebuild(batch=batch, by=users.regional).pk)
    assert batch.status == "ready"
    assert sorted(row[1] for row in personalization_rows(batch)) == ["Ранняя", "Средняя"]


def test_a_withdrawal_after_the_batch_went_to_the_vendor_changes_nothing_in_it(users, union):
    requests = approved_requests(union, users, ["Отправленная"])
    batch = card_batch_advance(
        batch=card_batch_build(batch_id=card_batch_form(by=users.regional).pk), by=users.regional
    )
    assert batch.status == "sent"
    vendor_consent_withdraw(requests[0].member, by=users.chair)
    batch.refresh_from_db()
    assert (batch.status, batch.card_count, list(batch.requests.all())) == ("sent", 1, [requests[0]])


def test_a_batch_left_without_cards_says_so_and_is_not_built_again(users, union):
    [request] = approved_requests(union, users, ["Одна"])
    batch = card_batch_build(batch_id=card_batch_form(by=users.regional).pk)
    vendor_consent_withdraw(request.member, by=users.chair)
    batch.refresh_from_db()
    assert (batch.status, batch.card_count) == ("failed", 0) and "передавать изготовителю нечего" in batch.failure
    with pytest.raises(CardError, match="не осталось билетов"):
        card_batch_rebuild(batch=batch, by=users.regional)
