"""Money of the programme: integer kopecks everywhere, percentages as integer basis points (1 % = 100).

Rounding rule (stated once, tested): cashback = amount × rate, rounded half up to the whole kopeck.
"""

from registry.money import kopecks_from_text, roubles_text

# The roubles helpers live in registry.money (cards keep money too); their names stay importable from here.
__all__ = ["BASIS_POINTS", "cashback_for", "kopecks_from_text", "percent_text", "roubles_text"]

BASIS_POINTS = 10_000  # 100.00 %


def cashback_for(*, amount_kopecks: int, rate_bp: int) -> int:
    """Cashback of a purchase in kopecks: half a kopeck and more rounds up, less rounds down."""
    if amount_kopecks < 0 or rate_bp < 0:
        raise ValueError("amount and rate must not be negative")
    return (amount_kopecks * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


def percent_text(rate_bp: int) -> str:
    """Basis points as a percentage: 550 → "5,5", 500 → "5"."""
    whole, rest = divmod(int(rate_bp), 100)
    return f"{whole},{rest:02d}".rstrip("0").rstrip(",")
