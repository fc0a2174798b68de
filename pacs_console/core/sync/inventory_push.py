"""After a sweep: the site's inventory diff to the helpdesk, through the outbox only.

``push`` compares the site's last two sweeps (a first sweep: everything it found is new). Each
site node at a host:port that changed keeps what the sweep learned beside its capabilities
(when it answered, with which implementation), and its asset is queued the usual way
(``inventory.queue_changes``). With a visit, each of those assets is linked to the visit's
ticket (the ticket of the visit's first incident): an 'asset-link' item queued in the asset's
own queue, behind its update, so the asset exists before it is linked; and one comment
summarising the diff goes on that ticket as a 'comment' item in the incident's queue, so it is
delivered exactly once like any comment. Nothing here talks to the helpdesk: a sync delivers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC

from sqlmodel import col, select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import list_nodes, set_capabilities
from pacs_console.core.db.tables import Incident, OutboxItem, Visit, VisitIncident
from pacs_console.core.discovery.inventory import InventoryDiff, diff
from pacs_console.core.errors import ConsoleError, Diagnosis
from pacs_console.core.sync import inventory, outbox
from pacs_console.core.sync.adapters.rt_assets import GONE

LINK_KIND = "asset-link"


@dataclass
class PushResult:
    site: str
    changes: int
    nodes: list[str] = field(default_factory=list)  # site nodes whose assets the push covers
    unmatched: list[str] = field(default_factory=list)  # changes with no site node there
    assets_queued: int = 0
    links_queued: int = 0
    comment_queued: bool = False
    visit: int | None = None
    incident: int | None = None
    keys: list[str] = field(default_factory=list)  # the outbox items this push queued

    def to_dict(self) -> dict:
        return asdict(self)


def _refused(code: str, what: str, action: str) -> ConsoleError:
    return ConsoleError(Diagnosis(code, what, (), (action,)))


def site_diff(db: Database, site_id: int) -> InventoryDiff:
    """The last sweep against the one before (a first sweep: all of it is new)."""
    from pacs_console.core.db.sweeps import list_sweeps, site_inventory_diff, sweep_findings

    sweeps = list_sweeps(db, site_id, limit=2)
    if not sweeps:
        raise _refused("inventory-no-sweep", "This site has no sweep yet",
                       "Sweep it first: `pacs-console scan TARGETS --site SITE`")
    if len(sweeps) == 1:
        found = diff((), sweep_findings(db, sweeps[0].id))
        return InventoryDiff(found.changes, found.unchanged, 0, found.after_count, {
            "after": {"id": sweeps[0].id, "started_at": sweeps[0].started_at.isoformat()}})
    return site_inventory_diff(db, site_id)


def visit_incident(db: Database, visit_id: int, site_id: int) -> Incident:
    """The incident whose ticket stands for the visit: its first linked one."""
    with db.session() as session:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise _refused("visit-unknown", f"No visit {visit_id}",
                           "List visits with `pacs-console visit list`")
        if visit.site_id != site_id:
            raise _refused("visit-other-site", f"Visit {visit_id} is at another site",
                           "Give a visit at the swept site")
        incident = session.exec(select(Incident).join(
            VisitIncident, col(VisitIncident.incident_id) == col(Incident.id)).where(
            VisitIncident.visit_id == visit_id).order_by(col(Incident.id))).first()
        if incident is None:
            raise _refused("visit-no-ticket", f"Visit {visit_id} has no incident, so no "
                           "helpdesk ticket to link", "Link its incident first: "
                           "`pacs-console visit link VISIT INCIDENT`")
        session.expunge(incident)
        return incident


def visit_for(db: Database, site: str | int) -> int | None:
    """The site's newest open visit that has an incident (its ticket is the visit's), if any:
    what the Discovery panel's Push to helpdesk links to."""
    from pacs_console.core.db.sweeps import site_id_for

    site_id = site_id_for(db, site, create=False)
    with db.session() as session:
        return session.exec(select(Visit.id).join(
            VisitIncident, col(VisitIncident.visit_id) == col(Visit.id)).where(
            Visit.site_id == site_id, col(Visit.departed_at).is_(None)).order_by(
            col(Visit.arrived_at).desc())).first()


GONE_KINDS = ("gone", "port-closed")


def _moved_to(node, changes: InventoryDiff, now: dict, taken: set) -> tuple[str, int] | None:
    """Where a node no longer answering turned up: the one new DICOM port whose AE title is the
    node's, on the same host (a port change) or anywhere swept (an address change)."""
    places = [(c.host, c.port) for c in changes.of_kind("new")
              if (c.host, c.port) not in taken
              and getattr(now.get((c.host, c.port)), "ae_title", "") == node.ae_title]
    same_host = [p for p in places if p[0] == node.host]
    found = same_host or places
    return found[0] if len(found) == 1 else None


