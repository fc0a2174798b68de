"""The outbox: changes queued in the caller's transaction, claimed with leases, one head per incident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import (
    HelpdeskTicket,
    Incident,
    OutboxItem,
    Site,
    TestRun,
    TimelineEntry,
    utcnow,
)
from pacs_console.core.sync.leases import lease_owner as lease_owner  # re-exported
from pacs_console.core.sync.leases import owner_alive as owner_alive  # re-exported
from pacs_console.core.sync.leases import reclaim_dead

STATES = ("pending", "in_flight", "done", "failed", "cancelled")
OPEN_STATES = ("pending", "in_flight", "failed")  # an incident's queue waits behind these
# Timeline kinds and the outbox item each becomes.
_KINDS = {"created": "create", "note": "comment", "change": "comment", "status": "status",
          "test_run": "attach", "attachment": "attach"}
_SUPPRESS: ContextVar[bool] = ContextVar("pacs_console_outbox_suppress", default=False)


@contextmanager
def suppressed() -> Iterator[None]:
    """Changes made inside (pulled back from the helpdesk) are not sent back to it."""
    token = _SUPPRESS.set(True)
    try:
        yield
    finally:
        _SUPPRESS.reset(token)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sql_time(value: datetime) -> str:
    """The text SQLAlchemy stores for a UTC datetime, so raw SQL compares like for like."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    key: str
    incident_uuid: str
    incident_id: int | None
    kind: str
    payload: dict
    device_time: datetime
    created_at: datetime
    state: str
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str
    lease_until: datetime | None
    last_error: str
    diagnosis: dict | None
    remote_ref: str
    updated_at: datetime
    done_at: datetime | None

    @property
    def summary(self) -> str:
        return str(self.payload.get("subject") or self.payload.get("text") or self.kind)[:120]

    def to_dict(self) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "payload"}
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        data["summary"] = self.summary
        return data


_COLUMNS = tuple(OutboxRecord.__dataclass_fields__)


def _from_row(row) -> OutboxRecord:
    values = dict(zip(_COLUMNS, (getattr(row, c) for c in _COLUMNS), strict=True))
    for name in ("payload", "diagnosis"):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    for name in ("device_time", "created_at", "next_attempt_at", "lease_until", "updated_at",
                 "done_at"):
        value = values[name]
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[name] = _aware(value)
    values["payload"] = values["payload"] or {}
    return OutboxRecord(**values)


# -- enqueue (inside the caller's transaction) ---------------------------------------------------


def enqueue(session: Session, *, incident_uuid: str, incident_id: int | None, kind: str,
            payload: dict, device_time: datetime | None = None) -> str:
    """Add one item in ``session``'s transaction; it commits or rolls back with the change."""
    item = OutboxItem(incident_uuid=incident_uuid, incident_id=incident_id, kind=kind,
                      payload=payload, device_time=(device_time or utcnow()).astimezone(UTC))
    session.add(item)
    return item.key


def _creation_payload(session: Session, incident: Incident) -> dict:
    site = session.get(Site, incident.site_id) if incident.site_id else None
    return {"subject": incident.title, "description": incident.description,
            "severity": incident.severity, "category": incident.category,
            "status": incident.status, "site": site.name if site else "",
            "reporter": incident.reporter, "contact": incident.contact,
            "created_by": incident.created_by,
            "reported_at": _aware(incident.reported_at).isoformat(),
            "response_due_at": _aware(incident.response_due_at).isoformat(),
            "clock_offset_s": incident.clock_offset_s, "incident_uuid": incident.uuid}


def _has_ticket_or_create(session: Session, incident_uuid: str) -> bool:
    if session.exec(select(HelpdeskTicket.id).where(
            HelpdeskTicket.incident_uuid == incident_uuid)).first() is not None:
        return True
    return session.exec(select(OutboxItem.id).where(
        OutboxItem.incident_uuid == incident_uuid, OutboxItem.kind == "create",
        OutboxItem.state != "cancelled")).first() is not None


def ensure_ticket(session: Session, incident: Incident | int) -> None:
    """An incident from before sync was set up gets its ticket's 'create' item first."""
    if isinstance(incident, int):
        incident = session.get(Incident, incident)
    if incident is not None and not _has_ticket_or_create(session, incident.uuid):
        enqueue(session, incident_uuid=incident.uuid, incident_id=incident.id, kind="create",
                payload=_creation_payload(session, incident),
                device_time=_aware(incident.reported_at))


