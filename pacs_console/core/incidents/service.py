"""Create and change incidents: status process, timeline, evidence and attachments, all audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import (
    Attachment,
    Incident,
    IncidentNode,
    Site,
    TestRun,
    TimelineEntry,
    Visit,
    VisitIncident,
    utcnow,
)
from pacs_console.core.incidents import audit
from pacs_console.core.incidents.model import (
    STATUS_LABELS,
    IncidentRecord,
    TimelineRecord,
    aware,
    category_key,
    check_transition,
    invalid,
    severity_key,
)
from pacs_console.core.incidents.sites import find_site
from pacs_console.core.incidents.sla import BusinessCalendar, response_due
from pacs_console.core.sync import outbox


def device_utc_offset_min() -> int:
    offset = datetime.now().astimezone().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _record(session: Session, incident: Incident) -> IncidentRecord:
    site = session.get(Site, incident.site_id) if incident.site_id else None
    nodes = session.exec(select(IncidentNode).where(IncidentNode.incident_id == incident.id)
                         .order_by(IncidentNode.id)).all()
    return IncidentRecord(
        incident.id or 0, incident.uuid, incident.title, incident.description, incident.severity,
        incident.category, incident.status, incident.hold_reason, incident.site_id,
        site.name if site else "", tuple((n.node_id, n.node_label) for n in nodes),
        incident.reporter, incident.contact, incident.created_by, aware(incident.reported_at),
        aware(incident.acknowledged_at), aware(incident.resolved_at), aware(incident.closed_at),
        aware(incident.response_due_at), incident.clock_offset_s, incident.device_utc_offset_min,
        incident.source_test_run_id, aware(incident.created_at), aware(incident.updated_at))


def _timeline_record(entry: TimelineEntry) -> TimelineRecord:
    return TimelineRecord(entry.id or 0, entry.incident_id, aware(entry.at), entry.kind,
                          entry.author, entry.text, entry.from_status, entry.to_status,
                          entry.test_run_id, entry.attachment_id, entry.clock_offset_s)


def find_incident(session: Session, ref: int | str) -> Incident:
    """By id, full UUID, or a UUID prefix of at least 6 characters."""
    text = str(ref).strip()
    found = None
    if text.isdigit():
        found = session.get(Incident, int(text))
    if found is None and len(text) >= 6:
        matches = session.exec(select(Incident).where(col(Incident.uuid).startswith(text))
                               .limit(2)).all()
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise invalid("incident-unknown", f"No incident {text!r}",
                      "Use the number or UUID from `pacs-console incident list`", incident=text)
    return found


def _calendar(session: Session, site_id: int | None) -> BusinessCalendar:
    site = session.get(Site, site_id) if site_id else None
    if site is None:
        return BusinessCalendar()
    return BusinessCalendar.from_settings(site.timezone, site.business_hours,
                                          site.holiday_country, site.closed_days or ())


def add_entry(session: Session, incident: Incident, kind: str, actor: str, text: str = "", *,
           at: datetime | None = None, offset: float = 0.0, **fields) -> TimelineEntry:
    entry = TimelineEntry(incident_id=incident.id, kind=kind, author=actor, text=text,
                          at=at or utcnow(), clock_offset_s=offset, **fields)
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="create", entity="timeline", entity_id=entry.id,
                 after=audit.state_digest(session, "timeline", entry.id),
                 detail={"incident": incident.uuid, "kind": kind})
    # Same transaction: the helpdesk learns of exactly the changes that were committed.
    outbox.enqueue_entry(session, incident, entry)
    return entry


def _resolve_nodes(db: Database, nodes: Iterable[int | str]) -> list[tuple[int | None, str]]:
    from pacs_console.core.db.nodes import list_nodes

    known = list_nodes(db)
    resolved = []
    for ref in nodes:
        match = next((n for n in known if str(ref) in (str(n.id), n.name, n.ae_title)), None)
        if match is None:
            raise invalid("node-unknown", f"No node {ref!r} in the address book",
                          "Add it on the Tests panel, or use its name or AE title", node=str(ref))
        resolved.append((match.id, f"{match.name} ({match.ae_title}@{match.host}:{match.port})"))
    return resolved


def create_incident(db: Database, *, title: str, severity: str, category: str = "other",
                    description: str = "", site: int | str | None = None,
                    nodes: Iterable[int | str] = (), reporter: str = "", contact: str = "",
                    reported_at: datetime | None = None, actor: str = "",
                    clock_offset_s: float = 0.0, visit_id: int | None = None,
                    test_run_id: int | None = None) -> IncidentRecord:
    """A new incident with its UUID made here, the response due time fixed from the SLA."""
    if not title.strip():
        raise invalid("incident-title", "An incident needs a title",
                      "Say in a few words what is wrong")
    severity, category = severity_key(severity), category_key(category)
    now = utcnow()
    reported = (reported_at or now).astimezone(UTC)
    node_links = _resolve_nodes(db, nodes)
    with audit.audited_session(db) as session:
        site_id = find_site(session, site).id if site is not None else None
        incident = Incident(title=title.strip(), description=description, severity=severity,
                            category=category, site_id=site_id, reporter=reporter,
                            contact=contact, created_by=actor, reported_at=reported,
                            response_due_at=response_due(_calendar(session, site_id), severity,
                                                         reported),
                            clock_offset_s=clock_offset_s,
                            device_utc_offset_min=device_utc_offset_min(),
                            source_test_run_id=test_run_id, created_at=now, updated_at=now)
        session.add(incident)
        session.flush()
        for node_id, label in node_links:
            session.add(IncidentNode(incident_id=incident.id, node_id=node_id, node_label=label))
        if visit_id is not None:
            session.add(VisitIncident(visit_id=visit_id, incident_id=incident.id))
        else:
            _link_open_visit(session, incident)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="incident",
                     entity_id=incident.id,
                     after=audit.state_digest(session, "incident", incident.id),
                     detail={"uuid": incident.uuid, "title": incident.title})
        add_entry(session, incident, "created", actor, f"Reported: {incident.title}", at=reported,
               offset=clock_offset_s, to_status="new")
        if test_run_id is not None:
            _attach_run(session, incident, test_run_id, actor, clock_offset_s)
        return _record(session, incident)


def get_incident(db: Database, ref: int | str) -> IncidentRecord:
    with db.session() as session:
        return _record(session, find_incident(session, ref))



def _changed(session: Session, incident: Incident, before: str, actor: str, detail: dict) -> None:
    incident.updated_at = utcnow()
    session.add(incident)
    session.flush()
    audit.record(session, actor=actor, action="change", entity="incident", entity_id=incident.id,
                 before=before, after=audit.state_digest(session, "incident", incident.id),
                 detail={"uuid": incident.uuid, **detail})


def set_status(db: Database, ref: int | str, status: str, *, actor: str = "", note: str = "",
               hold_reason: str = "", at: datetime | None = None,
               clock_offset_s: float = 0.0) -> IncidentRecord:
    """Move along the support process; the first step past New is the SLA response."""
    status = status.strip().lower().replace(" ", "_").replace("-", "_")
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        check_transition(incident.status, status, hold_reason)
        when = (at or utcnow()).astimezone(UTC)
        if when < aware(incident.reported_at):
            raise invalid("incident-time", "That time is before the incident was reported",
                          "Check the time given and the laptop's clock",
                          reported=aware(incident.reported_at).isoformat())
        before, previous = audit.state_digest(session, "incident", incident.id), incident.status
        if status == "on_hold":
            incident.status_before_hold, incident.hold_reason = previous, hold_reason.strip()
        else:
            incident.hold_reason = ""
            if status != "closed" and previous in ("resolved", "closed"):
                incident.resolved_at = incident.closed_at = None  # reopened
            if incident.acknowledged_at is None:
                incident.acknowledged_at = when
            if status in ("resolved", "closed") and incident.resolved_at is None:
                incident.resolved_at = when
            if status == "closed":
                incident.closed_at = when
        incident.status = status
        _changed(session, incident, before, actor, {"status": [previous, status]})
        text = f"{STATUS_LABELS[previous]} → {STATUS_LABELS[status]}"
        if status == "on_hold":
            text += f": {incident.hold_reason}"
        if note.strip():
            text += f"\n{note.strip()}"
        add_entry(session, incident, "status", actor, text, at=when, offset=clock_offset_s,
               from_status=previous, to_status=status)
        _link_open_visit(session, incident)
        return _record(session, incident)


def update_incident(db: Database, ref: int | str, *, actor: str = "", **fields) -> IncidentRecord:
    """Change title, description, severity, category, site, reporter or contact."""
    allowed = {"title", "description", "severity", "category", "site", "reporter", "contact"}
    unknown = set(fields) - allowed
    if unknown:
        raise invalid("incident-field", f"Cannot change {sorted(unknown)}",
                      "Change one of: " + ", ".join(sorted(allowed)))
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        before = audit.state_digest(session, "incident", incident.id)
        changes = {}
        for name, value in fields.items():
            if value is None:
                continue
            if name == "severity":
                value = severity_key(value)
            elif name == "category":
                value = category_key(value)
            elif name == "site":
                name, value = "site_id", find_site(session, value).id
            if getattr(incident, name) != value:
                changes[name] = [getattr(incident, name), value]
                setattr(incident, name, value)
        if not changes:
            return _record(session, incident)
        if "severity" in changes or "site_id" in changes:
            incident.response_due_at = response_due(_calendar(session, incident.site_id),
                                                    incident.severity,
                                                    aware(incident.reported_at))
        _changed(session, incident, before, actor, {"fields": sorted(changes)})
        summary = "; ".join(f"{k}: {v[0]!s:.40} → {v[1]!s:.40}" for k, v in changes.items())
        add_entry(session, incident, "change", actor, f"Changed {summary}")
        return _record(session, incident)


def add_note(db: Database, ref: int | str, text: str, *, actor: str = "",
             at: datetime | None = None, clock_offset_s: float = 0.0) -> TimelineRecord:
    if not text.strip():
        raise invalid("note-empty", "The note is empty", "Type what was found or done")
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        entry = add_entry(session, incident, "note", actor, text.strip(), at=at,
                       offset=clock_offset_s)
        _link_open_visit(session, incident)
        return _timeline_record(entry)


def _attach_run(session: Session, incident: Incident, run_id: int, actor: str,
                offset: float = 0.0) -> TimelineEntry:
    run = session.get(TestRun, run_id)
    if run is None:
        raise invalid("test-run-unknown", f"No test run {run_id}",
                      "Pick one from the Tests panel's history")
    text = f"Test run {run.kind} {run.node_label}: {run.outcome}"
    if run.summary:
        text += f" — {run.summary}"
    return add_entry(session, incident, "test_run", actor, text, offset=offset, test_run_id=run.id)


def attach_test_run(db: Database, ref: int | str, run_id: int | None = None, *,
                    actor: str = "", clock_offset_s: float = 0.0) -> TimelineRecord:
    """Attach a run; without an id, the latest run on one of the incident's nodes (or any)."""
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        if run_id is None:
            node_ids = [n for n in session.exec(select(IncidentNode.node_id).where(
                IncidentNode.incident_id == incident.id)) if n is not None]
            query = select(TestRun.id).order_by(col(TestRun.started_at).desc(),
                                                col(TestRun.id).desc())
            run_id = (session.exec(query.where(col(TestRun.node_id).in_(node_ids))).first()
                      if node_ids else None) or session.exec(query).first()
            if run_id is None:
                raise invalid("test-run-none", "There is no test run to attach yet",
                              "Run an echo or query on the Tests panel first")
        return _timeline_record(_attach_run(session, incident, run_id, actor, clock_offset_s))


