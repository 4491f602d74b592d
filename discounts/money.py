"""Money of the programme: integer kopecks everywhere, percentages as integer basis points (1 % = 100).

Rounding rule (stated once, tested): cashback = amount × rate, rounded half up to the whole kopeck.
"""

import re

BASIS_POINTS = 10_000  # 100.00 %


def cashback_for(*, amount_kopecks: int, rate_bp: int) -> int:
    """Cashback of a purchase in kopecks: half a kopeck and more rounds up, less rounds down."""
    if amount_kopecks < 0 or rate_bp < 0:
        raise ValueError("amount and rate must not be negative")
    return (amount_kopecks * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


# Roubles as people type them: digits, then at most two after a comma or a point; a minus is read (and refused by
# the caller with its own words). Nothing more that Decimal() would take: "1e3", "1_000", "NaN", and "1e100000",
# whose quantize raised InvalidOperation (not a ValueError, so a page fell over) before this pattern.
_ROUBLES = re.compile(r"^(-?)(\d{1,15})(?:[.,](\d{1,2}))?$", re.ASCII)
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def kopecks_from_text(text: str) -> int:
    """Roubles as a cashier types them ("1 234,56", "1234.5") → kopecks; ValueError for anything else."""
    match = _ROUBLES.match(_SPACES.sub("", str(text)))
    if match is None:
        raise ValueError(f"not an amount in roubles and kopecks: {text!r}")
    minus, roubles, kopecks = match.groups()
    amount = int(roubles) * 100 + int((kopecks or "0").ljust(2, "0"))
    return -amount if minus else amount


def roubles_text(kopecks: int) -> str:
    """Kopecks as a person reads roubles: 123456 → "1 234,56" (no-break thin spaces between thousands)."""
    sign = "−" if kopecks < 0 else ""
    roubles, rest = divmod(abs(int(kopecks)), 100)
    return f"{sign}{roubles:,}".replace(",", "\u202f") + f",{rest:02d}"


def percent_text(rate_bp: int) -> str:
    """Basis points as a percentage: 550 → "5,5", 500 → "5"."""
    whole, rest = divmod(int(rate_bp), 100)
    return f"{whole},{rest:02d}".rstrip("0").rstrip(",")
