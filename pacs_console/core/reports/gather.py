"""Gather one visit's report data from the database, settings and this laptop (pure data out)."""

from __future__ import annotations

import platform
import socket
import uuid
from datetime import UTC, datetime, timedelta

from pacs_console import __version__
from pacs_console.core.db.engine import Database
from pacs_console.core.incidents.model import IncidentRecord, TimelineRecord, VisitRecord, invalid
from pacs_console.core.reports.model import (
    ArchiveCheckItem,
    CapabilityMatrixItem,
    CapabilityRow,
    DrCompareItem,
    Extras,
    HealthItem,
    IncidentItem,
    InventoryItem,
    LaptopInfo,
    NodeItem,
    TestRunItem,
    VisitReport,
)
from pacs_console.core.settings import Settings

_CAUSE_PREFIXES = ("root cause:", "cause:")
_RESOLUTION_PREFIXES = ("resolution:", "resolved:", "fix:", "fixed:")
LATENCY_KINDS = ("echo", "echo-series")
THROUGHPUT_KINDS = ("store", "move", "get")
# Short names for the transfer syntaxes a capability probe proposes; unknown ones print as UIDs.
SYNTAX_NAMES = {
    "1.2.840.10008.1.2": "Implicit", "1.2.840.10008.1.2.1": "Explicit",
    "1.2.840.10008.1.2.4.50": "JPEG", "1.2.840.10008.1.2.4.70": "JPEG-LL",
    "1.2.840.10008.1.2.4.80": "JPEG-LS", "1.2.840.10008.1.2.4.90": "J2K-LL",
    "1.2.840.10008.1.2.4.91": "J2K", "1.2.840.10008.1.2.5": "RLE",
}


def find_visit(db: Database, visit_id: int) -> VisitRecord:
    from pacs_console.core.incidents.sites import list_visits

    for visit in list_visits(db):
        if visit.id == int(visit_id):
            return visit
    raise invalid("visit-unknown", f"No visit {visit_id}",
                  "List visits with `pacs-console visit list`", visit=str(visit_id))


def _notes(entries: list[TimelineRecord]) -> tuple[str, str]:
    """Root cause and resolution as the engineer wrote them in the incident's timeline."""
    cause, resolution = [], []
    for entry in entries:
        text = entry.text.strip()
        lower = text.lower()
        if entry.kind == "note":
            for prefix in _CAUSE_PREFIXES:
                if lower.startswith(prefix):
                    cause.append(text[len(prefix):].strip())
            for prefix in _RESOLUTION_PREFIXES:
                if lower.startswith(prefix):
                    resolution.append(text[len(prefix):].strip())
        elif entry.kind == "status" and entry.to_status in ("resolved", "closed") and "\n" in text:
            resolution.append(text.split("\n", 1)[1].strip())
    return "\n".join(cause), "\n".join(dict.fromkeys(resolution))


def incident_item(record: IncidentRecord, entries: list[TimelineRecord], extras: Extras,
                  now: datetime) -> IncidentItem:
    sla = record.sla(now)
    cause, resolution = _notes(entries)
    override = extras.incident_notes.get(str(record.id), {})
    return IncidentItem(
        record.id, record.uuid, record.title, record.severity, record.category, record.status,
        tuple(label for _, label in record.nodes), record.reported_at, record.response_due_at,
        record.acknowledged_at, record.resolved_at, sla.state,
        round(sla.response.total_seconds() / 60, 1) if sla.response else None,
        override.get("root_cause") or cause, override.get("resolution") or resolution,
        record.description)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def test_run_item(run) -> TestRunItem:
    """Latency and throughput out of a run's recorded metrics, whatever its kind saved."""
    m = run.metrics or {}
    latency = p95 = None
    series: tuple[float, ...] = ()
    if run.kind == "echo-series":
        trip = m.get("round_trip_ms") or m.get("total_ms") or {}
        latency, p95 = _number(trip.get("median")), _number(trip.get("p95"))
    elif run.kind == "echo":
        latency = _number(m.get("total_ms")) or _number(m.get("echo_ms"))
    for key in ("series_ms", "samples_ms", "round_trip_series_ms"):
        if isinstance(m.get(key), list):
            series = tuple(float(v) for v in m[key] if _number(v) is not None)
            break
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    return TestRunItem(run.id, run.kind, run.node_label, started, run.outcome, run.summary,
                       float(run.duration_ms or 0), latency, p95, series,
                       _number(m.get("mb_per_s")), _number(m.get("images_per_s")))


