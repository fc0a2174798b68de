"""Sites with their business calendars, visits, and scheduled maintenance windows (all audited)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import MaintenanceWindow, Site, Visit, VisitIncident, utcnow
from pacs_console.core.incidents import audit
from pacs_console.core.incidents.model import SiteRecord, VisitRecord, aware, invalid
from pacs_console.core.incidents.sla import BusinessCalendar


def site_record(site: Site) -> SiteRecord:
    return SiteRecord(site.id or 0, site.name, site.region, site.facility_type, site.address,
                      site.contacts, site.timezone or "Africa/Accra",
                      dict(site.business_hours) if site.business_hours else None,
                      site.holiday_country if site.holiday_country is not None else "GH",
                      tuple(site.closed_days or ()), site.notes)


def find_site(session: Session, site: int | str) -> Site:
    if isinstance(site, int) or str(site).isdigit():
        found = session.get(Site, int(site))
    else:
        found = session.exec(select(Site).where(Site.name == site)).first()
    if found is None:
        raise invalid("site-unknown", f"No site {site!r}",
                      "List sites with `pacs-console site list` or add it with `site add`",
                      site=str(site))
    return found


def save_site(db: Database, name: str, *, actor: str = "", region: str | None = None,
              facility_type: str | None = None, address: str | None = None,
              contacts: str | None = None, timezone: str | None = None,
              business_hours: Mapping[str, str] | None = None,
              holiday_country: str | None = None, closed_days: Iterable[str] | None = None,
              notes: str | None = None) -> SiteRecord:
    """Create a site or update the fields given; the calendar is validated before saving."""
    if not name.strip():
        raise invalid("site-name", "A site needs a name", "Give the facility's usual name")
    with audit.audited_session(db) as session:
        site = session.exec(select(Site).where(Site.name == name)).first()
        before = audit.state_digest(session, "site", site.id) if site else ""
        if site is None:
            site = Site(name=name)
        for attr, value in (("region", region), ("facility_type", facility_type),
                            ("address", address), ("contacts", contacts),
                            ("timezone", timezone), ("holiday_country", holiday_country),
                            ("notes", notes)):
            if value is not None:
                setattr(site, attr, value)
        if business_hours is not None:
            site.business_hours = {**(site.business_hours or {}), **dict(business_hours)}
        if closed_days is not None:
            site.closed_days = sorted({*(site.closed_days or ()), *closed_days})
        calendar = BusinessCalendar.from_settings(site.timezone, site.business_hours,
                                                  site.holiday_country, site.closed_days or ())
        site.business_hours = calendar.hours_text()
        site.updated_at = utcnow()
        session.add(site)
        session.flush()
        audit.record(session, actor=actor, action="change" if before else "create",
                     entity="site", entity_id=site.id, before=before,
                     after=audit.state_digest(session, "site", site.id),
                     detail={"name": name})
        return site_record(site)


def list_sites(db: Database) -> list[SiteRecord]:
    with db.session() as session:
        return [site_record(s) for s in session.exec(select(Site).order_by(Site.name))]


def get_site(db: Database, site: int | str) -> SiteRecord:
    with db.session() as session:
        return site_record(find_site(session, site))


def _visit_record(session: Session, visit: Visit) -> VisitRecord:
    site = session.get(Site, visit.site_id)
    links = session.exec(select(VisitIncident.incident_id)
                         .where(VisitIncident.visit_id == visit.id)).all()
    return VisitRecord(visit.id or 0, visit.uuid, visit.site_id, site.name if site else "",
                       visit.engineer, visit.purpose, visit.notes, aware(visit.arrived_at),
                       aware(visit.departed_at), tuple(sorted(links)))


def start_visit(db: Database, site: int | str, *, engineer: str, purpose: str = "",
                arrived_at: datetime | None = None, actor: str = "") -> VisitRecord:
    with audit.audited_session(db) as session:
        found = find_site(session, site)
        visit = Visit(site_id=found.id, engineer=engineer, purpose=purpose,
                      arrived_at=arrived_at or utcnow())
        session.add(visit)
        session.flush()
        audit.record(session, actor=actor or engineer, action="create", entity="visit",
                     entity_id=visit.id, after=audit.state_digest(session, "visit", visit.id),
                     detail={"site": found.name})
        return _visit_record(session, visit)


def end_visit(db: Database, visit_id: int | None = None, *, departed_at: datetime | None = None,
              notes: str | None = None, actor: str = "") -> VisitRecord:
    """End the given visit, or the one still open when no id is given."""
    with audit.audited_session(db) as session:
        if visit_id is None:
            visit = session.exec(select(Visit).where(col(Visit.departed_at).is_(None))
                                 .order_by(col(Visit.arrived_at).desc())).first()
        else:
            visit = session.get(Visit, visit_id)
        if visit is None:
            raise invalid("visit-unknown", "No such visit is open",
                          "Start one with `pacs-console visit start --site S`")
        departed = departed_at or utcnow()
        if departed < aware(visit.arrived_at):
            raise invalid("visit-times", "Departure is before arrival",
                          "Check the time given and the laptop's clock",
                          arrived=aware(visit.arrived_at).isoformat())
        before = audit.state_digest(session, "visit", visit.id)
        visit.departed_at = departed
        if notes is not None:
            visit.notes = notes
        session.add(visit)
        session.flush()
        audit.record(session, actor=actor or visit.engineer, action="change", entity="visit",
                     entity_id=visit.id, before=before,
                     after=audit.state_digest(session, "visit", visit.id),
                     detail={"ended": departed.isoformat()})
        return _visit_record(session, visit)


def list_visits(db: Database, *, site: int | str | None = None,
                open_only: bool = False) -> list[VisitRecord]:
    with db.session() as session:
        query = select(Visit).order_by(col(Visit.arrived_at).desc())
        if site is not None:
            query = query.where(Visit.site_id == find_site(session, site).id)
        if open_only:
            query = query.where(col(Visit.departed_at).is_(None))
        return [_visit_record(session, v) for v in session.exec(query)]


def add_maintenance_window(db: Database, *, starts_at: datetime, ends_at: datetime,
                           node_id: int | None = None, site: int | str | None = None,
                           reason: str = "", actor: str = "") -> int:
    """Scheduled downtime the uptime figure excludes; for one node or a whole site."""
    if ends_at <= starts_at:
        raise invalid("maintenance-times", "A maintenance window must end after it starts",
                      "Check the start and end times")
    with audit.audited_session(db) as session:
        site_id = find_site(session, site).id if site is not None else None
        window = MaintenanceWindow(node_id=node_id, site_id=site_id, starts_at=starts_at,
                                   ends_at=ends_at, reason=reason)
        session.add(window)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="maintenance",
                     entity_id=window.id,
                     after=audit.state_digest(session, "maintenance", window.id),
                     detail={"reason": reason})
        return window.id or 0


def maintenance_windows(db: Database, *, node_id: int | None = None,
                        site_id: int | None = None) -> list[tuple[datetime, datetime, str]]:
    with db.session() as session:
        query = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at)
        rows = session.exec(query).all()
        return [(aware(w.starts_at), aware(w.ends_at), w.reason) for w in rows
                if (w.node_id is None or w.node_id == node_id)
                and (w.site_id is None or w.site_id == site_id)
                and (w.node_id is not None or w.site_id is not None)]
