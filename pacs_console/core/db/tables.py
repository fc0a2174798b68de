"""SQLModel tables; every change to them ships with an Alembic migration in migrations/versions."""

from __future__ import annotations

import types
import uuid as uuid_module
from dataclasses import MISSING, fields
from datetime import UTC, datetime
from typing import Any, get_type_hints

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from pacs_console.core.discovery.models import Finding


def utcnow() -> datetime:
    return datetime.now(UTC)


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    region: str = ""
    facility_type: str = ""
    notes: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    # Business calendar for SLA clocks (migration 0003); None hours mean Mon-Fri 08:00-17:00.
    address: str = ""
    contacts: str = ""
    timezone: str = "Africa/Accra"
    business_hours: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    holiday_country: str = "GH"
    closed_days: list[str] | None = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime | None = None


class Node(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    ae_title: str = Field(max_length=16)
    host: str
    port: int
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True,
                                ondelete="SET NULL")
    tags: str = ""  # comma separated: modality, pacs, workstation, router, demo
    notes: str = ""
    is_demo: bool = False
    tls: bool = False
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_server_name: str = ""  # when the certificate names a host other than `host`
    capabilities: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    capabilities_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TestRun(SQLModel, table=True):
    """One echo, query, retrieve, store or probe, kept as evidence for incidents and reports."""

    __tablename__ = "test_run"
    __test__ = False  # not a pytest class

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    node_id: int | None = Field(default=None, foreign_key="node.id", index=True, ondelete="SET NULL")
    node_label: str = ""  # "AE@host:port", kept when the node is deleted or was ad hoc
    kind: str  # echo, echo-series, find, move, get, store, probe, worklist
    parameters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow, index=True)
    duration_ms: float = 0.0
    outcome: str  # ok, failed, cancelled, partial
    summary: str = ""
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    diagnosis: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    association: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


# Incidents, visits, evidence and the audit trail (migration 0003).


class Visit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    engineer: str = ""
    purpose: str = ""
    notes: str = ""
    arrived_at: datetime = Field(default_factory=utcnow)
    departed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Incident(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    title: str
    description: str = ""
    severity: str = Field(index=True)  # critical, high, medium, low
    category: str = "other"
    status: str = Field(default="new", index=True)
    hold_reason: str = ""
    status_before_hold: str = ""
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True,
                                ondelete="SET NULL")
    source_test_run_id: int | None = Field(default=None, foreign_key="test_run.id",
                                           ondelete="SET NULL")
    reporter: str = ""
    contact: str = ""
    created_by: str = ""
    # Device-clock UTC; clock_offset_s is the device clock's known error (true = device + offset).
    reported_at: datetime = Field(index=True)
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    response_due_at: datetime = Field(index=True)
    clock_offset_s: float = 0.0
    device_utc_offset_min: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IncidentNode(SQLModel, table=True):
    __tablename__ = "incident_node"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    node_id: int | None = Field(default=None, foreign_key="node.id", index=True,
                                ondelete="SET NULL")
    node_label: str = ""


class VisitIncident(SQLModel, table=True):
    __tablename__ = "visit_incident"

    visit_id: int = Field(foreign_key="visit.id", primary_key=True, ondelete="CASCADE")
    incident_id: int = Field(foreign_key="incident.id", primary_key=True, index=True,
                             ondelete="CASCADE")


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    sha256: str = Field(index=True)  # the file lives at data/attachments/<sha[:2]>/<sha>
    filename: str
    media_type: str = "application/octet-stream"
    size: int = 0
    added_at: datetime = Field(default_factory=utcnow)


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_entry"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow)
    clock_offset_s: float = 0.0
    kind: str  # created, note, status, change, test_run, attachment
    author: str = ""
    text: str = ""
    from_status: str = ""
    to_status: str = ""
    test_run_id: int | None = Field(default=None, foreign_key="test_run.id", ondelete="SET NULL")
    attachment_id: int | None = Field(default=None, foreign_key="attachment.id",
                                      ondelete="SET NULL")