def enqueue_entry(session: Session, incident: Incident, entry: TimelineEntry) -> str | None:
    """The incidents service's hook: every timeline entry that the helpdesk should see."""
    kind = _KINDS.get(entry.kind)
    if kind is None or _SUPPRESS.get():
        return None
    at = _aware(entry.at) or utcnow()
    if kind != "create":
        ensure_ticket(session, incident)
    if kind == "create":
        payload = _creation_payload(session, incident)
    else:
        payload = {"subject": f"{entry.kind.replace('_', ' ').capitalize()} by "
                              f"{entry.author or 'engineer'}",
                   "text": entry.text, "author": entry.author, "entry_kind": entry.kind,
                   "clock_offset_s": entry.clock_offset_s}
    if entry.kind == "status":
        payload.update(from_status=entry.from_status, to_status=entry.to_status)
    elif entry.kind == "test_run" and entry.test_run_id is not None:
        run = session.get(TestRun, entry.test_run_id)
        if run is not None:
            payload["file"] = {"filename": f"test-run-{run.uuid}.json",
                               "media_type": "application/json",
                               "inline": json.dumps(_run_json(run), indent=2, default=str)}
    elif entry.kind == "attachment" and entry.attachment_id is not None:
        from pacs_console.core.db.tables import Attachment

        attachment = session.get(Attachment, entry.attachment_id)
        if attachment is not None:
            payload["file"] = {"filename": attachment.filename,
                               "media_type": attachment.media_type,
                               "sha256": attachment.sha256, "size": attachment.size}
    return enqueue(session, incident_uuid=incident.uuid, incident_id=incident.id, kind=kind,
                   payload=payload, device_time=at)


def _run_json(run: TestRun) -> dict:
    return {"uuid": run.uuid, "kind": run.kind, "node": run.node_label,
            "started_at": _aware(run.started_at).isoformat(), "duration_ms": run.duration_ms,
            "outcome": run.outcome, "summary": run.summary, "parameters": run.parameters,
            "metrics": run.metrics, "diagnosis": run.diagnosis, "association": run.association}


# -- the drain's side --------------------------------------------------------------------------
# Leases name their process (core/sync/leases.py); a dead one's items are reclaimed at once.
_CLAIM = text("""
UPDATE outbox_item
   SET state = 'in_flight', lease_owner = :owner, lease_until = :until,
       attempts = attempts + 1, updated_at = :now
 WHERE id IN (
   SELECT o.id FROM outbox_item o
     JOIN (SELECT min(id) AS head FROM outbox_item
            WHERE state IN ('pending', 'in_flight', 'failed') GROUP BY incident_uuid) h
       ON o.id = h.head
    WHERE (o.state = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now))
       OR (o.state = 'in_flight' AND o.lease_until < :now)
    ORDER BY o.id LIMIT :limit)
RETURNING id
""")


def claim(db: Database, owner: str, *, limit: int = 8, lease_s: float = 60.0,
          now: datetime | None = None) -> list[OutboxRecord]:
    """Lease the next item of up to ``limit`` incidents; an incident whose head is in flight,
    failed or backing off waits, the others go. One statement, so two drains never share."""
    now = now or utcnow()
    reclaim_dead(db)
    with db.engine.begin() as connection:
        ids = [r[0] for r in connection.execute(_CLAIM, {
            "owner": owner, "until": _sql_time(now + timedelta(seconds=lease_s)),
            "now": _sql_time(now), "limit": limit})]
    return get_items(db, ids)


def get_items(db: Database, ids: list[int]) -> list[OutboxRecord]:
    if not ids:
        return []
    with db.session() as session:
        rows = session.exec(select(OutboxItem).where(col(OutboxItem.id).in_(ids))
                            .order_by(OutboxItem.id)).all()
        return [_from_row(r) for r in rows]


def renew(db: Database, owner: str, ids: list[int], lease_s: float) -> None:
    """Keep the leases of items still being worked on from expiring under a slow helpdesk."""
    if not ids:
        return
    with db.session() as session:
        for row in session.exec(select(OutboxItem).where(
                col(OutboxItem.id).in_(ids), OutboxItem.state == "in_flight",
                OutboxItem.lease_owner == owner)):
            row.lease_until = utcnow() + timedelta(seconds=lease_s)
            session.add(row)


