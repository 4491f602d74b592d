"""Cells of the files people open in a spreadsheet (CSV registers, exports for accounting).

A cell a spreadsheet would run as a formula (text starting with =, +, -, @, or a tab or carriage return before one)
is written as text: a leading apostrophe, as OWASP advises for CSV injection. Names are typed by people, so the
guard goes on every cell, not only on those that look dangerous today.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell_text(value: str) -> str:
    """Text for a spreadsheet cell that stays text: a formula-like start is escaped with an apostrophe."""
    value = str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell_value(text: str) -> str:
    """What a cell written by csv_cell_text held: the guarding apostrophe before a formula-like start is dropped, so
    a file the portal exported loads back as it was (a phone "+7 900 …" stays a phone)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


# xlsxwriter takes a text cell for a formula, a number or a link by its look unless told not to: a string is a string.
XLSX_TEXT_ONLY = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}
