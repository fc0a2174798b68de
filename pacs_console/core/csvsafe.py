"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection"): one function for
every export (address book, incidents, C-FIND matches)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO, Any

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text starting with a formula character gets a leading apostrophe, which spreadsheets
    show as text; numbers and other values are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def safe_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    return {key: safe_cell(value) for key, value in row.items()}


def write_dicts(handle: IO[str], rows: list[Mapping[str, Any]]) -> int:
    """``rows`` as CSV on ``handle``: a column per key in the order keys first appear, every
    cell made safe. Returns the number of rows written."""
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    writer = csv.DictWriter(handle, fieldnames=fields)
    writer.writeheader()
    writer.writerows(safe_dict(row) for row in rows)
    return len(rows)


def unsafe_cell(value: str) -> str:
    """Undo ``safe_cell`` when the console reads its own export back (address book import)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
