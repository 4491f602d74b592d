"""Settings of the gunicorn that bench/partner_api.py measures: the project's own, with one more URL, the bare
lookup the verification API is compared with (bench/partner_api_urls.py). Only the benchmark loads this module."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "partner_api_urls"
