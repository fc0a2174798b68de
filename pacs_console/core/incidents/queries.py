"""Incident list queries: filters, sorting, full-text search, pages by id, CSV/JSON export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pacs_console.core.csvsafe import safe_row
from pacs_console.core.db.engine import Database
from pacs_console.core.incidents import audit
from pacs_console.core.incidents.model import OPEN_STATUSES, IncidentRecord
from pacs_console.core.incidents.sla import SEVERITIES

_SEVERITY_RANK = "CASE i.severity " + " ".join(
    f"WHEN '{s}' THEN {n}" for n, s in enumerate(SEVERITIES)) + " ELSE 9 END"
SORTS = {
    "id": "i.id", "reported": "i.reported_at", "due": "i.response_due_at",
    "severity": _SEVERITY_RANK, "status": "i.status", "title": "i.title COLLATE NOCASE",
    "site": "s.name COLLATE NOCASE", "category": "i.category", "updated": "i.updated_at",
}


@dataclass(frozen=True)
class IncidentFilter:
    statuses: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    site_id: int | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    text: str = ""
    open_only: bool = False


def _fts_phrase(word: str) -> str:
    """A quoted FTS5 prefix query; '' when the word has no letters or digits to search for."""
    if not any(ch.isalnum() for ch in word):
        return ""
    return '"' + word.replace('"', '""') + '"*'


def _where(flt: IncidentFilter) -> tuple[str, list]:
    clauses, params = [], []
    statuses = set(flt.statuses)
    if flt.open_only:
        statuses = (statuses or set(OPEN_STATUSES)) & OPEN_STATUSES
    if statuses or flt.open_only:
        clauses.append(f"+i.status IN ({','.join('?' * len(statuses)) or 'NULL'})")
        params += sorted(statuses)
    if flt.severities:
        clauses.append(f"+i.severity IN ({','.join('?' * len(flt.severities))})")
        params += list(flt.severities)
    if flt.site_id is not None:
        clauses.append("i.site_id = ?")
        params.append(flt.site_id)
    for bound, op in ((flt.reported_from, ">="), (flt.reported_to, "<")):
        if bound is not None:
            clauses.append(f"i.reported_at {op} ?")
            params.append(_sql_time(bound))
    words = [w for w in (_fts_phrase(word) for word in flt.text.split()) if w]
    if words:
        # Every word (as a prefix) must appear in the incident or somewhere in its timeline.
        clauses.append("i.id IN (SELECT rowid FROM incident_fts WHERE incident_fts MATCH ?)")
        params.append(" AND ".join(words))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _sql_time(value: datetime) -> str:
    # The format SQLAlchemy writes DateTime columns in, so string comparison orders correctly.
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def incident_ids(db: Database, flt: IncidentFilter = IncidentFilter(), *,
                 sort: str = "reported", descending: bool = True) -> list[int]:
    """Every matching id in display order: cheap enough for 100,000 rows, fetched lazily after."""
    where, params = _where(flt)
    order = SORTS.get(sort, SORTS["reported"])
    direction = "DESC" if descending else "ASC"
    join = " LEFT JOIN site s ON s.id = i.site_id" if sort == "site" else ""
    sql = f"SELECT i.id FROM incident i{join}{where} ORDER BY {order} {direction}, i.id {direction}"
    # The raw DB-API cursor: SQLAlchemy's per-row result processing costs more than the query.
    with db.engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            return [row[0] for row in cursor.execute(sql, tuple(params))]
        finally:
            cursor.close()


def change_marker(db: Database) -> tuple:
    """A value that changes whenever an incident, a timeline, a site or a visit does: every such
    change is audited, so the newest audit entry is enough (rowid look-ups, no table scan). It
    lets a view that hears "the database changed" skip re-reading 100,000 ids when the change
    was elsewhere (an echo, the outbox)."""
    with db.engine.connect() as connection:
        return tuple(connection.exec_driver_sql(
            "SELECT (SELECT max(id) FROM audit_log), (SELECT max(id) FROM timeline_entry), "
            "(SELECT max(id) FROM incident)").one())


def count_incidents(db: Database, flt: IncidentFilter = IncidentFilter()) -> int:
    where, params = _where(flt)
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT count(*) FROM incident i{where}",
                                          tuple(params)).scalar() or 0


_COLUMNS = ("i.id, i.uuid, i.title, i.description, i.severity, i.category, i.status, "
            "i.hold_reason, i.site_id, s.name, i.reporter, i.contact, i.created_by, "
            "i.reported_at, i.acknowledged_at, i.resolved_at, i.closed_at, i.response_due_at, "
            "i.clock_offset_s, i.device_utc_offset_min, i.source_test_run_id, i.created_at, "
            "i.updated_at")
_TIME_FIELDS = (13, 14, 15, 16, 17, 21, 22)


def _parse_time(value):
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def incidents_by_id(db: Database, ids: Sequence[int]) -> list[IncidentRecord]:
    """Records for the given ids, in the given order (a page of the list view)."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    by_id: dict[int, IncidentRecord] = {}
    with db.engine.connect() as connection:
        cursor = connection.connection.cursor()
        try:
            labels: dict[int, list] = {}
            for incident_id, node_id, label in cursor.execute(
                    f"SELECT incident_id, node_id, node_label FROM incident_node "
                    f"WHERE incident_id IN ({marks}) ORDER BY id", tuple(ids)):
                labels.setdefault(incident_id, []).append((node_id, label))
            rows = cursor.execute(f"SELECT {_COLUMNS} FROM incident i LEFT JOIN site s ON "
                                  f"s.id = i.site_id WHERE i.id IN ({marks})", tuple(ids)).fetchall()
        finally:
            cursor.close()
    for row in rows:
        values = list(row)
        for index in _TIME_FIELDS:
            values[index] = _parse_time(values[index])
        values[9] = values[9] or ""
        values.insert(10, tuple(labels.get(values[0], ())))
        by_id[values[0]] = IncidentRecord(*values)
    return [by_id[i] for i in ids if i in by_id]


