"""One knowledge-base article, its validation and the single PHI scrub every text goes through."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from pacs_console.core.phi import redact_text

ORIGINS = ("local", "helpdesk")
MAX_TITLE = 200
MAX_TEXT = 64_000
MAX_CODES = 32
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class ArticleProblem(ValueError):
    """Article input that cannot be saved: one line for the user."""


def scrub(text: str) -> str:
    """The one PHI hook for knowledge text: articles travel to the helpdesk and other laptops,
    so patient identities are removed by the one PHI module (core/phi.py)."""
    return redact_text(text or "").strip()


def normalise_code(code: str) -> str:
    """Diagnosis codes compare case-insensitively: `0xA801` and `0xa801` are one code."""
    text = (code or "").strip()
    if not _CODE_RE.match(text):
        raise ArticleProblem(f"diagnosis code {code!r} is not a code (letters, digits, - _ . :)")
    return text.lower()


def valid_codes(codes) -> list[str]:
    """The well-formed codes among ``codes``, normalised, in order; malformed ones are dropped
    (codes read from saved diagnoses or typed in a search are not bad input)."""
    found = []
    for code in codes:
        try:
            found.append(normalise_code(code))
        except ArticleProblem:
            continue
    return found


@dataclass(frozen=True)
class Article:
    title: str
    body: str = ""
    symptoms: str = ""
    cause: str = ""
    fix: str = ""
    codes: tuple[str, ...] = ()
    vendor: str = ""
    model: str = ""
    attachments: tuple[str, ...] = ()
    origin: str = "local"
    author: str = ""
    site: str = ""
    incident_uuid: str = ""
    id: int | None = None
    uuid: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    remote_id: str = ""
    sync_state: str = "pending"  # pending (to send), synced, conflict
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        data["codes"], data["attachments"] = list(self.codes), list(self.attachments)
        for key in ("created_at", "updated_at"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data

    def text(self, reference: bool = True) -> str:
        """The article as plain text: `kb show` and the Knowledge view print the same, except
        the UUID (what `kb show` takes a prefix of), left out of the view (``reference``)."""
        lines = [f"Article {self.id}  {self.uuid}" if reference else f"Article #{self.id}",
                 f"  {self.title}"]
        meta = [f"origin {self.origin}" if reference else
                ("written on this console" if self.origin == "local" else "from the helpdesk")]
        if self.vendor or self.model:
            meta.append(f"vendor {' '.join(filter(None, (self.vendor, self.model)))}")
        if self.codes:
            meta.append("codes " + ", ".join(self.codes))
        lines.append("  " + "; ".join(meta))
        when = f"{self.updated_at:%Y-%m-%d %H:%M} UTC" if self.updated_at else "-"
        lines.append(f"  by {self.author or '-'} at {self.site or '-'}, updated {when}")
        for label, text in (("Symptoms", self.symptoms), ("Cause", self.cause),
                            ("Fix", self.fix), ("Steps", self.body)):
            if text:
                lines.append(f"{label}:")
                lines += [f"  {line}" for line in text.splitlines()]
        if self.attachments:
            lines.append("Attachments: " + ", ".join(self.attachments))
        return "\n".join(lines)

    def cleaned(self) -> Article:
        """Validated and PHI-free; raises ArticleProblem with one line."""
        from dataclasses import replace

        title = scrub(self.title)
        if not title:
            raise ArticleProblem("an article needs a title")
        if len(title) > MAX_TITLE:
            raise ArticleProblem(f"title longer than {MAX_TITLE} characters")
        texts = {name: scrub(getattr(self, name)) for name in ("body", "symptoms", "cause", "fix",
                                                               "vendor", "model", "author", "site")}
        for name, value in texts.items():
            if len(value) > MAX_TEXT:
                raise ArticleProblem(f"{name} longer than {MAX_TEXT} characters")
        if len(self.codes) > MAX_CODES:
            raise ArticleProblem(f"more than {MAX_CODES} diagnosis codes")
        codes = tuple(dict.fromkeys(normalise_code(c) for c in self.codes))
        if self.origin not in ORIGINS:
            raise ArticleProblem(f"origin must be one of {', '.join(ORIGINS)}")
        attachments = tuple(scrub(a) for a in self.attachments if a.strip())
        return replace(self, title=title, codes=codes, attachments=attachments, **texts)
