"""The report's plain data: a VisitReport and its parts, JSON in and out, no database."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Strokes:
    """A handwritten signature as vector strokes in a width x height box (y grows downwards)."""

    width: float = 400.0
    height: float = 150.0
    strokes: tuple[tuple[tuple[float, float], ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not any(len(s) for s in self.strokes)


@dataclass(frozen=True)
class HandSignature:
    name: str = ""
    role: str = ""
    signed_at: datetime | None = None
    strokes: Strokes = Strokes()


@dataclass(frozen=True)
class PartUsed:
    """A part used on the visit; written one a line as ``part; quantity; serial; note``."""

    part: str
    quantity: float = 1
    serial: str = ""
    note: str = ""

    @classmethod
    def from_line(cls, line: str) -> PartUsed:
        """The part a line names; a missing or unreadable quantity is 1."""
        fields = [f.strip() for f in line.split(";")] + ["", "", ""]
        try:
            quantity = float(fields[1] or 1)
        except ValueError:
            quantity = 1
        return cls(fields[0], quantity, fields[2], fields[3])

    @property
    def line(self) -> str:
        return f"{self.part}; {self.quantity:g}; {self.serial}; {self.note}"


@dataclass(frozen=True)
class TimeEntry:
    """Time spent on one activity; written one a line as ``activity = minutes``."""

    activity: str
    minutes: float

    @classmethod
    def from_line(cls, line: str) -> TimeEntry | None:
        """The entry a line states, or None when its minutes are not a number."""
        activity, _, minutes = line.rpartition("=")
        try:
            return cls(activity.strip() or line, float(minutes))
        except ValueError:
            return None

    @property
    def line(self) -> str:
        return f"{self.activity} = {self.minutes:g}"


@dataclass(frozen=True)
class Extras:
    """The free-text parts the engineer fills in before generating (kept as a draft per visit)."""

    summary: str = ""
    recommendations: tuple[str, ...] = ()
    follow_ups: tuple[str, ...] = ()
    time_spent: tuple[TimeEntry, ...] = ()
    parts: tuple[PartUsed, ...] = ()
    feedback: str = ""
    feedback_rating: int | None = None  # 1-5, None when not asked
    # incident id (as text, JSON keys) -> {"root_cause": ..., "resolution": ...}
    incident_notes: dict[str, dict[str, str]] = field(default_factory=dict)
    customer: HandSignature = HandSignature()
    engineer: HandSignature = HandSignature()


@dataclass(frozen=True)
class IncidentItem:
    id: int
    uuid: str
    title: str
    severity: str
    category: str
    status: str
    nodes: tuple[str, ...]
    reported_at: datetime
    response_due_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    sla_state: str  # met, breached, running, due-soon
    response_minutes: float | None
    root_cause: str = ""
    resolution: str = ""
    description: str = ""


@dataclass(frozen=True)
class TestRunItem:
    __test__ = False

    id: int
    kind: str
    node_label: str
    started_at: datetime
    outcome: str
    summary: str
    duration_ms: float
    latency_ms: float | None = None  # median round trip (echo) or the one echo's total
    latency_p95_ms: float | None = None
    latency_series_ms: tuple[float, ...] = ()
    mb_per_s: float | None = None
    images_per_s: float | None = None


@dataclass(frozen=True)
class HealthItem:
    """One site health run of the visit: its grid and what got worse since the run before."""

    site: str
    at: datetime
    verdict: str
    rows: tuple[tuple[str, str, str, str], ...] = ()  # node, check, result, summary
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArchiveCheckItem:
    """One archive integrity spot-check of the visit and the sampled studies with findings."""

    node: str
    at: datetime
    result: str  # pass, warn, fail
    summary: str
    sampled: int = 0
    population: int = 0
    since: str = ""
    findings: tuple[tuple[str, str, str, str], ...] = ()  # result, study UID, year/modality, text


@dataclass(frozen=True)
class DrCompareItem:
    """One primary-vs-DR comparison of the visit: the counts, the gap and the differences."""

    primary: str
    dr: str
    at: datetime
    result: str
    date_from: str
    date_to: str
    primary_studies: int
    dr_studies: int
    missing_on_dr: int
    only_on_dr: int
    count_mismatches: int
    gap_hours: float | None
    findings: tuple[tuple[str, str, str, str], ...]  # finding, study UID, primary, DR


@dataclass(frozen=True)
class NodeItem:
    name: str
    ae_title: str
    host: str
    port: int
    tags: str


@dataclass(frozen=True)
class CapabilityRow:
    sop_class: str
    service: str
    syntaxes: str
    role: str


@dataclass(frozen=True)
class CapabilityMatrixItem:
    node: str
    probed_at: datetime | None
    rows: tuple[CapabilityRow, ...]


@dataclass(frozen=True)
class InventoryItem:
    """The site's last sweep and what changed since the one before (None: fewer than two)."""

    last_sweep_at: datetime | None = None
    findings: tuple[str, ...] = ()
    changes: tuple[str, ...] | None = None
    unchanged: int = 0