def _learned(db: Database, site_id: int, changes: InventoryDiff) -> tuple[list, list[str]]:
    """The site nodes at a changed host:port, with the sweep's news kept beside them: what
    answered (when, which implementation), a node gone says so in its state, a new AE title at
    its address and a move to another port or address (found by its AE title) become the
    node's own fields, so its asset's fields change with them."""
    from pacs_console.core.db.nodes import update_node
    from pacs_console.core.db.sweeps import list_sweeps, sweep_findings

    latest = list_sweeps(db, site_id, limit=1)[0]
    now = {f.key: f for f in sweep_findings(db, latest.id)}
    seen = latest.started_at.astimezone(UTC).isoformat(timespec="seconds")
    at: dict[tuple[str, int], list] = {}
    for change in changes.changes:
        at.setdefault((change.host, change.port), []).append(change)
    site_nodes = [n for n in list_nodes(db) if n.site_id == site_id and not n.is_demo]
    taken = {(n.host, n.port) for n in site_nodes}
    nodes, matched = [], set()
    for node in site_nodes:
        here = at.get((node.host, node.port))
        if not here:
            continue
        matched.add((node.host, node.port))
        kinds = [c.kind for c in here]
        edits: dict = {}
        if any(k in GONE_KINDS for k in kinds):
            moved = _moved_to(node, changes, now, taken)
            if moved is not None:
                matched.add(moved)
                taken.add(moved)
                edits = {"host": moved[0], "port": moved[1]}
        for change in here:
            if change.kind == "ae-changed" and change.after:
                edits["ae_title"] = change.after[:16]
        if edits:
            node = update_node(db, node.id, **edits)
        caps = dict(node.capabilities or {})
        finding = now.get((node.host, node.port))
        swept = {"seen": seen} if finding else dict(caps.get("swept") or {})
        if finding is not None:
            product = finding.product if finding.product not in ("", "unknown") else ""
            swept["vendor"] = " ".join(filter(None, (finding.vendor or product,
                                                     finding.version))).strip()
            swept["state"] = ""
        else:
            kind = next(k for k in kinds if k in GONE_KINDS)
            swept["state"] = (f"{GONE} {seen} ({kind}); last seen "
                              f"{swept.get('seen') or 'never by a pushed sweep'}")
        swept["change"] = ", ".join(kinds)
        if edits:
            swept["moved"] = {k: str(v) for k, v in edits.items()}
        caps["swept"] = swept
        nodes.append(set_capabilities(db, node.id, caps, probed=False))
    unmatched = [c.text for c in changes.changes if (c.host, c.port) not in matched]
    return nodes, unmatched


def _news(node) -> str:
    swept = (node.capabilities or {}).get("swept") or {}
    moved = ", ".join(f"{k} now {v}" for k, v in (swept.get("moved") or {}).items())
    return "".join(f": {t}" for t in (moved, swept.get("state", "")) if t)


def _summary(site: str, changes: InventoryDiff, nodes: list, unmatched: list[str],
             engineer: str) -> str:
    when = (changes.sweeps.get("after") or {}).get("started_at", "")[:16].replace("T", " ")
    lines = [f"Site inventory after the sweep of {site}" + (f" on {when} UTC" if when else "")
             + (f", pushed by {engineer}" if engineer else "") + ":", changes.text(), ""]
    if nodes:
        lines.append("Site nodes updated on the helpdesk and linked to this ticket:")
        lines += [f"- {n.name} ({n.ae_title}@{n.host}:{n.port}){_news(n)}" for n in nodes]
    if unmatched:
        lines.append("Not in the site's nodes (add them to the address book to share them):")
        lines += [f"- {text}" for text in unmatched]
    return "\n".join(lines)


