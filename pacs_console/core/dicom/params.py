"""AE title rules and timeouts: light enough to import at start-up, before pynetdicom."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_AE_TITLE = "PACSCONSOLE"


@dataclass(frozen=True)
class Timeouts:
    """Explicit timeouts in seconds; pynetdicom's defaults leave TCP connect unbounded."""

    connect: float = 5.0
    acse: float = 10.0
    dimse: float = 30.0
    network: float = 60.0


def validate_ae_title(value: str) -> str | None:
    """Return why ``value`` is not a usable AE title, or None when it is."""
    if not value or not value.strip():
        return "AE title is empty or all spaces"
    if len(value) > 16:
        return f"AE title is {len(value)} characters long; DICOM allows at most 16"
    if "\\" in value:
        return "AE title contains a backslash, which DICOM forbids"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "AE title contains a control character"
    if any(ord(ch) > 127 for ch in value):
        return "AE title contains a non-ASCII character; DICOM allows the default repertoire only"
    return None