class MaintenanceWindow(SQLModel, table=True):
    __tablename__ = "maintenance_window"

    id: int | None = Field(default=None, primary_key=True)
    node_id: int | None = Field(default=None, foreign_key="node.id", index=True,
                                ondelete="CASCADE")
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True,
                                ondelete="CASCADE")
    starts_at: datetime
    ends_at: datetime
    reason: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """Append-only and hash-chained: each row's hash covers its fields and the previous hash."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = ""
    action: str  # create, change, delete, export, upload
    entity: str  # incident, timeline, attachment, site, visit, maintenance, export
    entity_id: str = ""
    before_digest: str = ""
    after_digest: str = ""
    detail: str = ""  # JSON text, kept as written so the hash can be recomputed
    prev_hash: str = ""
    hash: str = ""


# Discovery sweeps and what each found (migration 0004).


class Sweep(SQLModel, table=True):
    """One discovery sweep of a site: the inventory at that moment."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True,
                                ondelete="CASCADE")
    started_at: datetime = Field(default_factory=utcnow, index=True)
    duration_s: float = 0.0
    targets: str = ""
    ports: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    hosts: int = 0
    attempts: int = 0
    engineer: str = ""


def _record_table(name: str, record: type, body: dict[str, Any], **defaults: Any) -> Any:
    """A table class: the columns in ``body``, then one column per field of the dataclass
    ``record`` with its type and default (``defaults`` overrides some). For a table that
    stores a plain record and reads it back, so the record's fields are written once."""
    hints = get_type_hints(record)
    body = {"__module__": __name__, "__qualname__": name, **body}
    body["__annotations__"] = {**body.get("__annotations__", {}),
                               **{f.name: hints[f.name] for f in fields(record)}}
    for f in fields(record):
        if f.name in defaults or f.default is not MISSING:
            body[f.name] = defaults.get(f.name, f.default)
    return types.new_class(name, (SQLModel,), {"table": True}, lambda ns: ns.update(body))


SweepFinding = _record_table("SweepFinding", Finding, {
    "__doc__": "One open host:port in a sweep: a discovery Finding, saved and read back as one.",
    "__tablename__": "sweep_finding",
    "__annotations__": {"id": int | None, "sweep_id": int},
    "id": Field(default=None, primary_key=True),
    "sweep_id": Field(foreign_key="sweep.id", index=True, ondelete="CASCADE"),
}, service="dicom")  # the migration's server default


# Helpdesk sync: the outbox, incident ↔ ticket mapping, events pulled back (migration 0005).


class OutboxItem(SQLModel, table=True):
    """One change waiting to reach the helpdesk, written in the same transaction as the change."""

    __tablename__ = "outbox_item"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(default_factory=lambda: str(uuid_module.uuid4()), unique=True)
    incident_uuid: str = Field(index=True)  # the ordering group; kept if the incident goes
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True,
                                    ondelete="SET NULL")
    kind: str  # create, comment, status, attach
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    device_time: datetime = Field(default_factory=utcnow)  # when it happened, device clock
    created_at: datetime = Field(default_factory=utcnow)
    state: str = Field(default="pending", index=True)  # pending, in_flight, done, failed, cancelled
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str = ""
    lease_until: datetime | None = None
    last_error: str = ""
    diagnosis: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    remote_ref: str = ""  # the ticket id (create) or what the helpdesk answered
    updated_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class HelpdeskTicket(SQLModel, table=True):
    """The helpdesk ticket an incident became, and how far its history was pulled back."""

    __tablename__ = "helpdesk_ticket"

    id: int | None = Field(default=None, primary_key=True)
    incident_uuid: str = Field(unique=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True,
                                    ondelete="SET NULL")
    helpdesk: str = ""  # kind and base URL, e.g. "rt http://127.0.0.1:8090"
    ticket_id: str
    remote_status: str = ""
    last_transaction: int = 0  # the newest remote history entry already pulled
    created_at: datetime = Field(default_factory=utcnow)
    pulled_at: datetime | None = None


class HelpdeskEvent(SQLModel, table=True):
    """A change made on the helpdesk side (status, reply, comment), with any conflict found."""

    __tablename__ = "helpdesk_event"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True,
                                    ondelete="CASCADE")
    ticket_id: str = Field(index=True)
    remote_id: str  # the helpdesk's own id of the change (RT transaction id)
    kind: str  # status, reply, comment
    at: datetime
    author: str = ""
    text: str = ""
    from_status: str = ""
    to_status: str = ""
    applied: bool = False
    conflict: str = ""  # why it was not applied locally; empty when there was no conflict
    pulled_at: datetime = Field(default_factory=utcnow)
