"""Test runs as evidence: save every echo, query, retrieve, store and probe (patient data
redacted as they are saved); list and fetch them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import TestRun, utcnow
from pacs_console.core.phi import redact_json


@dataclass(frozen=True)
class TestRunRecord:
    __test__ = False

    id: int
    uuid: str
    node_id: int | None
    node_label: str
    kind: str
    parameters: dict[str, Any]
    started_at: datetime
    duration_ms: float
    outcome: str
    summary: str
    metrics: dict[str, Any] = field(default_factory=dict)
    diagnosis: dict[str, Any] | None = None
    association: dict[str, Any] | None = None


def _record(run: TestRun) -> TestRunRecord:
    return TestRunRecord(run.id or 0, run.uuid, run.node_id, run.node_label, run.kind,
                         dict(run.parameters or {}), run.started_at, run.duration_ms, run.outcome,
                         run.summary, dict(run.metrics or {}), run.diagnosis, run.association)


def save_test_run(db: Database, *, kind: str, outcome: str, node_id: int | None = None,
                  node_label: str = "", parameters: dict | None = None,
                  started_at: datetime | None = None, duration_ms: float = 0.0, summary: str = "",
                  metrics: dict | None = None, diagnosis: dict | None = None,
                  association: dict | None = None) -> TestRunRecord:
    # Evidence is kept for months and synced to the helpdesk: patient data never goes in.
    parameters, metrics, diagnosis, association, summary = redact_json(
        [parameters or {}, metrics or {}, diagnosis, association, summary])
    with db.session() as session:
        run = TestRun(kind=kind, outcome=outcome, node_id=node_id, node_label=node_label,
                      parameters=parameters, started_at=started_at or utcnow(),
                      duration_ms=duration_ms, summary=summary, metrics=metrics,
                      diagnosis=diagnosis, association=association)
        session.add(run)
        session.flush()
        return _record(run)


def list_test_runs(db: Database, *, node_id: int | None = None, kind: str | None = None,
                   limit: int = 200) -> list[TestRunRecord]:
    with db.session() as session:
        query = select(TestRun).order_by(col(TestRun.started_at).desc(), col(TestRun.id).desc())
        if node_id is not None:
            query = query.where(TestRun.node_id == node_id)
        if kind is not None:
            query = query.where(TestRun.kind == kind)
        return [_record(r) for r in session.exec(query.limit(limit))]


def get_test_run(db: Database, run_id: int | str) -> TestRunRecord | None:
    with db.session() as session:
        if isinstance(run_id, str) and not run_id.isdigit():
            run = session.exec(select(TestRun).where(TestRun.uuid == run_id)).first()
        else:
            run = session.get(TestRun, int(run_id))
        return _record(run) if run else None


def run_recorded(db: Database, node_id: int | None, operation):
    """Drive an operation generator, pass its progress through, save its result as evidence.

    Returns ``(result, TestRunRecord)``. A plain (non-generator) result works too. If the
    generator is closed early (cancel), nothing is saved: a cancelled run proves nothing.
    """
    if hasattr(operation, "__next__"):
        result = yield from operation
    else:
        result = operation
    run = None
    if result is not None and hasattr(result, "evidence"):
        run = save_test_run(db, node_id=node_id, **result.evidence())
    return result, run
