"""The engineer profile: the person and organisation every signed report names.

The signing certificate's subject is made from this profile and from nothing else (never from a
visit's data), so the visible stamp, the certificate and ``report verify`` name the same person.
Settings holds one Profile (``settings.profile``); the settings file keeps it under the flat keys
of ``STORED`` (engineer_name, organisation, ...), as every earlier version wrote it. This module
is the one way to validate it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TEXT = 120
# Profile field -> (its key in the settings file, its name in messages): the one mapping.
_STORED = {"name": ("engineer_name", "Name"), "organisation": ("organisation", "Organisation"),
           "role": ("engineer_role", "Role"), "email": ("engineer_email", "Email"),
           "phone": ("engineer_phone", "Phone"), "logo": ("organisation_logo", "Logo")}
STORED = {name: stored for name, (stored, _) in _STORED.items()}  # Profile field -> file key


class ProfileError(ValueError):
    """A profile value that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Profile:
    """Who signs reports: the person, the organisation they sign for and how to reach them."""

    name: str = ""
    organisation: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""
    logo: str = ""

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
                         for name, (_, label) in _STORED.items()})
    if cleaned.email and not _EMAIL.match(cleaned.email):
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
