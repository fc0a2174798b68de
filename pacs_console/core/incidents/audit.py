"""Append-only, hash-chained audit log: record every change in its transaction, verify the chain."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import AuditLog

GENESIS = "0" * 64
_HASHED = "id, at, actor, action, entity, entity_id, before_digest, after_digest, detail"
# Entities whose current rows must match the last digest the log recorded for them.
ENTITY_TABLES = {"incident": "incident", "timeline": "timeline_entry",
                 "attachment": "attachment", "site": "site", "visit": "visit",
                 "maintenance": "maintenance_window"}
# Sites are also created by other parts of the console (discovery, imports) without auditing.
_UNAUDITED_ALLOWED = {"site"}


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()


def _hash(prev: str, raw: tuple) -> str:
    return hashlib.sha256(prev.encode() + canonical(list(raw))).hexdigest()


def _incident_links(connection, incident_id: int | None = None) -> dict[int, dict]:
    where = "" if incident_id is None else " WHERE incident_id = ?"
    params = () if incident_id is None else (incident_id,)
    links: dict[int, dict] = {}
    for iid, node_id, label in connection.exec_driver_sql(
            f"SELECT incident_id, node_id, node_label FROM incident_node{where} ORDER BY id",
            params):
        links.setdefault(iid, {"nodes": [], "visits": []})["nodes"].append([node_id, label])
    for visit_id, iid in connection.exec_driver_sql(
            f"SELECT visit_id, incident_id FROM visit_incident{where} ORDER BY visit_id", params):
        links.setdefault(iid, {"nodes": [], "visits": []})["visits"].append(visit_id)
    return links


def _digest_row(columns, row, extra: dict | None) -> str:
    state = dict(zip(columns, row, strict=True))
    if extra:
        state["_links"] = extra
    return hashlib.sha256(canonical(state)).hexdigest()


def state_digest(session: Session, entity: str, entity_id: int) -> str:
    """Digest of a row as stored (after flush); '' when it does not exist."""
    connection = session.connection()
    result = connection.exec_driver_sql(
        f"SELECT * FROM {ENTITY_TABLES[entity]} WHERE id = ?", (entity_id,))
    row = result.first()
    if row is None:
        return ""
    extra = _incident_links(connection, entity_id).get(entity_id) if entity == "incident" else None
    return _digest_row(list(result.keys()), tuple(row), extra)


def record(session: Session, *, actor: str, action: str, entity: str, entity_id="",
           before: str = "", after: str = "", detail: dict | None = None) -> tuple[int, str]:
    """Append one entry in the caller's transaction; returns (id, hash).

    The row is inserted first so this transaction holds SQLite's write lock before reading the
    previous hash: two writers can never chain onto the same predecessor.
    """
    row = AuditLog(actor=actor, action=action, entity=entity, entity_id=str(entity_id),
                   before_digest=before, after_digest=after,
                   detail=json.dumps(detail or {}, sort_keys=True, default=str))
    session.add(row)
    session.flush()
    connection = session.connection()
    prev = connection.exec_driver_sql(
        "SELECT hash FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT 1", (row.id,)).scalar()
    raw = connection.exec_driver_sql(f"SELECT {_HASHED} FROM audit_log WHERE id = ?",
                                     (row.id,)).first()
    digest = _hash(prev or GENESIS, tuple(raw))
    connection.exec_driver_sql("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                               (prev or GENESIS, digest, row.id))
    session.info["audit_head"] = (row.id, digest)
    return row.id, digest


def anchor_path(db: Database) -> Path:
    return db.path.with_name(db.path.name + ".audit-head")


def _read_anchor(db: Database) -> dict | None:
    try:
        return json.loads(anchor_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_anchor(db: Database, head: tuple[int, str]) -> None:
    # Kept beside the database so deleting the newest log rows is noticed too. Written after the
    # commit: a crash in between leaves it one step behind, which verify accepts.
    current = _read_anchor(db)
    if current and int(current.get("id", 0)) >= head[0]:
        return
    path = anchor_path(db)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".audit-head-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"id": head[0], "hash": head[1]}, out)
    os.replace(temp, path)


@contextmanager
def audited_session(db: Database) -> Iterator[Session]:
    """A session whose audit entries commit with the change, then advance the anchor."""
    with db.session() as session:
        yield session
        head = session.info.get("audit_head")
    if head:
        _write_anchor(db, head)


@dataclass(frozen=True)
class AuditProblem:
    kind: str  # edited, chain-broken, truncated, changed-outside, deleted-outside, added-outside
    message: str
    audit_id: int | None = None
    entity: str = ""
    entity_id: str = ""


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checked_rows: int
    problems: tuple[AuditProblem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "checked_rows": self.checked_rows,
                "problems": [p.__dict__ for p in self.problems]}


def verify(db: Database) -> AuditReport:
    """Walk the chain, check the anchor, and compare every audited row with its last digest."""
    problems: list[AuditProblem] = []
    latest: dict[tuple[str, str], str] = {}
    with db.engine.connect() as connection:
        prev, last_id, count = GENESIS, 0, 0
        for row in connection.exec_driver_sql(
                f"SELECT {_HASHED}, prev_hash, hash FROM audit_log ORDER BY id"):
            count += 1
            raw, stored_prev, stored_hash = tuple(row[:9]), row[9], row[10]
            audit_id, entity, entity_id, after = raw[0], raw[4], raw[5], raw[7]
            if stored_prev != prev:
                problems.append(AuditProblem(
                    "chain-broken", f"Audit entry {audit_id} does not follow entry {last_id}: an "
                    "entry was deleted or inserted outside the app", audit_id, entity, entity_id))
            if _hash(stored_prev, raw) != stored_hash:
                problems.append(AuditProblem(
                    "edited", f"Audit entry {audit_id} was edited outside the app", audit_id,
                    entity, entity_id))
            prev, last_id = stored_hash, audit_id
            if entity in ENTITY_TABLES:
                known = latest.get((entity, entity_id))
                if known is not None and raw[6] != known:
                    # The app found a state it had not written: someone changed it in between.
                    problems.append(AuditProblem(
                        "changed-outside", f"{entity} {entity_id} was changed outside the app "
                        f"before audit entry {audit_id}", audit_id, entity, entity_id))
                latest[(entity, entity_id)] = after
        anchor = _read_anchor(db)
        if anchor:
            found = connection.exec_driver_sql("SELECT hash FROM audit_log WHERE id = ?",
                                               (int(anchor["id"]),)).scalar()
            if found != anchor.get("hash"):
                problems.append(AuditProblem(
                    "truncated", f"Audit entry {anchor['id']}, the newest one this console wrote, "
                    "is missing or altered: entries were removed outside the app",
                    int(anchor["id"])))
        checked = _check_states(connection, latest, problems)
    return AuditReport(count, checked, tuple(problems))


def _check_states(connection, latest: dict[tuple[str, str], str],
                  problems: list[AuditProblem]) -> int:
    checked = 0
    links = _incident_links(connection)
    for entity, table in ENTITY_TABLES.items():
        seen: set[str] = set()
        result = connection.exec_driver_sql(f"SELECT * FROM {table}")
        columns = list(result.keys())
        for row in result:
            checked += 1
            key = str(row[0])
            seen.add(key)
            extra = links.get(row[0]) if entity == "incident" else None
            digest = _digest_row(columns, tuple(row), extra)
            expected = latest.get((entity, key))
            if expected is None:
                if entity not in _UNAUDITED_ALLOWED:
                    problems.append(AuditProblem(
                        "added-outside", f"{entity} {key} exists but was never recorded by the "
                        "app", None, entity, key))
            elif expected != digest:
                problems.append(AuditProblem(
                    "changed-outside", f"{entity} {key} differs from its last recorded state",
                    None, entity, key))
        for (kind, key), expected in latest.items():
            if kind == entity and expected and key not in seen:
                problems.append(AuditProblem(
                    "deleted-outside", f"{entity} {key} was deleted outside the app", None,
                    entity, key))
    return checked
