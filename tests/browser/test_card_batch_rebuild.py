"""A batch whose package failed: the region reads why, starts the build again, and gets the package."""

import pytest

from cards import batch_build, tasks
from cards.services import card_batch_form
from tests.cards.test_card_batch_parts import approve_requests
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_region_rebuilds_a_failed_package(page, users, union, log_in, screenshot, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT, settings.CARD_BATCH_CHUNK_SIZE = tmp_path, 10
    numbers = sorted(approve_requests(union, users, count=23))
    batch = card_batch_form(by=users.regional)
    original = batch_build.cards_pdf

    def storage_full_for_part_three(faces, **kwargs):
        if faces[0].number == numbers[20]:
            raise OSError(28, "No space left on device")
        return original(faces, **kwargs)

    monkeypatch.setattr(batch_build, "cards_pdf", storage_full_for_part_three)
    with pytest.raises(OSError):
        tasks.card_batch_build.delay(batch.pk)
    monkeypatch.setattr(batch_build, "cards_pdf", original)

    log_in(page, users.regional.username, TEST_PASSWORD)
    page.goto(f"/cards/batches/{batch.pk}/")
    failure = page.get_by_test_id("batch-failure")
    assert "Не удалось подготовить часть 3 пакета" in failure.inner_text()
    screenshot(page, "card-batch-failed")

    with page.expect_navigation():
        page.get_by_role("button", name="Собрать заново").click()
    page.wait_for_selector("text=Пакет для изготовителя (ZIP)")
    assert "сборка пакета началась заново" in page.content()
    assert page.get_by_test_id("batch-failure").count() == 0