def timeline(db: Database, ref: int | str) -> list[TimelineRecord]:
    with db.session() as session:
        incident = find_incident(session, ref)
        entries = session.exec(select(TimelineEntry).where(TimelineEntry.incident_id == incident.id)
                               .order_by(TimelineEntry.at, TimelineEntry.id))
        return [_timeline_record(e) for e in entries]


def delete_incident(db: Database, ref: int | str, *, actor: str = "") -> None:
    """Remove an incident with its timeline; every removed row is recorded in the audit log."""
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        children = [("timeline", e.id) for e in session.exec(
            select(TimelineEntry).where(TimelineEntry.incident_id == incident.id))]
        children += [("attachment", a.id) for a in session.exec(
            select(Attachment).where(Attachment.incident_id == incident.id))]
        digests = {key: audit.state_digest(session, *key) for key in children}
        before = audit.state_digest(session, "incident", incident.id)
        uuid = incident.uuid
        session.delete(incident)
        session.flush()
        for (entity, entity_id), digest in digests.items():
            audit.record(session, actor=actor, action="delete", entity=entity,
                         entity_id=entity_id, before=digest, detail={"incident": uuid})
        audit.record(session, actor=actor, action="delete", entity="incident",
                     entity_id=incident.id, before=before, detail={"uuid": uuid})


