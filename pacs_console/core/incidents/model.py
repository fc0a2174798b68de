"""Incident vocabulary (statuses, categories, the process) and the plain records handed upward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.incidents.sla import (
    SEVERITY_LEVELS,
    BusinessCalendar,
    SlaStatus,
    response_status,
)

CATEGORIES: dict[str, str] = {
    "network": "Network",
    "storage": "Storage / archive",
    "viewer": "Viewer / workstation",
    "modality": "Modality connection",
    "integration": "Integration HL7 / RIS / EMR",
    "hardware": "Hardware",
    "security": "Security",
    "other": "Other",
}
# The support process, in order; on_hold can interrupt any open step.
PROCESS = ("new", "acknowledged", "analysing", "planning", "executing", "verifying", "resolved",
           "closed")
STATUSES = (*PROCESS, "on_hold")
OPEN_STATUSES = frozenset(STATUSES) - {"resolved", "closed"}
STATUS_LABELS = {s: s.replace("_", " ").capitalize() for s in STATUSES}


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def invalid(code: str, what: str, action: str, **evidence: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, actions=(action,), evidence=evidence))


def check_period(start: datetime, end: datetime, *, code: str, what: str, action: str,
                 names: tuple[str, str] = ("start", "end")) -> None:
    """A period that ends after it starts, both ends timezone-aware. ``what`` names it in the
    diagnosis ("A maintenance window"); ``names`` are its ends' evidence keys."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"{what} needs timezone-aware datetimes")
    if end <= start:
        raise invalid(code, f"{what} must end after it starts", action,
                      **{names[0]: start.isoformat(), names[1]: end.isoformat()})


def next_step(status: str) -> str | None:
    """The quick "next" button: the following step of the process, None once closed."""
    if status == "on_hold":
        return None
    index = PROCESS.index(status)
    return PROCESS[index + 1] if index + 1 < len(PROCESS) else None


def check_transition(current: str, target: str, hold_reason: str = "") -> None:
    if target not in STATUSES:
        raise invalid("incident-status", f"Unknown status {target!r}",
                      "Use one of: " + ", ".join(STATUSES))
    if target == current:
        raise invalid("incident-status", f"The incident is already {STATUS_LABELS[target]}",
                      "Pick a different status")
    if target == "new":
        raise invalid("incident-status", "An incident cannot go back to New",
                      "Use Acknowledged or a later step")
    if target == "on_hold":
        if current in ("resolved", "closed"):
            raise invalid("incident-status", f"A {current} incident cannot be put on hold",
                          "Reopen it first (set it to Acknowledged)")
        if not hold_reason.strip():
            raise invalid("incident-hold", "Putting an incident on hold needs a reason",
                          "Say what it waits for, e.g. 'vendor part on order'")
    if current == "closed" and target != "acknowledged":
        raise invalid("incident-status", "A closed incident can only be reopened",
                      "Set it to Acknowledged to reopen it")


def category_key(category: str) -> str:
    key = (category or "other").strip().lower()
    for name, label in CATEGORIES.items():
        if key in (name, label.lower()) or label.lower().startswith(key):
            return name
    raise invalid("incident-category", f"Unknown category {category!r}",
                  "Use one of: " + ", ".join(CATEGORIES))


def severity_key(severity: str) -> str:
    key = (severity or "").strip().lower()
    if key not in SEVERITY_LEVELS:
        raise invalid("incident-severity", f"Unknown severity {severity!r}",
                      "Use critical, high, medium or low")
    return key


class Jsonable:
    """``to_dict()`` of a record: its fields, datetimes as ISO 8601 text, tuples as lists."""

    def to_dict(self) -> dict:
        return _jsonable(self.__dict__)


@dataclass(frozen=True)
class SiteRecord(Jsonable):
    id: int
    name: str
    region: str = ""
    facility_type: str = ""
    address: str = ""
    contacts: str = ""
    timezone: str = "Africa/Accra"
    business_hours: dict[str, str] | None = None
    holiday_country: str = "GH"
    closed_days: tuple[str, ...] = ()
    notes: str = ""

    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar.from_settings(self.timezone, self.business_hours,
                                              self.holiday_country, self.closed_days)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "business_hours": self.calendar().hours_text()}


@dataclass(frozen=True)
class VisitRecord(Jsonable):
    id: int
    uuid: str
    site_id: int
    site_name: str
    engineer: str
    purpose: str
    notes: str
    arrived_at: datetime
    departed_at: datetime | None
    incident_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class MaintenanceRecord(Jsonable):
    """Scheduled downtime: for one node (node_id set) or every node of a site."""

    id: int
    starts_at: datetime
    ends_at: datetime
    reason: str
    site_id: int | None
    site_name: str
    node_id: int | None
    node_name: str

    @property
    def scope(self) -> str:
        return self.node_name or (f"all nodes at {self.site_name}" if self.site_name else "-")

    def to_dict(self) -> dict:
        return {**super().to_dict(), "scope": self.scope}


@dataclass(frozen=True)
class IncidentRecord:
    id: int
    uuid: str
    title: str
    description: str
    severity: str
    category: str
    status: str
    hold_reason: str
    site_id: int | None
    site_name: str
    nodes: tuple[tuple[int | None, str], ...]
    reporter: str
    contact: str
    created_by: str
    reported_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_due_at: datetime
    clock_offset_s: float
    device_utc_offset_min: int
    source_test_run_id: int | None
    created_at: datetime
    updated_at: datetime

    def sla(self, now: datetime | None = None) -> SlaStatus:
        return response_status(self.severity, self.reported_at, self.response_due_at,
                               self.acknowledged_at, now or datetime.now(UTC))

    @property
    def resolution_time(self) -> timedelta | None:
        return self.resolved_at - self.reported_at if self.resolved_at else None

    def to_dict(self, now: datetime | None = None) -> dict:
        data = _jsonable(self.__dict__)
        data["nodes"] = [{"node_id": n, "label": label} for n, label in self.nodes]
        sla = self.sla(now)
        data["sla"] = {"response_due_at": sla.due_at.isoformat(), "state": sla.state,
                       "remaining_s": sla.remaining.total_seconds(),
                       "response_s": sla.response.total_seconds() if sla.response else None,
                       "resolution_s": (self.resolution_time.total_seconds()
                                        if self.resolution_time else None)}
        return data


@dataclass(frozen=True)
class TimelineRecord(Jsonable):
    id: int
    incident_id: int
    at: datetime
    kind: str
    author: str
    text: str
    from_status: str = ""
    to_status: str = ""
    test_run_id: int | None = None
    attachment_id: int | None = None
    clock_offset_s: float = 0.0


@dataclass(frozen=True)
class AttachmentRecord(Jsonable):
    id: int
    incident_id: int
    sha256: str
    filename: str
    media_type: str
    size: int
    added_at: datetime


def _jsonable(data: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else list(v) if isinstance(v, tuple)
                else v) for k, v in data.items()}
