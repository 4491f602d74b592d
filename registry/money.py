"""Money as the union's people type and read it: integer kopecks in the program, roubles with a decimal comma on
screen. Every app that keeps money (cards' settlement, the discount programme) uses these, never float."""

import re

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


def roubles_plain(kopecks: int, *, decimal: str = ",") -> str:
    """Kopecks as accounting software reads roubles: 123456 → "1234,56", no thousands separator, ASCII minus."""
    sign = "-" if kopecks < 0 else ""
    roubles, rest = divmod(abs(int(kopecks)), 100)
    return f"{sign}{roubles}{decimal}{rest:02d}"
