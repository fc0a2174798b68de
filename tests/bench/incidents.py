"""Incident log at 100,000 incidents with timelines: text search, opening the panel, scrolling."""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.bench.qt_loop import pump
from tests.bench.runner import Case

N_INCIDENTS = 100_000
SEED_VERSION = "v4"
CACHE = Path(__file__).resolve().parents[2] / ".bench" / f"incidents-{N_INCIDENTS}-{SEED_VERSION}"
WORDS = ("archive", "worklist", "timeout", "refused", "association", "rejected", "router",
         "switch", "viewer", "slow", "retrieval", "storage", "full", "disk", "modality", "CT",
         "MR", "ultrasound", "HL7", "RIS", "EMR", "interface", "certificate", "expired", "UPS",
         "power", "cut", "firmware", "restart", "listener", "port", "firewall", "DNS", "VLAN",
         "cable", "printer", "mammography", "backup", "failed", "license", "database", "lock")
# Free text also names devices, hosts and error codes: a long tail, Zipf-distributed.
VOCABULARY = [f"{a}{n}" for n in range(750) for a in ("CT_", "host", "err", "ward")]
ZIPF = [1 / (rank + 1) for rank in range(len(VOCABULARY))]
STATUSES = ("new", "acknowledged", "analysing", "planning", "executing", "verifying", "resolved",
            "closed", "on_hold")
SEARCH = "certificate expired"
_state: dict = {}


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _seed(path: Path) -> None:
    """Bulk rows shaped exactly like the service writes them (the triggers fill the FTS index)."""
    from pacs_console.core.db.engine import Database
    from pacs_console.core.incidents.sla import BusinessCalendar, response_due

    Database(path).close()
    rng = random.Random(6)
    calendar = BusinessCalendar()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executemany("INSERT INTO site (id, name, region, facility_type, notes, created_at, "
                    "address, contacts, timezone, holiday_country) VALUES "
                    "(?, ?, '', '', '', ?, '', '', 'Africa/Accra', 'GH')",
                    [(n, f"Site {n}", _ts(datetime.now(UTC))) for n in range(1, 41)])
    start = datetime(2023, 1, 1, tzinfo=UTC)
    incidents, entries = [], []
    for n in range(1, N_INCIDENTS + 1):
        reported = start + timedelta(minutes=n * 9 + rng.randrange(9))
        severity = rng.choice(("critical", "high", "medium", "low"))
        status = rng.choice(STATUSES)
        title = " ".join(rng.sample(WORDS, 4)).capitalize()
        description = " ".join(rng.sample(WORDS, 3) + rng.choices(VOCABULARY, ZIPF, k=20))
        ack = _ts(reported + timedelta(minutes=rng.randrange(5, 300))) if status != "new" else None
        incidents.append((n, str(uuid.UUID(int=rng.getrandbits(128))), title, description,
                          severity, status, rng.randrange(1, 41), _ts(reported), ack,
                          _ts(response_due(calendar, severity, reported)), _ts(reported),
                          _ts(reported)))
        entries.append((n, _ts(reported), "created", f"Reported: {title}"))
        entries.append((n, _ts(reported + timedelta(minutes=30)), "note",
                        " ".join(rng.sample(WORDS, 2) + rng.choices(VOCABULARY, ZIPF, k=10))))
        entries.append((n, _ts(reported + timedelta(minutes=45)), "status", "New → Acknowledged"))
    con.executemany("INSERT INTO incident (id, uuid, title, description, severity, category, "
                    "status, site_id, reported_at, acknowledged_at, response_due_at, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, 'other', ?, ?, ?, ?, ?, ?, ?)", incidents)
    con.executemany("INSERT INTO timeline_entry (incident_id, at, kind, text) VALUES (?, ?, ?, ?)",
                    entries)
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _setup() -> None:
    if "ctx" in _state:
        return
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths

    source = CACHE / "pacs-console.sqlite3"
    if not source.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        _seed(source.with_suffix(".tmp"))
        source.with_suffix(".tmp").rename(source)
        print(f"seeded {N_INCIDENTS:,} incidents in {time.perf_counter() - began:.0f} s")
    paths = app_paths(tempfile.mkdtemp(prefix="pacs-bench-incidents-")).ensure()
    shutil.copy(source, paths.database)
    ctx = Context.open(paths)
    ctx.db  # noqa: B018 - open (and migrate) outside the timed runs
    _state["ctx"] = ctx


