"""Incident ↔ ticket mapping and pull-back: helpdesk status and replies into the timeline."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import (
    HelpdeskEvent,
    HelpdeskTicket,
    Incident,
    OutboxItem,
    TimelineEntry,
    utcnow,
)
from pacs_console.core.errors import ConsoleError
from pacs_console.core.models import Progress
from pacs_console.core.sync import outbox
from pacs_console.core.sync.adapters.base import Adapter, HelpdeskError


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class TicketLink:
    incident_uuid: str
    incident_id: int | None
    ticket_id: str
    helpdesk: str
    remote_status: str
    last_transaction: int
    pulled_at: datetime | None


@dataclass(frozen=True)
class EventRecord:
    id: int
    incident_id: int | None
    ticket_id: str
    remote_id: str
    kind: str
    at: datetime
    author: str
    text: str
    from_status: str
    to_status: str
    applied: bool
    conflict: str

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["at"] = self.at.isoformat()
        return data


def link_ticket(session: Session, incident_uuid: str, incident_id: int | None, ticket_id: str,
                helpdesk: str) -> None:
    """Record the ticket an incident became (in the transaction that marks the create done)."""
    row = session.exec(select(HelpdeskTicket).where(
        HelpdeskTicket.incident_uuid == incident_uuid)).first()
    if row is None:
        row = HelpdeskTicket(incident_uuid=incident_uuid, incident_id=incident_id,
                             ticket_id=ticket_id, helpdesk=helpdesk)
    row.ticket_id = ticket_id
    session.add(row)


def ticket_for(db: Database, incident_uuid: str) -> str | None:
    with db.session() as session:
        return session.exec(select(HelpdeskTicket.ticket_id).where(
            HelpdeskTicket.incident_uuid == incident_uuid)).first()


def links(db: Database) -> list[TicketLink]:
    with db.session() as session:
        rows = session.exec(select(HelpdeskTicket).order_by(HelpdeskTicket.id)).all()
        return [TicketLink(r.incident_uuid, r.incident_id, r.ticket_id, r.helpdesk,
                           r.remote_status, r.last_transaction, _aware(r.pulled_at))
                for r in rows]


def events(db: Database, *, incident_id: int | None = None,
           conflicts_only: bool = False) -> list[EventRecord]:
    with db.session() as session:
        query = select(HelpdeskEvent)
        if incident_id is not None:
            query = query.where(HelpdeskEvent.incident_id == incident_id)
        if conflicts_only:
            query = query.where(HelpdeskEvent.conflict != "")
        rows = session.exec(query.order_by(HelpdeskEvent.at, HelpdeskEvent.id)).all()
        return [EventRecord(r.id or 0, r.incident_id, r.ticket_id, r.remote_id, r.kind,
                            _aware(r.at), r.author, r.text, r.from_status, r.to_status,
                            r.applied, r.conflict) for r in rows]


@dataclass(frozen=True)
class PullResult:
    tickets: int
    events: int
    applied: int
    conflicts: int
    errors: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        return {"tickets": self.tickets, "events": self.events, "applied": self.applied,
                "conflicts": self.conflicts, "errors": list(self.errors)}


def _status_conflict(session: Session, incident: Incident, at: datetime) -> str:
    """A status changed here too, after the helpdesk's change or not yet sent: both kept."""
    unsent = session.exec(select(OutboxItem.id).where(
        OutboxItem.incident_uuid == incident.uuid, OutboxItem.kind == "status",
        col(OutboxItem.state).in_(outbox.OPEN_STATES))).first()
    # Helpdesk times are whole seconds (RT drops the fraction): a change here within the same
    # second is not provably later, and counting it would flag every quick round trip.
    later = session.exec(select(TimelineEntry.id).where(
        TimelineEntry.incident_id == incident.id, TimelineEntry.kind == "status",
        TimelineEntry.at >= at + timedelta(seconds=1))).first()
    if unsent is not None:
        return "status changed here too and not yet sent"
    if later is not None:
        return "status changed here after the helpdesk's change"
    return ""


def _store(db: Database, link: TicketLink, changes) -> list[int]:
    """Record new remote changes once (unique per ticket and remote id); ids of the new rows."""
    new_ids = []
    with db.session() as session:
        for change in changes:
            exists = session.exec(select(HelpdeskEvent.id).where(
                HelpdeskEvent.ticket_id == link.ticket_id,
                HelpdeskEvent.remote_id == str(change.remote_id))).first()
            if exists is not None:
                continue
            row = HelpdeskEvent(incident_id=link.incident_id, ticket_id=link.ticket_id,
                                remote_id=str(change.remote_id), kind=change.kind, at=change.at,
                                author=change.author, text=change.text,
                                from_status=change.from_status, to_status=change.to_status)
            session.add(row)
            session.flush()
            new_ids.append(row.id)
        ticket = session.exec(select(HelpdeskTicket).where(
            HelpdeskTicket.incident_uuid == link.incident_uuid)).one()
        if changes:
            ticket.last_transaction = max(ticket.last_transaction,
                                          max(c.remote_id for c in changes))
        ticket.pulled_at = utcnow()
        session.add(ticket)
    return new_ids


