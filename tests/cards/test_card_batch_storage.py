"""Uploads and packages go through Django's storage API only: with an S3-compatible store (here moto's in-process
S3) the package is built, stored and downloaded without a file on any local disk, and one setting switches it."""

import io
import runpy
import zipfile
from pathlib import Path

import boto3
import pytest
from django.urls import reverse
from moto import mock_aws

from cards.models import CardBatch
from tests.cards.test_card_batch_parts import approve_requests, assert_package_exact

BUCKET = "reestr-cards"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


@pytest.fixture
def s3_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CARD_BATCH_CHUNK_SIZE = 10
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = settings.STORAGES | {
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "us-east-1", "access_key": "test",
                            "secret_key": "test", "default_acl": None, "file_overwrite": False},
            }
        }  # fmt: skip
        yield client


def test_the_package_is_built_in_and_served_from_an_object_store(
    s3_storage, client_for, users, union, tmp_path, django_capture_on_commit_callbacks
):
    numbers = approve_requests(union, users, count=13)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(users.regional).post(reverse("cards:card_batch_form"))
    batch = CardBatch.objects.get()
    assert_package_exact(batch, numbers)

    keys = [item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == [batch.package.name]  # the package only: the parts were removed once it was assembled
    assert list(tmp_path.iterdir()) == []  # nothing in the media folder

    response = client_for(users.regional).get(reverse("cards:card_batch_download", args=[batch.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == ["cards-0001.pdf", "cards-0002.pdf", "personalization.csv", "manifest.json"]


def test_one_setting_switches_the_default_storage_to_s3(monkeypatch):
    assert runpy.run_path(str(SETTINGS_FILE))["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    for name, value in {
        "STORAGE_S3_BUCKET": "reestr", "STORAGE_S3_ENDPOINT": "https://s3.example.ru", "STORAGE_S3_REGION": "ru-1",
        "STORAGE_S3_ACCESS_KEY": "key", "STORAGE_S3_SECRET_KEY": "secret", "STORAGE_S3_ADDRESSING_STYLE": "path",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    default = runpy.run_path(str(SETTINGS_FILE))["STORAGES"]["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "reestr", "https://s3.example.ru", "ru-1",
    )  # fmt: skip
    assert (options["access_key"], options["secret_key"], options["addressing_style"]) == ("key", "secret", "path")
    assert options["file_overwrite"] is False and options["querystring_auth"] is True