def health_item(run) -> HealthItem:
    m = run.metrics or {}
    rows = tuple((str(c.get("node", "")), str(c.get("check", "")), str(c.get("result", "")),
                  str(c.get("summary", ""))) for c in m.get("checks", [])
                 if c.get("result") != "skipped")
    changes = tuple(f"{c.get('node')} {c.get('check')}: {c.get('text')}"
                    for c in m.get("changes", []))
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    site = str((run.parameters or {}).get("site", ""))
    if run.kind == "health-validation":  # the post-upgrade validation report
        site += f", post-upgrade validation against baseline {run.parameters.get('baseline')!r}"
    return HealthItem(site, started, str(m.get("verdict", run.outcome)), rows, changes)


def _started(run) -> datetime:
    return run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)


def _count(value) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def archive_check_item(run) -> ArchiveCheckItem:
    m, params = run.metrics or {}, run.parameters or {}
    findings = tuple((str(f.get("result", "")), str(f.get("study_uid", "")),
                      f"{f.get('year') or '????'} {f.get('modality') or '?'}", str(f.get("text", "")))
                     for f in m.get("findings", []) if isinstance(f, dict))
    result = str(m.get("result") or {"ok": "pass", "warning": "warn"}.get(run.outcome, "fail"))
    return ArchiveCheckItem(str(params.get("node") or run.node_label), _started(run), result,
                            run.summary, _count(m.get("sampled")), _count(m.get("population")),
                            str(params.get("since") or ""), findings)


def dr_compare_item(run) -> DrCompareItem:
    from pacs_console.core.health.dr import finding_rows

    m, params = run.metrics or {}, run.parameters or {}
    primary, _, dr = run.node_label.partition(" vs ")
    lists = {key: [v for v in m.get(key, []) if isinstance(v, str | dict)]
             for key in ("only_on_primary", "only_on_dr", "count_mismatches")}
    try:
        rows = tuple(finding_rows(lists))
    except (KeyError, TypeError):  # evidence from another version: counts only
        rows = ()
    gap = m.get("replication_gap_hours")
    return DrCompareItem(
        str(params.get("primary") or primary), str(params.get("dr") or dr), _started(run),
        str(m.get("result") or "fail"), str(m.get("from", "")), str(m.get("to", "")),
        _count(m.get("primary_studies")), _count(m.get("dr_studies")),
        _count(m.get("only_on_primary_count", len(lists["only_on_primary"]))),
        _count(m.get("only_on_dr_count", len(lists["only_on_dr"]))),
        _count(m.get("count_mismatches_count", len(lists["count_mismatches"]))),
        float(gap) if isinstance(gap, int | float) and gap == gap else None, rows)


HEALTH_KINDS = ("health", "health-validation")
SECTION_KINDS = {*HEALTH_KINDS, "archive-check", "archive-compare"}  # their own sections


def capability_item(node) -> CapabilityMatrixItem | None:
    entries = (node.capabilities or {}).get("entries") or {}
    rows = []
    for uid, entry in entries.items():
        syntaxes = entry.get("transfer_syntaxes") or []
        if not syntaxes:
            continue
        rows.append(CapabilityRow(entry.get("name") or uid, entry.get("service", ""),
                                  ", ".join(SYNTAX_NAMES.get(s, s) for s in syntaxes),
                                  entry.get("role", "")))
    if not rows:
        return None
    rows.sort(key=lambda r: (r.service != "verification", r.service, r.sop_class))
    probed = node.capabilities_at
    if probed is not None and probed.tzinfo is None:
        probed = probed.replace(tzinfo=UTC)
    return CapabilityMatrixItem(node.name, probed, tuple(rows))


def laptop_info(data_dir=None) -> LaptopInfo:
    """This laptop at the time of the visit: interfaces and addresses, free disk."""
    from pacs_console.core import sysinfo

    try:
        faces = tuple(i.label() + (f" [{i.mac}]" if i.mac else "") for i in sysinfo.interfaces())
    except Exception:  # noqa: BLE001 - a report without interfaces beats no report
        faces = ()
    free = None
    if data_dir is not None:
        try:
            free = round(sysinfo.disk_free(data_dir) / 1e9, 1)
        except OSError:
            free = None
    return LaptopInfo(socket.gethostname(), f"{platform.system()} {platform.release()} "
                      f"({platform.machine()}), Python {platform.python_version()}",
                      __version__, faces, free, datetime.now(UTC))


