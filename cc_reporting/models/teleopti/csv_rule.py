"""The one quoting rule of the project's CSV output (`csv_cell`), shared by the Python and the SQL renderers."""
from __future__ import annotations

import re


def format_number(value) -> str:
    """Integers without a decimal point; fractions with at most two decimals and no trailing zeros."""
    if value is None:
        return "0"
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    return str(int(value))


# What a spreadsheet runs as a formula (OWASP "CSV injection"): = + - @, and TAB/CR that some strip first.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Besides the separator, what makes a field need RFC 4180 quotes.
QUOTE_TRIGGERS = '"\r\n'
# Text that is a plain number (a phone number `+4677…`, `-1`): a spreadsheet reads it as that number, no formula.
_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def csv_cell(value, separator: str) -> str:
    """One field of a `separator`-separated file, safe to split and to open in a spreadsheet.

    Numbers are never altered (`format_number`; a negative number stays `-1`); null is an empty field. Text
    starting with a formula prefix gets a leading `'`, unless it is a plain number; text holding the separator,
    `"`, CR or LF is then quoted RFC 4180 style (inner quotes doubled), so a name can neither shift nor split a row.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return format_number(value)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER_TEXT.fullmatch(text):
        text = "'" + text
    if separator in text or any(c in text for c in QUOTE_TRIGGERS):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_line(values, separator: str) -> str:
    return separator.join(csv_cell(v, separator) for v in values) + "\n"
