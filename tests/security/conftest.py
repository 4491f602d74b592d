"""Checks that cut across the apps (URLs that reach a server log); they need the discount programme's holder with a
card and partners."""

from tests.discounts.conftest import programme  # noqa: F401 (partners, holder_a with a card)
