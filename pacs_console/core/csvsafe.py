"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection"): one function for
every export (address book, incidents, C-FIND matches)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

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


def unsafe_cell(value: str) -> str:
    """Undo ``safe_cell`` when the console reads its own export back (address book import)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
