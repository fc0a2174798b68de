"""Sweep queries: save a sweep with its findings, list a site's sweeps, diff the last two, and
the site's inventory now against what it was at the previous visit."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlmodel import col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import Node, Site, Sweep, SweepFinding
from pacs_console.core.discovery.inventory import InventoryDiff, diff
from pacs_console.core.discovery.models import Finding, SweepResult

_FINDING_FIELDS = [f.name for f in fields(Finding)]


@dataclass(frozen=True)
class SweepRecord:
    id: int
    uuid: str
    site_id: int | None
    site_name: str
    started_at: datetime
    duration_s: float
    targets: str
    ports: tuple[int, ...]
    hosts: int
    attempts: int
    engineer: str
    finding_count: int = 0
    options: dict | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _record(sweep: Sweep, site_name: str, count: int) -> SweepRecord:
    return SweepRecord(sweep.id or 0, sweep.uuid, sweep.site_id, site_name,
                       _aware(sweep.started_at), sweep.duration_s, sweep.targets,
                       tuple(sweep.ports or ()), sweep.hosts, sweep.attempts, sweep.engineer,
                       count, dict(sweep.options or {}))


def site_id_for(db: Database, site: int | str, *, create: bool = True,
                actor: str = "") -> int | None:
    """The id of a site given by id or name; a new name creates the site (audited)."""
    with db.session() as session:
        if isinstance(site, int) or str(site).isdigit():
            found = session.get(Site, int(site))
        else:
            found = session.exec(select(Site).where(Site.name == str(site))).first()
        if found is not None:
            return found.id
    if not create or isinstance(site, int) or str(site).isdigit():
        return None
    from pacs_console.core.incidents.sites import save_site

    return save_site(db, str(site), actor=actor).id


def save_sweep(db: Database, result: SweepResult, *, site_id: int | None = None,
               engineer: str = "") -> SweepRecord:
    opts = result.options
    options = {"web_ports": list(opts.web_ports), "rate": opts.rate,
               "concurrency": opts.concurrency, "timeout": opts.timeout,
               "guess_ae": opts.guess_ae, "dns_sd": opts.dns_sd,
               "announcements": [a.to_dict() for a in result.announcements]}
    with db.session() as session:
        sweep = Sweep(site_id=site_id, started_at=result.started_at,
                      duration_s=result.duration_s, targets=result.targets.text,
                      ports=list(opts.ports), options=options, hosts=len(result.targets),
                      attempts=result.attempts, engineer=engineer)
        session.add(sweep)
        session.flush()
        for finding in result.findings:
            session.add(SweepFinding(sweep_id=sweep.id,
                                     **{k: getattr(finding, k) for k in _FINDING_FIELDS}))
        site = session.get(Site, site_id) if site_id else None
        return _record(sweep, site.name if site else "", len(result.findings))


def list_sweeps(db: Database, site: int | str | None = None, *, limit: int = 50
                ) -> list[SweepRecord]:
    """Newest first; ``site`` None lists every sweep."""
    with db.session() as session:
        query = select(Sweep, Site).join(Site, isouter=True).order_by(
            col(Sweep.started_at).desc(), col(Sweep.id).desc()).limit(limit)
        if site is not None:
            site_id = site_id_for(db, site, create=False)
            if site_id is None:
                return []
            query = query.where(Sweep.site_id == site_id)
        rows = session.exec(query).all()
        records = []
        for sweep, site_row in rows:
            count = len(session.exec(select(SweepFinding.id)
                                     .where(SweepFinding.sweep_id == sweep.id)).all())
            records.append(_record(sweep, site_row.name if site_row else "", count))
        return records


def sweep_findings(db: Database, sweep_id: int) -> list[Finding]:
    with db.session() as session:
        rows = session.exec(select(SweepFinding).where(SweepFinding.sweep_id == sweep_id)
                            .order_by(SweepFinding.id)).all()
        return [Finding(**{k: getattr(r, k) for k in _FINDING_FIELDS}) for r in rows]


def site_inventory_diff(db: Database, site: int | str) -> InventoryDiff | None:
    """The last sweep of ``site`` against the one before; None with fewer than two sweeps.

    This is what visit reports show under "what changed since the last visit".
    """
    sweeps = list_sweeps(db, site, limit=2)
    if len(sweeps) < 2:
        return None
    latest, previous = sweeps
    result = diff(sweep_findings(db, previous.id), sweep_findings(db, latest.id))
    return InventoryDiff(result.changes, result.unchanged, result.before_count,
                         result.after_count,
                         {"before": {"id": previous.id, "started_at": previous.started_at.isoformat()},
                          "after": {"id": latest.id, "started_at": latest.started_at.isoformat()}})


def _visit(visit) -> dict:
    return {"id": visit.id, "engineer": visit.engineer,
            "arrived_at": visit.arrived_at.isoformat(),
            "departed_at": visit.departed_at.isoformat() if visit.departed_at else None}


def since_last_visit(db: Database, site: int | str) -> tuple[InventoryDiff | None, str]:
    """The site's latest sweep against its inventory at the previous visit: the last sweep made
    by the end of that visit (during it, else the last one before it began). The previous visit
    is the one before the visit the latest sweep belongs to (the open visit, else the one it
    was made during; a sweep outside any visit: the newest visit begun before it).

    ``(diff, "")``, or ``(None, why)`` in words when there is nothing to compare with."""
    from pacs_console.core.incidents.sites import list_visits

    site_id = site_id_for(db, site, create=False)
    sweeps = list_sweeps(db, site_id, limit=500) if site_id is not None else []
    if not sweeps:
        return None, "This site has no sweep yet."
    latest = sweeps[0]
    visits = list_visits(db, site=site_id)  # newest first
    current = next((v for v in visits if v.departed_at is None), None) or next(
        (v for v in visits if v.arrived_at <= latest.started_at <= v.departed_at), None)
    begun = current.arrived_at if current else latest.started_at
    previous = next((v for v in visits if v.arrived_at < begun
                     and (current is None or v.id != current.id)), None)
    if previous is None:
        return None, "No earlier visit is recorded at this site: nothing to compare yet."
    end = min(previous.departed_at or begun, begun)
    if latest.started_at <= end:
        return None, (f"No sweep since the visit of {previous.arrived_at:%Y-%m-%d}: sweep the "
                      "site to see what changed.")
    then = next((s for s in sweeps if s.started_at <= end and s.id != latest.id), None)
    if then is None:
        return None, (f"No sweep was made by the end of the visit of "
                      f"{previous.arrived_at:%Y-%m-%d} ({previous.engineer or 'no engineer'}): "
                      "nothing to compare with.")
    result = diff(sweep_findings(db, then.id), sweep_findings(db, latest.id))
    return InventoryDiff(result.changes, result.unchanged, result.before_count,
                         result.after_count, {
                             "before": {"id": then.id, "started_at": then.started_at.isoformat()},
                             "after": {"id": latest.id,
                                       "started_at": latest.started_at.isoformat()},
                             "visit": _visit(previous)}), ""


def visit_heading(changes: InventoryDiff) -> str:
    """'Since the visit of 2026-11-03 (Abena; sweep of 2026-11-03 09:12 UTC)'."""
    visit, before = changes.sweeps.get("visit") or {}, changes.sweeps.get("before") or {}
    return (f"Since the last visit, {str(visit.get('arrived_at', ''))[:10]} "
            f"({visit.get('engineer') or 'no engineer'}; its sweep of "
            f"{str(before.get('started_at', ''))[:16].replace('T', ' ')} UTC)")


def known_titles(db: Database, site: int | str | None = None
                 ) -> tuple[dict[tuple[str, int], tuple[str, str]], tuple[str, ...]]:
    """AE titles to try first: (host, port) -> (title, source) from the address book and the
    site's last sweep, and every title in the address book and the site's inventory."""
    known: dict[tuple[str, int], tuple[str, str]] = {}
    titles: dict[str, None] = {}
    if site is not None:
        sweeps = list_sweeps(db, site, limit=1)
        for finding in sweep_findings(db, sweeps[0].id) if sweeps else ():
            if finding.ae_title and finding.service == "dicom":
                known[(finding.host, finding.port)] = (finding.ae_title, "site-inventory")
                titles.setdefault(finding.ae_title, None)
    with db.session() as session:
        for node in session.exec(select(Node).order_by(Node.id)):
            known[(node.host, int(node.port))] = (node.ae_title, "address-book")
            titles.setdefault(node.ae_title, None)
    return known, tuple(titles)