@dataclass(frozen=True)
class LaptopInfo:
    hostname: str
    system: str
    console_version: str
    interfaces: tuple[str, ...]
    disk_free_gb: float | None
    captured_at: datetime


@dataclass(frozen=True)
class VisitReport:
    report_id: str
    generated_at: datetime
    organisation: str
    organisation_details: str
    engineer: str
    engineer_id: str
    site: str
    site_details: dict[str, str]
    visit_id: int | None
    visit_uuid: str
    purpose: str
    visit_notes: str
    arrived_at: datetime
    departed_at: datetime | None
    incidents: tuple[IncidentItem, ...]
    test_runs: tuple[TestRunItem, ...]
    nodes: tuple[NodeItem, ...]
    inventory: InventoryItem
    capabilities: tuple[CapabilityMatrixItem, ...]
    laptop: LaptopInfo
    extras: Extras
    # What a person reads and quotes: site code, date, sequence (report_id stays for machines).
    report_number: str
    health: tuple[HealthItem, ...] = ()
    # The audit chain's newest entry when the report was made ({"id", "hash"}): signed with it,
    # so a chain rewritten afterwards no longer matches (``audit verify`` checks).
    audit_head: dict | None = None
    archive_checks: tuple[ArchiveCheckItem, ...] = ()
    dr_compares: tuple[DrCompareItem, ...] = ()

    @property
    def on_site_minutes(self) -> float | None:
        if self.departed_at is None:
            return None
        return (self.departed_at - self.arrived_at).total_seconds() / 60

    def to_dict(self) -> dict:
        return _plain(self)

    def json_bytes(self) -> bytes:
        """The canonical JSON embedded in the PDF; its SHA-256 is printed on the last page."""
        return json.dumps({"format": "pacs-console-visit-report/1", **self.to_dict()},
                          sort_keys=True, ensure_ascii=False, indent=1).encode("utf-8")

    def sha256(self) -> str:
        return hashlib.sha256(self.json_bytes()).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def strokes_from_dict(data: dict | None) -> Strokes:
    if not data:
        return Strokes()
    return Strokes(float(data.get("width", 400)), float(data.get("height", 150)),
                   tuple(tuple((float(x), float(y)) for x, y in s)
                         for s in data.get("strokes", ())))


def hand_signature_from_dict(data: dict | None) -> HandSignature:
    data = data or {}
    return HandSignature(data.get("name", ""), data.get("role", ""), _time(data.get("signed_at")),
                         strokes_from_dict(data.get("strokes")))


def extras_from_dict(data: dict | None) -> Extras:
    """The draft as saved by the panel (or written by hand for the CLI)."""
    data = data or {}
    rating = data.get("feedback_rating")
    return Extras(
        summary=data.get("summary", ""),
        recommendations=tuple(data.get("recommendations", ())),
        follow_ups=tuple(data.get("follow_ups", ())),
        time_spent=tuple(TimeEntry(t["activity"], float(t["minutes"]))
                         for t in data.get("time_spent", ())),
        parts=tuple(PartUsed(p["part"], float(p.get("quantity", 1)), p.get("serial", ""),
                             p.get("note", "")) for p in data.get("parts", ())),
        feedback=data.get("feedback", ""),
        feedback_rating=int(rating) if rating not in (None, "") else None,
        incident_notes={str(k): dict(v) for k, v in data.get("incident_notes", {}).items()},
        customer=hand_signature_from_dict(data.get("customer")),
        engineer=hand_signature_from_dict(data.get("engineer")))


def extras_to_dict(extras: Extras) -> dict:
    return _plain(extras)