def _inventory(db: Database, site_id: int) -> InventoryItem:
    from pacs_console.core.db.sweeps import (
        list_sweeps,
        since_last_visit,
        site_inventory_diff,
        sweep_findings,
    )

    sweeps = list_sweeps(db, site_id, limit=1)
    if not sweeps:
        return InventoryItem()
    findings = tuple(
        f"{f.host}:{f.port}  {f.verdict}" + (f"  {f.ae_title}" if f.ae_title else "")
        + (f"  {f.vendor} {f.product} {f.version}".rstrip() if f.vendor or f.product else "")
        for f in sweep_findings(db, sweeps[0].id))
    # against the inventory at the previous visit; with none recorded, the previous sweep
    change = since_last_visit(db, site_id)[0] or site_inventory_diff(db, site_id)
    return InventoryItem(sweeps[0].started_at, findings,
                         tuple(c.text for c in change.changes) if change else None,
                         change.unchanged if change else 0)


def gather(db: Database, settings: Settings, visit_id: int, extras: Extras | None = None, *,
           data_dir=None, now: datetime | None = None,
           laptop: LaptopInfo | None = None) -> VisitReport:
    """Everything the report prints about one visit, as plain frozen data."""
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.db.testruns import list_test_runs
    from pacs_console.core.incidents.queries import incidents_by_id
    from pacs_console.core.incidents.service import timeline
    from pacs_console.core.incidents.sites import get_site

    extras = extras or Extras()
    now = now or datetime.now(UTC)
    visit = find_visit(db, visit_id)
    site = get_site(db, visit.site_id)
    incidents = tuple(incident_item(r, timeline(db, r.id), extras, now)
                      for r in incidents_by_id(db, list(visit.incident_ids)))
    site_nodes = [n for n in list_nodes(db) if n.site_id == site.id]
    # The laptop was on site between arrival and departure: every run in that window counts,
    # and so does any run attached to one of the visit's incidents.
    until = visit.departed_at or now
    start = visit.arrived_at - timedelta(minutes=1)
    evidence = _incident_runs(db, visit)
    runs = [r for r in list_test_runs(db, limit=5000)
            if start <= (r.started_at if r.started_at.tzinfo else
                         r.started_at.replace(tzinfo=UTC)) <= until or r.id in evidence]
    runs.sort(key=lambda r: (r.started_at.replace(tzinfo=None), r.id))
    capabilities = tuple(c for c in (capability_item(n) for n in site_nodes) if c)
    details = {k: v for k, v in (("region", site.region), ("facility", site.facility_type),
                                 ("address", site.address), ("contacts", site.contacts)) if v}
    number = ""
    if data_dir is not None:
        from pacs_console.core.reports.store import next_report_number

        number = next_report_number(data_dir, site.name, now)
    return VisitReport(
        report_id=str(uuid.uuid4()), generated_at=now, report_number=number,
        organisation=settings.profile.organisation,
        organisation_details=str(settings.extra.get("organisation_details", "")),
        # The profile names the engineer who signs; a visit opened before the profile was set
        # may carry only a login name.
        engineer=settings.profile.name or visit.engineer, engineer_id=settings.engineer_id,
        site=site.name, site_details=details, visit_id=visit.id, visit_uuid=visit.uuid,
        purpose=visit.purpose, visit_notes=visit.notes, arrived_at=visit.arrived_at,
        departed_at=visit.departed_at, incidents=incidents,
        test_runs=tuple(test_run_item(r) for r in runs if r.kind not in SECTION_KINDS),
        health=tuple(health_item(r) for r in runs if r.kind in HEALTH_KINDS),
        archive_checks=tuple(archive_check_item(r) for r in runs if r.kind == "archive-check"),
        dr_compares=tuple(dr_compare_item(r) for r in runs if r.kind == "archive-compare"),
        audit_head=_audit_head(db),
        nodes=tuple(NodeItem(n.name, n.ae_title, n.host, n.port, n.tags) for n in site_nodes),
        inventory=_inventory(db, site.id), capabilities=capabilities,
        laptop=laptop or laptop_info(data_dir), extras=extras)


def _audit_head(db: Database) -> dict | None:
    from pacs_console.core.incidents.audit import head

    return head(db)


def _incident_runs(db: Database, visit: VisitRecord) -> set[int]:
    from pacs_console.core.incidents.service import timeline

    ids: set[int] = set()
    for incident_id in visit.incident_ids:
        ids.update(e.test_run_id for e in timeline(db, incident_id) if e.test_run_id)
    return ids