def _apply(db: Database, adapter: Adapter, event_id: int) -> tuple[bool, str]:
    """Bring one remote change into the incident. Marked applied first: a crash mid-way loses
    the timeline echo at worst, never writes it twice; the event itself stays listed."""
    from pacs_console.core.incidents import service

    with db.session() as session:
        event = session.get(HelpdeskEvent, event_id)
        incident = session.get(Incident, event.incident_id) if event.incident_id else None
        if incident is None:
            event.conflict = "the incident no longer exists here"
            session.add(event)
            return False, event.conflict
        conflict, target = "", None
        if event.kind == "status":
            target = adapter.local_status(event.to_status)
            if target is None or adapter.remote_status(incident.status) == event.to_status:
                target = None  # nothing new for the incident
            elif target == "acknowledged" and incident.status not in ("resolved", "closed"):
                target = None  # "open" on the helpdesk fits any step of the work
            else:
                conflict = _status_conflict(session, incident, _aware(event.at))
            if conflict:
                conflict = (f"Status changed on both sides: here {incident.status}, on the "
                            f"helpdesk {event.to_status} ({conflict})")
        event.applied, event.conflict = not conflict, conflict
        session.add(event)
        # Helpdesk times drop the fraction of a second: a change made within the second the
        # incident was reported would otherwise read as before it and be refused.
        incident_id, at = incident.id, max(_aware(event.at), _aware(incident.reported_at))
    if conflict:
        return False, conflict
    actor = f"helpdesk:{event.author}"
    try:
        with outbox.suppressed():
            if event.kind == "status" and target:
                service.set_status(db, incident_id, target, actor=actor,
                                   note="Changed on the helpdesk",
                                   hold_reason="put on hold on the helpdesk", at=at)
            elif event.kind in ("reply", "comment") and event.text.strip():
                label = "reply" if event.kind == "reply" else "comment"
                service.add_note(db, incident_id, f"Helpdesk {label} from {event.author}:\n"
                                 f"{event.text}", actor=actor, at=at)
    except ConsoleError as exc:
        with db.session() as session:
            row = session.get(HelpdeskEvent, event_id)
            row.applied, row.conflict = False, f"Not applied here: {exc.diagnosis.what}"
            session.add(row)
        return False, exc.diagnosis.what
    return True, ""


def pull(db: Database, adapter: Adapter) -> Generator[Progress, None, PullResult]:
    """Fetch what changed on every linked ticket; apply it, flag conflicts, keep both sides."""
    all_links = links(db)
    stored = applied = conflicts = 0
    errors = []
    started = utcnow()
    pulled = [link.pulled_at for link in all_links]
    if all_links and None not in pulled:
        # Only tickets changed since the oldest pull: one search instead of one per ticket.
        try:
            changed = adapter.updated_since(min(pulled))
        except HelpdeskError as exc:
            return PullResult(len(all_links), 0, 0, 0, ({"ticket": "", **exc.diagnosis.to_dict()},))
        if changed is not None:
            all_links = [link for link in all_links if link.ticket_id in changed]
    for index, link in enumerate(all_links):
        try:
            changes = adapter.changes(link.ticket_id, link.last_transaction)
        except HelpdeskError as exc:
            errors.append({"ticket": link.ticket_id, **exc.diagnosis.to_dict()})
            if exc.diagnosis.code == "helpdesk-unauthorized" or exc.transient:
                break
            continue
        for event_id in _store(db, link, changes):
            stored += 1
            ok, _ = _apply(db, adapter, event_id)
            applied += ok
            conflicts += not ok
        yield Progress(index + 1, len(all_links), f"Pulled ticket {link.ticket_id}")
    if not errors:
        with db.session() as session:  # unchanged tickets count as pulled up to now
            for row in session.exec(select(HelpdeskTicket)):
                row.pulled_at = max(_aware(row.pulled_at) or started, started)
                session.add(row)
    return PullResult(len(all_links), stored, applied, conflicts, tuple(errors))


def handed_heads(db: Database, adapter: Adapter) -> Generator[Progress, None,
                                                               list[tuple[str, dict]]]:
    """The audit heads this laptop carried to the helpdesk: ``(where, head)`` read back from
    the body and comments of every ticket its incidents became, for ``audit verify``."""
    from pacs_console.core.incidents.audit import heads_in

    found: list[tuple[str, dict]] = []
    all_links = links(db)
    for index, link in enumerate(all_links):
        for text in adapter.texts(link.ticket_id):
            found += [(f"helpdesk ticket {link.ticket_id}", h) for h in heads_in(text)]
        yield Progress(index + 1, len(all_links), f"Read ticket {link.ticket_id}")
    return found
