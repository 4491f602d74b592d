from tests.discounts.conftest import programme  # noqa: F401 (a member and a cashier at work, for the home pages)
