"""Card numbers (номер электронного профсоюзного билета): 16 digits = region code (2) + serial (13) + Luhn digit."""

SERIAL_DIGITS = 13
NUMBER_DIGITS = 16


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits` + it pass the Luhn check (the same as bank cards)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: these become every second digit once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_is_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and luhn_check_digit(number[:-1]) == number[-1]


def card_number_compose(*, region_code: str, serial: int) -> str:
    if not (region_code.isdigit() and len(region_code) == 2):
        raise ValueError(f"region code must be two digits, got {region_code!r}")
    if not 0 < serial < 10**SERIAL_DIGITS:
        raise ValueError(f"serial out of range: {serial}")
    body = f"{region_code}{serial:0{SERIAL_DIGITS}d}"
    return body + luhn_check_digit(body)


def card_number_is_valid(number: str) -> bool:
    return len(number) == NUMBER_DIGITS and luhn_is_valid(number)


def card_number_grouped(number: str) -> str:
    """As printed: four groups of four digits."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def card_number_masked(number: str) -> str:
    """What a log or a partner's report may show of a number: its last four digits."""
    return f"•••• {number[-4:]}" if len(number) >= 4 else "••••"