def push(db: Database, site: str | int, *, visit_id: int | None = None,
         engineer: str = "") -> PushResult:
    """Queue the site's inventory diff for the helpdesk (see the module's docstring)."""
    from pacs_console.core.db.sweeps import site_id_for

    site_id = site_id_for(db, site, create=False)
    if site_id is None:
        raise _refused("site-unknown", f"No site {site!r}",
                       "List sites with `pacs-console site list`")
    changes = site_diff(db, site_id)
    incident = visit_incident(db, visit_id, site_id) if visit_id is not None else None
    name = inventory.site_names(db)[site_id]
    nodes, unmatched = _learned(db, site_id, changes) if changes.changes else ([], [])
    queued: list[int] = []
    assets_queued = inventory.queue_changes(db, queued)
    # the site's nodes edited here since they last went (AE, address, port, role) go too
    edited = [n for n in list_nodes(db) if n.id in set(queued) and n.site_id == site_id
              and n.id not in {m.id for m in nodes}]
    if not changes.changes and not edited:  # nothing changed: nothing queued, not a comment
        return PushResult(name, 0, visit=visit_id, incident=incident.id if incident else None,
                          assets_queued=assets_queued)
    nodes += edited
    result = PushResult(name, len(changes.changes) + len(edited), [n.name for n in nodes],
                        unmatched, visit=visit_id, incident=incident.id if incident else None)
    result.assets_queued = assets_queued
    if incident is None:
        return result
    keys = {a["node_id"]: a["key"] for a in inventory.assets(db)}
    with db.session() as session:
        outbox.ensure_ticket(session, incident.id)
        for node in nodes:
            result.keys.append(outbox.enqueue(
                session, incident_uuid=keys[node.id], incident_id=None, kind=LINK_KIND,
                payload={"subject": f"Link asset {node.name} to the visit's ticket",
                         "key": keys[node.id], "ticket_of": incident.uuid,
                         "node": node.name}))
        result.links_queued = len(nodes)
        result.keys.append(outbox.enqueue(
            session, incident_uuid=incident.uuid, incident_id=incident.id, kind="comment",
            payload={"subject": f"Site inventory of {name} after the sweep",
                     "text": _summary(name, changes, nodes, unmatched, engineer),
                     "author": engineer, "entry_kind": "inventory"}))
        result.comment_queued = True
    return result


def delivered(db: Database, keys: list[str]) -> bool:
    """Whether every item a push queued is at the helpdesk."""
    with db.session() as session:
        states = session.exec(select(OutboxItem.state).where(
            col(OutboxItem.key).in_(keys))).all()
    return len(states) == len(keys) and all(s == "done" for s in states)


# -- the engineer's action (CLI and the Discovery panel) -----------------------------------------

def _open_for(db: Database, result: PushResult) -> int:
    """Items of this push (and the covered nodes' asset items) not at the helpdesk yet."""
    keys = {a["key"] for a in inventory.assets(db)
            if a["node_id"] in set(_node_ids(db, result.nodes))}
    with db.session() as session:
        mine = session.exec(select(OutboxItem.state).where(
            col(OutboxItem.key).in_(result.keys))).all()
        assets = session.exec(select(OutboxItem.state).where(
            col(OutboxItem.incident_uuid).in_(keys), OutboxItem.kind == inventory.KIND)).all()
    return sum(s != "done" for s in mine) + sum(s in outbox.OPEN_STATES for s in assets)


def _node_ids(db: Database, names: list[str]) -> list[int]:
    return [n.id for n in list_nodes(db) if n.name in names]


def _words(result: PushResult) -> str:
    parts = [f"{len(result.nodes)} site node(s) to update"]
    if result.visit is not None:
        parts.append(f"linked to the ticket of incident {result.incident} (visit "
                     f"{result.visit}) with one comment")
    if result.unmatched:
        parts.append(f"{len(result.unmatched)} change(s) with no site node")
    return ", ".join(parts)


def push_to_helpdesk(ctx, site: str | int, *, visit_id: int | None = None, sync: bool = True,
                     wait_s: float = 30.0):
    """Queue the push, then (``sync``) try a sync; returns a dict whose 'message' says in
    words what happened: 'delivered' only when the sync ran and every item arrived."""
    from pacs_console.core.models import Progress
    from pacs_console.core.sync import helpdesk

    yield Progress(0, None, "Queueing the inventory diff for the helpdesk")
    result = push(ctx.db, site, visit_id=visit_id, engineer=ctx.settings.profile.name)
    outcome = {**result.to_dict(), "state": "queued", "synced": False}
    if not result.changes:
        return {**outcome, "state": "nothing", "message": f"No change at {result.site} since "
                "the previous sweep: nothing to push."}
    queued = f"Queued for the helpdesk: {_words(result)}"
    if not sync:
        return {**outcome, "message": queued + ". It goes at the next sync."}
    yield Progress(0, None, "Syncing with the helpdesk")
    try:
        synced = yield from helpdesk.sync_once(ctx, wait_s=wait_s)
    except ConsoleError as exc:
        return {**outcome, "message": f"{queued}. It goes at the next sync (no sync now: "
                                      f"{exc.diagnosis.what})."}
    left = _open_for(ctx.db, result)
    outcome.update(synced=True, drain=synced.drain.to_dict() if synced.drain else None)
    if left == 0:
        return {**outcome, "state": "delivered",
                "message": f"Delivered to the helpdesk: {_words(result)}."}
    why = outbox.undelivered(ctx.db)["why"]
    return {**outcome, "left": left, "message": f"{queued}. The sync ran but {left} item(s) "
                                                f"are not delivered yet ({why}): they go at "
                                                "the next sync."}
