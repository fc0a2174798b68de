"""Sites with their business calendars, visits, and scheduled maintenance windows (all audited)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import (
    MaintenanceWindow,
    Node,
    Site,
    Visit,
    VisitIncident,
    utcnow,
)
from pacs_console.core.incidents import audit
from pacs_console.core.incidents.model import (
    MaintenanceRecord,
    SiteRecord,
    VisitRecord,
    aware,
    check_period,
    invalid,
)
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
              notes: str | None = None, site_id: int | None = None,
              replace_closed_days: bool = False, new: bool = False) -> SiteRecord:
    """Create a site or update the fields given; the calendar is validated before saving.

    By name, or with ``site_id`` the site with that id (which may then be renamed). Closed days
    are added to the stored ones unless ``replace_closed_days`` (an editor sends the full list).
    ``new``: a new site only; a name already taken (in any case) is refused, never updated.
    """
    name = name.strip()
    if not name:
        raise invalid("site-name", "A site needs a name", "Give the facility's usual name")
    with audit.audited_session(db) as session:
        if new:
            taken = next((s.name for s in session.exec(select(Site)).all()
                          if s.name.casefold() == name.casefold()), None)
            if taken is not None:
                raise invalid("site-name-taken", f"A site called {taken!r} already exists",
                              "Choose it in the Site list to edit it, or give the new site "
                              "a different name", site=taken)
        named = session.exec(select(Site).where(Site.name == name)).first()
        site = find_site(session, site_id) if site_id is not None else named
        if named is not None and site is not None and named.id != site.id:
            raise invalid("site-name-taken", f"Another site is already called {name!r}",
                          "Pick a different name, or edit that site instead", site=name)
        before = audit.state_digest(session, "site", site.id) if site else ""
        if site is None:
            site = Site(name=name)
        site.name = name
        for attr, value in (("region", region), ("facility_type", facility_type),
                            ("address", address), ("contacts", contacts),
                            ("timezone", timezone), ("holiday_country", holiday_country),
                            ("notes", notes)):
            if value is not None:
                setattr(site, attr, value)
        if business_hours is not None:
            site.business_hours = {**(site.business_hours or {}), **dict(business_hours)}
        if closed_days is not None:
            kept = () if replace_closed_days else (site.closed_days or ())
            site.closed_days = sorted({*kept, *(str(d).strip() for d in closed_days)})
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


def _maintenance_record(session: Session, window: MaintenanceWindow) -> MaintenanceRecord:
    site = session.get(Site, window.site_id) if window.site_id else None
    node = session.get(Node, window.node_id) if window.node_id else None
    return MaintenanceRecord(window.id or 0, aware(window.starts_at), aware(window.ends_at),
                             window.reason, window.site_id, site.name if site else "",
                             window.node_id, node.name if node else "")


def add_maintenance_window(db: Database, *, starts_at: datetime, ends_at: datetime,
                           node_id: int | None = None, site: int | str | None = None,
                           reason: str = "", actor: str = "") -> int:
    """Scheduled downtime the uptime figure excludes; for one node or a whole site."""
    check_period(starts_at, ends_at, code="maintenance-times", what="A maintenance window",
                 action="Check the start and end times")
    if node_id is None and site is None:
        raise invalid("maintenance-scope", "A maintenance window needs a site or a node",
                      "Give the site (for every node there) or the node it applies to")
    with audit.audited_session(db) as session:
        site_id = find_site(session, site).id if site is not None else None
        if node_id is not None and session.get(Node, node_id) is None:
            raise invalid("node-unknown", f"No node {node_id} in the address book",
                          "Pick a node from the address book", node=str(node_id))
        window = MaintenanceWindow(node_id=node_id, site_id=site_id,
                                   starts_at=starts_at.astimezone(UTC),
                                   ends_at=ends_at.astimezone(UTC), reason=reason.strip())
        session.add(window)
        session.flush()
        audit.record(session, actor=actor, action="create", entity="maintenance",
                     entity_id=window.id,
                     after=audit.state_digest(session, "maintenance", window.id),
                     detail={"reason": window.reason})
        return window.id or 0


def list_maintenance(db: Database, *, site: int | str | None = None,
                     node_id: int | None = None) -> list[MaintenanceRecord]:
    """Windows, newest first; filtered to a site's (site-wide or its nodes') or one node's."""
    with db.session() as session:
        query = select(MaintenanceWindow).order_by(col(MaintenanceWindow.starts_at).desc(),
                                                   col(MaintenanceWindow.id).desc())
        if site is not None:
            query = query.where(MaintenanceWindow.site_id == find_site(session, site).id)
        if node_id is not None:
            query = query.where(MaintenanceWindow.node_id == node_id)
        return [_maintenance_record(session, w) for w in session.exec(query)]


def delete_maintenance_window(db: Database, window_id: int, *, actor: str = "") -> None:
    with audit.audited_session(db) as session:
        window = session.get(MaintenanceWindow, window_id)
        if window is None:
            raise invalid("maintenance-unknown", f"No maintenance window {window_id}",
                          "List them with `pacs-console maintenance list`",
                          window=str(window_id))
        before = audit.state_digest(session, "maintenance", window_id)
        reason = window.reason
        session.delete(window)
        session.flush()
        audit.record(session, actor=actor, action="delete", entity="maintenance",
                     entity_id=window_id, before=before, detail={"reason": reason})


def maintenance_windows(db: Database, *, node_id: int | None = None,
                        site_id: int | None = None) -> list[tuple[datetime, datetime, str]]:
    """The windows that excuse a node: its own, and its site's site-wide ones."""
    with db.session() as session:
        query = select(MaintenanceWindow).order_by(MaintenanceWindow.starts_at)
        rows = session.exec(query).all()
        return [(aware(w.starts_at), aware(w.ends_at), w.reason) for w in rows
                if (w.node_id == node_id if w.node_id is not None
                    else w.site_id is not None and w.site_id == site_id)]
