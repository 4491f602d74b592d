"""Card batches and the vendor package: what the card vendor receives, checked file by file."""

import csv
import hashlib
import io
import json
import zipfile

import pypdfium2
import pytest
import zxingcpp
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AccessLog
from cards.models import CardBatch, CardRequest
from cards.services import (
    card_batch_advance,
    card_batch_build,
    card_batch_form,
    card_request_approve,
    card_request_create,
)
from tests.factories import MemberFactory

CARDS = 12  # more than one A4 sheet of ten


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def approved(union, users):
    requests = []
    for number in range(CARDS):
        member = MemberFactory(organization=union.primary_a1a, last_name=f"Партийная{number}", first_name="Ольга", middle_name="Игоревна", phone="+7 900 000-00-00", email=f"p{number}@example.org", search_name=f"партийная{number} ольга игоревна", card_consents=True)  # fmt: skip
        requests.append(
            card_request_approve(request=card_request_create(member=member, by=users.chair), by=users.regional)
        )
    return requests


def built_batch(client, django_capture_on_commit_callbacks) -> CardBatch:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("cards:card_batch_form"))
    assert response.status_code == 302
    return CardBatch.objects.latest("id")


def package_files(batch: CardBatch) -> dict[str, bytes]:
    with batch.package.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_proofs_personalization_and_a_matching_manifest(
    client_for, users, approved, django_capture_on_commit_callbacks
):
    batch = built_batch(client_for(users.regional), django_capture_on_commit_callbacks)
    assert batch.status == "ready" and batch.card_count == CARDS
    files = package_files(batch)
    assert set(files) == {"cards-0001.pdf", "personalization.csv", "manifest.json"}  # one part: 12 cards

    manifest = json.loads(files["manifest.json"])
    assert manifest["batch_id"] == batch.pk and manifest["count"] == CARDS
    listed = {entry["name"]: entry for entry in manifest["files"]}
    for name in ("cards-0001.pdf", "personalization.csv"):
        assert listed[name]["sha256"] == hashlib.sha256(files[name]).hexdigest()

    text = files["personalization.csv"].decode("utf-8")
    assert text.count("\r\n") == CARDS + 1 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["card_number", "last_name", "first_name", "middle_name", "organization", "region"]
    assert sorted(row[0] for row in rows[1:]) == sorted(request.card.number for request in approved)
    assert f'"{approved[0].card.number}"' in text  # quoted: the vendor reads numbers as text
    for private in ("1985", "+7 900", "@example.org"):
        assert private not in text


def test_barcodes_in_the_pdf_decode_to_the_numbers_in_the_csv(
    client_for, users, approved, django_capture_on_commit_callbacks
):
    files = package_files(built_batch(client_for(users.regional), django_capture_on_commit_callbacks))
    numbers = [row[0] for row in list(csv.reader(io.StringIO(files["personalization.csv"].decode())))[1:]]
    document = pypdfium2.PdfDocument(files["cards-0001.pdf"])
    try:
        assert len(document) == CARDS + 2  # a proof per card, then two A4 sheets
        proofs = [
            r.text for page in range(CARDS) for r in zxingcpp.read_barcodes(document[page].render(scale=4).to_pil())
        ]
        sheet = {r.text for r in zxingcpp.read_barcodes(document[CARDS].render(scale=300 / 72).to_pil())}
        width_mm, height_mm = (size / 72 * 25.4 for size in document[0].get_size())
    finally:
        document.close()
    assert proofs == numbers
    assert sheet == set(numbers[:10])
    assert (round(width_mm, 2), round(height_mm, 2)) == (85.6, 53.98)


def test_a_retried_build_changes_nothing(client_for, users, approved, django_capture_on_commit_callbacks):
    batch = built_batch(client_for(users.regional), django_capture_on_commit_callbacks)
    checksum, numbers = batch.package_sha256, sorted(CardRequest.objects.values_list("card__number", flat=True))
    assert card_batch_build(batch_id=batch.pk).package_sha256 == checksum
    assert sorted(CardRequest.objects.values_list("card__number", flat=True)) == numbers
    assert CardBatch.objects.count() == 1


def test_a_second_batch_takes_only_requests_approved_since(users, approved, union):
    card_batch_form(by=users.regional)
    with pytest.raises(Exception, match="формировать нечего"):
        card_batch_form(by=users.regional)


def test_the_batch_moves_its_requests_and_the_chair_hands_out(
    client_for, users, approved, django_capture_on_commit_callbacks
):
    batch = built_batch(client_for(users.regional), django_capture_on_commit_callbacks)
    for expected in ("sent", "produced", "delivered"):
        batch = card_batch_advance(batch=batch, by=users.regional)
        assert batch.status == expected
        assert set(batch.requests.values_list("status", flat=True)) == {expected}
    with pytest.raises(Exception, match="следующего шага нет"):
        card_batch_advance(batch=batch, by=users.regional)
    client_for(users.chair).post(reverse("cards:card_request_action", args=[approved[0].pk, "issued"]))
    approved[0].refresh_from_db()
    assert approved[0].status == "issued"


def test_download_is_logged_and_other_regions_and_chairs_are_kept_out(
    client_for, users, approved, django_capture_on_commit_callbacks
):
    batch = built_batch(client_for(users.regional), django_capture_on_commit_callbacks)
    url = reverse("cards:card_batch_download", args=[batch.pk])
    assert client_for(users.regional).get(url).status_code == 200
    assert AccessLog.objects.filter(action="export", object_type="cards.cardbatch", object_id=str(batch.pk)).exists()
    assert client_for(users.other_regional).get(url).status_code == 404
    assert client_for(users.chair).get(url).status_code == 403
    assert client_for(users.local).get(reverse("cards:card_batches")).status_code == 403


@pytest.mark.parametrize(
    ("count", "told"),
    [(1, "1 билет."), (3, "3 билета."), (11, "11 билетов."), (21, "21 билет."), (25, "25 билетов.")],
)
def test_the_formed_batch_message_counts_cards_in_russian(client_for, users, union, count, told):
    for number in range(count):
        member = MemberFactory(organization=union.primary_a1a, last_name=f"Счётная{number}", card_consents=True)
        card_request_approve(request=card_request_create(member=member, by=users.chair), by=users.regional)

    response = client_for(users.regional).post(reverse("cards:card_batch_form"))

    batch = CardBatch.objects.get()
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        f"Партия № {batch.pk} сформирована: {told}"
    ]