def _teardown() -> None:
    window = _state.pop("panel", None)
    if window is not None:
        window.close()


def _search() -> dict[str, float]:
    from pacs_console.core.incidents.queries import IncidentFilter, incident_ids, incidents_by_id

    db = _state["ctx"].db
    flt = IncidentFilter(text=SEARCH, open_only=True, severities=("high", "critical"))
    began = time.perf_counter()
    ids = incident_ids(db, flt)
    incidents_by_id(db, ids[:100])
    ours = time.perf_counter() - began
    # The same question answered by a plain LIKE scan over titles, descriptions and timeline
    # text, as a straightforward SQLite implementation would, in the same run.
    words = SEARCH.split()
    clause = " AND ".join(
        "(i.title LIKE ? OR i.description LIKE ? OR EXISTS (SELECT 1 FROM timeline_entry t "
        "WHERE t.incident_id = i.id AND t.text LIKE ?))" for _ in words)
    params = [f"%{w}%" for w in words for _ in range(3)]
    began = time.perf_counter()
    with db.engine.connect() as connection:
        like = [r[0] for r in connection.exec_driver_sql(
            f"SELECT i.id FROM incident i WHERE i.status NOT IN ('resolved', 'closed') AND "
            f"i.severity IN ('high', 'critical') AND {clause} ORDER BY i.reported_at DESC",
            tuple(params))]
    peer = time.perf_counter() - began
    if sorted(like) != sorted(ids):
        raise RuntimeError(f"FTS and LIKE disagree: {len(ids)} vs {len(like)} matches")
    return {"search_ms": ours * 1000, "like_scan_ms": peer * 1000, "matches": float(len(ids))}


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _open_panel() -> dict[str, float]:
    from pacs_console.ui.panels.incidents import IncidentsPanel

    _app()
    old = _state.pop("panel", None)
    if old is not None:
        old.close()
        old.deleteLater()
        pump()
    began = time.perf_counter()
    panel = IncidentsPanel(_state["ctx"])
    panel.status_filter.setCurrentIndex(panel.status_filter.findData(""))  # all 100,000
    panel.resize(1100, 700)
    panel.show()
    while panel.model.rowCount() == 0:
        pump()
        time.sleep(0.0005)
    panel.table.viewport().repaint()
    elapsed = time.perf_counter() - began
    _state["panel"] = panel
    return {"open_ms": elapsed * 1000, "rows": float(panel.model.rowCount())}


def _scroll() -> dict[str, float]:
    _app()
    if "panel" not in _state:
        _open_panel()
    panel = _state["panel"]
    bar = panel.table.verticalScrollBar()
    rng = random.Random(1)
    worst, steps = 0.0, 0
    positions = [bar.maximum() * k // 200 for k in range(200)] + \
                [rng.randrange(bar.maximum()) for _ in range(100)]
    for position in positions:
        began = time.perf_counter()
        bar.setValue(position)
        panel.table.viewport().repaint()
        pump()
        worst = max(worst, time.perf_counter() - began)
        steps += 1
    return {"max_stall_ms": worst * 1000, "steps": float(steps)}


def cases() -> list[Case]:
    return [
        Case("incidents: filtered text search over 100,000 with timelines", _search, "search_ms",
             target=50.0, unit="ms", peer_metric="like_scan_ms",
             peer_name="plain SQLite LIKE scan", setup=_setup),
        Case("incidents: open the panel on 100,000", _open_panel, "open_ms", target=300.0,
             unit="ms", setup=_setup),
        Case("incidents: scroll 100,000 (longest GUI stall)", _scroll, "max_stall_ms",
             target=50.0, unit="ms", setup=_setup, teardown=_teardown),
    ]