def list_incidents(db: Database, flt: IncidentFilter = IncidentFilter(), *,
                   sort: str = "reported", descending: bool = True,
                   limit: int | None = None) -> list[IncidentRecord]:
    ids = incident_ids(db, flt, sort=sort, descending=descending)
    return incidents_by_id(db, ids[:limit] if limit else ids)


CSV_COLUMNS = ("id", "uuid", "title", "severity", "category", "status", "hold_reason", "site",
               "nodes", "reporter", "contact", "reported_at", "response_due_at", "sla_state",
               "acknowledged_at", "response_minutes", "resolved_at", "resolution_minutes",
               "closed_at", "description")


def _csv_row(record: IncidentRecord, now: datetime) -> list:
    sla = record.sla(now)

    def iso(value):
        return value.isoformat() if value else ""

    def minutes(delta):
        return f"{delta.total_seconds() / 60:.1f}" if delta is not None else ""

    return [record.id, record.uuid, record.title, record.severity, record.category,
            record.status, record.hold_reason, record.site_name,
            "; ".join(label for _, label in record.nodes), record.reporter, record.contact,
            iso(record.reported_at), iso(record.response_due_at), sla.state,
            iso(record.acknowledged_at), minutes(sla.response), iso(record.resolved_at),
            minutes(record.resolution_time), iso(record.closed_at), record.description]


def export_incidents(db: Database, fmt: str, flt: IncidentFilter = IncidentFilter(), *,
                     actor: str = "", destination: str = "",
                     now: datetime | None = None) -> str:
    """The filtered list as CSV or JSON text; the export itself is recorded in the audit log."""
    now = now or datetime.now(UTC)
    records = list_incidents(db, flt, sort="reported", descending=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for record in records:
            writer.writerow(safe_row(_csv_row(record, now)))
        text = buffer.getvalue()
    elif fmt == "json":
        text = json.dumps({"exported_at": now.isoformat(),
                           "incidents": [r.to_dict(now) for r in records]}, indent=2)
    else:
        from pacs_console.core.incidents.model import invalid

        raise invalid("export-format", f"Unknown export format {fmt!r}", "Use csv or json")
    with audit.audited_session(db) as session:
        audit.record(session, actor=actor, action="export", entity="export",
                     after=hashlib.sha256(text.encode()).hexdigest(),
                     detail={"format": fmt, "count": len(records), "destination": destination,
                             "filter": {k: str(v) for k, v in flt.__dict__.items() if v}})
    return text
