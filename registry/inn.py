"""ИНН checksum (ФНС algorithm) for organisations (10 digits) and individuals (12 digits)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12_FIRST = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_WEIGHTS_12_SECOND = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: list[int], weights: tuple[int, ...]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_is_valid(value: str) -> bool:
    if not value.isdigit() or len(value) not in (10, 12):
        return False
    digits = [int(ch) for ch in value]
    if len(value) == 10:
        return digits[9] == _check_digit(digits, _WEIGHTS_10)
    return digits[10] == _check_digit(digits, _WEIGHTS_12_FIRST) and digits[11] == _check_digit(
        digits, _WEIGHTS_12_SECOND
    )


def inn_with_check_digit(first_nine: str) -> str:
    """A valid 10-digit ИНН built from nine digits (used by the demo seeder)."""
    digits = [int(ch) for ch in first_nine]
    return first_nine + str(_check_digit(digits, _WEIGHTS_10))


def validate_inn(value: str) -> None:
    if value and not inn_is_valid(value):
        raise ValidationError(
            _(
                "ИНН должен состоять из 10 цифр (организация) или 12 цифр (физическое лицо) с верной контрольной суммой."
            ),
            code="invalid_inn",
        )