def _update(session: Session, item_id: int, owner: str | None, **fields) -> bool:
    row = session.get(OutboxItem, item_id)
    if row is None or row.state != "in_flight" or (owner is not None and row.lease_owner != owner):
        return False  # the lease was lost: whoever holds it now finishes the item
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at, row.lease_until = utcnow(), None
    session.add(row)
    return True


def complete(session: Session, item_id: int, owner: str | None, remote_ref: str = "") -> bool:
    """Mark done in the caller's transaction (with, for a create, the ticket mapping)."""
    return _update(session, item_id, owner, state="done", done_at=utcnow(),
                   remote_ref=remote_ref, last_error="", diagnosis=None)


def retry_later(db: Database, item_id: int, owner: str | None, error: str,
                delay_s: float) -> bool:
    with db.session() as session:
        return _update(session, item_id, owner, state="pending", last_error=error[:1000],
                       next_attempt_at=utcnow() + timedelta(seconds=delay_s))


def fail(db: Database, item_id: int, owner: str | None, diagnosis: dict) -> bool:
    """A permanent failure: the item (and the incident's later items) wait for the engineer."""
    with db.session() as session:
        return _update(session, item_id, owner, state="failed", diagnosis=diagnosis,
                       last_error=str(diagnosis.get("what", ""))[:1000])


def retry(db: Database, item_id: int) -> bool:
    """The engineer's Retry: a failed or cancelled item goes back to the queue, due now."""
    with db.session() as session:
        row = session.get(OutboxItem, item_id)
        if row is None or row.state not in ("failed", "cancelled", "pending"):
            return False
        row.state, row.next_attempt_at, row.updated_at = "pending", None, utcnow()
        session.add(row)
        return True


def retry_all_failed(db: Database) -> int:
    with db.session() as session:
        rows = session.exec(select(OutboxItem).where(OutboxItem.state == "failed")).all()
        for row in rows:
            row.state, row.next_attempt_at, row.updated_at = "pending", None, utcnow()
            session.add(row)
        return len(rows)


def cancel(db: Database, item_id: int) -> bool:
    """The engineer's Cancel: a pending or failed item will not be sent."""
    with db.session() as session:
        row = session.get(OutboxItem, item_id)
        if row is None or row.state not in ("pending", "failed"):
            return False
        row.state, row.updated_at = "cancelled", utcnow()
        session.add(row)
        return True


def wake(db: Database) -> int:
    """Connectivity is back: items backing off are due now."""
    with db.engine.begin() as connection:
        return connection.execute(text(
            "UPDATE outbox_item SET next_attempt_at = NULL "
            "WHERE state = 'pending' AND next_attempt_at IS NOT NULL")).rowcount


# -- reading ----------------------------------------------------------------------------------


def counts(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.exec(select(OutboxItem.state, func.count()).group_by(OutboxItem.state))
        found = dict(rows.all())
    return {state: int(found.get(state, 0)) for state in STATES}


def undelivered(db: Database) -> dict:
    """What is not at the helpdesk yet and why: {"count", "pending", "in_flight", "failed",
    "why"}. Cancelled items are the engineer's choice and do not count."""
    reclaim_dead(db)
    found = counts(db)
    reasons = []
    if found["in_flight"]:
        reasons.append(f"{found['in_flight']} in flight under another sync process")
    if found["pending"]:
        due = next_due(db)
        wait = (f": next retry in {max(0, round((due - utcnow()).total_seconds()))} s"
                if due else ": not sent yet")
        reasons.append(f"{found['pending']} pending{wait}")
    if found["failed"]:
        reasons.append(f"{found['failed']} failed: needs the engineer's Retry")
    total = found["pending"] + found["in_flight"] + found["failed"]
    return {"count": total, "pending": found["pending"], "in_flight": found["in_flight"],
            "failed": found["failed"], "why": "; ".join(reasons)}


def next_due(db: Database) -> datetime | None:
    """When the earliest item backing off becomes due (None: nothing is waiting)."""
    with db.session() as session:
        value = session.exec(select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.state == "pending")).first()
    return _aware(value) if value else None


def list_items(db: Database, states: tuple[str, ...] = STATES, *, incident_id: int | None = None,
               limit: int = 500) -> list[OutboxRecord]:
    with db.session() as session:
        query = select(OutboxItem).where(col(OutboxItem.state).in_(states))
        if incident_id is not None:
            query = query.where(OutboxItem.incident_id == incident_id)
        rows = session.exec(query.order_by(col(OutboxItem.id).desc()).limit(limit)).all()
        return [_from_row(r) for r in rows]
