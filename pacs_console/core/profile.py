"""The engineer profile: the person and organisation every signed report names.

The signing certificate's subject is made from this profile and from nothing else (never from a
visit's data), so the visible stamp, the certificate and ``report verify`` name the same person.
Settings holds one Profile (``settings.profile``); the settings file keeps it under the flat keys
of ``STORED`` (engineer_name, organisation, ...), as every earlier version wrote it. This module
is the one way to validate it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, field, fields, replace
from pathlib import Path

from pacs_console.core.records import record

# Compiled (and cached by re) when an address is first checked, not by every command's start.
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_TEXT = 120


def _kept(stored: str, label: str):
    """A profile field: empty by default, kept under ``stored`` in the settings file and called
    ``label`` in messages."""
    return field(default="", metadata={"stored": stored, "label": label})


class ProfileError(ValueError):
    """A profile value that cannot be used; the message says which and why."""


@record(frozen=True)
class Profile:
    """Who signs reports: the person, the organisation they sign for and how to reach them."""

    name: str = _kept("engineer_name", "Name")
    organisation: str = _kept("organisation", "Organisation")
    role: str = _kept("engineer_role", "Role")
    email: str = _kept("engineer_email", "Email")
    phone: str = _kept("engineer_phone", "Phone")
    logo: str = _kept("organisation_logo", "Logo")

    @property
    def complete(self) -> bool:
        """Enough to sign: a person and the organisation they sign for."""
        return bool(self.name.strip() and self.organisation.strip())

    @property
    def identity(self) -> tuple[str, str]:
        """What the signing certificate's subject carries (common name, organisation)."""
        return self.name.strip(), self.organisation.strip()

    def to_dict(self) -> dict:
        return {**asdict(self), "complete": self.complete}

    def stored(self) -> dict[str, str]:
        """The profile as the settings file keeps it (``engineer_name``, ...)."""
        return {stored: getattr(self, name) for name, stored in STORED.items()}

    @classmethod
    def from_stored(cls, data: dict) -> Profile:
        """The profile from a settings file's keys; absent keys are empty."""
        return cls(**{name: str(data.get(stored, "")) for name, stored in STORED.items()})


STORED = {f.name: f.metadata["stored"] for f in fields(Profile)}  # Profile field -> file key
_LABELS = {f.name: f.metadata["label"] for f in fields(Profile)}


def _clean(label: str, value: str) -> str:
    import unicodedata

    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ProfileError(f"{label} is longer than {MAX_TEXT} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise ProfileError(f"{label} contains control or invisible characters")
    return value


def validated(profile: Profile) -> Profile:
    """The profile with whitespace trimmed, or ProfileError naming the first unusable field."""
    cleaned = Profile(**{name: _clean(label, getattr(profile, name))
                         for name, label in _LABELS.items()})
    if cleaned.email and not re.match(_EMAIL, cleaned.email):
        raise ProfileError(f"Email {cleaned.email!r} is not an email address")
    if cleaned.logo:
        logo = Path(cleaned.logo).expanduser()
        if not logo.is_file():
            raise ProfileError(f"Logo {cleaned.logo} is not a file")
        if logo.suffix.lower() not in (".png", ".jpg", ".jpeg"):
            raise ProfileError("Logo must be a PNG or JPEG image")
        if logo.stat().st_size > 2 * 1024 * 1024:
            raise ProfileError("Logo is larger than 2 MB")
        cleaned = replace(cleaned, logo=str(logo.resolve()))
    return cleaned