UNLINKED = "visit_unlinked"


def _link_open_visit(session: Session, incident: Incident) -> None:
    """An incident created or worked on at a site while a visit there is open belongs to that
    visit's report, unless the engineer unlinked it from that visit."""
    if incident.site_id is None:
        return
    visit = session.exec(select(Visit).where(Visit.site_id == incident.site_id,
                                             col(Visit.departed_at).is_(None))
                         .order_by(col(Visit.arrived_at).desc())).first()
    if visit is None or session.get(VisitIncident, (visit.id, incident.id)) is not None:
        return
    unlinked = session.exec(select(TimelineEntry.id).where(
        TimelineEntry.incident_id == incident.id, TimelineEntry.kind == UNLINKED,
        TimelineEntry.text == _unlink_text(visit.id))).first()
    if unlinked is None:
        session.add(VisitIncident(visit_id=visit.id, incident_id=incident.id))


def _unlink_text(visit_id: int) -> str:
    return f"Unlinked from visit {visit_id}"


def unlink_visit(db: Database, visit_id: int, ref: int | str, *, actor: str = "") -> None:
    """Take an incident out of a visit's report (it is not linked there again automatically)."""
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        link = session.get(VisitIncident, (visit_id, incident.id))
        if link is None:
            raise invalid("visit-not-linked", f"Incident #{incident.id} is not linked to visit "
                          f"{visit_id}", "Pick an incident listed on that visit")
        before = audit.state_digest(session, "incident", incident.id)
        session.delete(link)
        add_entry(session, incident, UNLINKED, actor, _unlink_text(visit_id))
        _changed(session, incident, before, actor, {"visit_unlinked": visit_id})


def link_visit(db: Database, visit_id: int, ref: int | str, *, actor: str = "") -> None:
    """Record that the incident was worked on during the visit (once per pair)."""
    with audit.audited_session(db) as session:
        incident = find_incident(session, ref)
        if session.get(Visit, visit_id) is None:
            raise invalid("visit-unknown", f"No visit {visit_id}",
                          "Pick a visit from the list, or start one", visit=str(visit_id))
        if session.get(VisitIncident, (visit_id, incident.id)) is not None:
            raise invalid("visit-linked", f"Incident #{incident.id} is already linked to visit "
                          f"{visit_id}", "Pick another incident or visit")
        before = audit.state_digest(session, "incident", incident.id)
        session.add(VisitIncident(visit_id=visit_id, incident_id=incident.id))
        _changed(session, incident, before, actor, {"visit": visit_id})
