"""The shared site inventory: every site's nodes as RT assets, both ways, through the outbox.

Out: at the start of each sync, every site node whose state changed since it was last queued
becomes an outbox item (kind 'asset', grouped by the asset's key), so it is delivered like a
ticket: leased, retried with backoff, reclaimed from a killed sync, exactly once (the helpdesk
is searched for the key before any create; of duplicates the lowest id is kept, the others
retired). An asset changed on the helpdesk since this laptop last saw it is never overwritten:
the item fails as a conflict, with the helpdesk's version kept beside the node.
Back: assets added or changed by colleagues or the office since the last pull become nodes
here (marked as from the helpdesk, with who and when), unless the node changed here too:
then it is a conflict, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import (
    NodeRecord,
    add_nodes,
    as_record,
    get_node,
    list_nodes,
    save_node,
    set_capabilities,
    update_node,
)
from pacs_console.core.models import Plain
from pacs_console.core.sync import mirror, outbox
from pacs_console.core.sync.adapters import rt_assets
from pacs_console.core.sync.adapters.base import permanent
from pacs_console.core.sync.adapters.rt_assets import CORE, FIELDS, RemoteAsset, RTAssets

KIND = "asset"
RETRY_GRACE_S = 2.0
SNAPSHOT_FIELDS = ("name", *FIELDS, *CORE)
# Digested only when set, so the assets sent before these fields existed keep their digests.
OPTIONAL = frozenset(CORE)


@dataclass
class InventoryResult(Plain):
    queued: int = 0
    received: int = 0
    updated: int = 0
    conflicts: int = 0  # found by this pull
    open_conflicts: int = 0  # nodes in conflict after this sync, waiting for the engineer
    errors: list[dict] = field(default_factory=list)


# -- what a node is, as the helpdesk sees it ----------------------------------------------------

def _summary(entries: dict) -> str:
    accepted = [e for e in entries.values() if e.get("transfer_syntaxes")]
    services = sorted({str(e.get("service", "")) for e in accepted} - {""})
    return f"{len(accepted)} SOP classes accepted ({', '.join(services)})" if accepted else ""


def snapshot(node: NodeRecord, site: str) -> dict[str, str]:
    """Name, site, AE, host, port, role, vendor fingerprint, capabilities summary, last seen,
    certificate expiry and state (a node gone at the last pushed sweep says so), as text (what
    the asset's fields hold)."""
    caps = node.capabilities or {}
    told = caps.get("helpdesk") or {}  # what the helpdesk said, for a node never probed here
    entries = caps.get("entries") or {}
    swept = caps.get("swept") or {}  # what a pushed sweep learned (core/sync/inventory_push)
    seen = node.capabilities_at
    if seen is not None and seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    probed = seen.isoformat(timespec="seconds") if entries and seen else ""
    values = {"name": node.name, "site": site, "ae_title": node.ae_title, "host": node.host,
              "port": str(node.port), "role": node.tags,
              "vendor": str(caps.get("vendor") or swept.get("vendor") or told.get("vendor", "")),
              "capabilities": _summary(entries) or str(told.get("capabilities", "")),
              "last_seen": max(probed, str(swept.get("seen", "")))
              or str(told.get("last_seen", "")),
              "cert_expiry": str(caps.get("certificate_expiry") or told.get("cert_expiry", "")),
              "state": rt_assets.description(str(told.get("state", "")), swept.get("state"))}
    return {k: str(v).strip() for k, v in values.items()}


def digest(values: dict) -> str:
    data = {k: str(values.get(k, "")).strip() for k in SNAPSHOT_FIELDS
            if k not in OPTIONAL or str(values.get(k, "")).strip()}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# -- the site_asset rows ------------------------------------------------------------------------

def set_asset(db: Database, key: str, **values) -> None:
    values["updated_at"] = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    assignments = ", ".join(f"{name} = ?" for name in values)
    with db.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE site_asset SET {assignments} WHERE key = ?",
                                   (*values.values(), key))


def _insert(connection, key: str, node_id: int | None, origin: str) -> None:
    connection.exec_driver_sql(
        "INSERT INTO site_asset (key, node_id, origin, updated_at) VALUES (?, ?, ?, ?)",
        (key, node_id, origin, datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")))


_COLUMNS = ("key", "node_id", "remote_id", "queued_digest", "remote_digest", "remote_updated",
            "remote_by", "sync_state", "remote_copy", "origin")


def assets(db: Database) -> list[dict]:
    """Every site node's asset state (for `sync --json` and the Sync panel)."""
    rows = mirror.rows(db, f"SELECT {', '.join(_COLUMNS)} FROM site_asset ORDER BY id")
    found = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
    for row in found:
        if isinstance(row["remote_copy"], str):
            row["remote_copy"] = json.loads(row["remote_copy"])
    return found


def _row(db: Database, where: str, value) -> dict | None:
    rows = mirror.rows(db, f"SELECT {', '.join(_COLUMNS)} FROM site_asset WHERE {where} = ?", (value,))
    return dict(zip(_COLUMNS, rows[0], strict=True)) if rows else None


def site_names(db: Database) -> dict[int, str]:
    return dict(mirror.rows(db, "SELECT id, name FROM site"))


# -- out: queue what changed --------------------------------------------------------------------

def queue_changes(db: Database, queued_ids: list[int] | None = None) -> int:
    """Put every site node changed since it was last queued in the outbox (one transaction);
    their ids go into ``queued_ids`` when given."""
    sites = site_names(db)
    nodes = [n for n in list_nodes(db) if n.site_id in sites and not n.is_demo]
    queued = 0
    with db.session() as session:
        connection = session.connection()
        known = {r[0]: r for r in connection.exec_driver_sql(
            "SELECT node_id, key, queued_digest, remote_digest, sync_state FROM site_asset "
            "WHERE node_id IS NOT NULL")}
        for node in nodes:
            values = snapshot(node, sites[node.site_id])
            now = digest(values)
            row = known.get(node.id)
            if row is None:
                key = str(uuid_module.uuid4())
                _insert(connection, key, node.id, "local")
                row = (node.id, key, "", "", "synced")
            _, key, queued_digest, remote_digest, state = row
            if state == "conflict" or now in (queued_digest, remote_digest):
                continue
            outbox.enqueue(session, incident_uuid=key, incident_id=None, kind=KIND, payload={
                "subject": f"Asset {node.name} ({values['site']})", "key": key,
                "snapshot": values, "digest": now})
            connection.exec_driver_sql("UPDATE site_asset SET queued_digest = ? WHERE key = ?",
                                       (now, key))
            queued += 1
            if queued_ids is not None:
                queued_ids.append(node.id)
    return queued


def _conflict(db: Database, key: str, remote: RemoteAsset) -> None:
    set_asset(db, key, sync_state="conflict", remote_id=remote.id, remote_by=remote.updated_by,
         remote_copy=json.dumps({**remote.snapshot, "by": remote.updated_by,
                                 "at": mirror.stamp(remote)}))


def deliver(remote: RTAssets, db: Database, item: outbox.OutboxRecord) -> str:
    """Send one asset item; returns the asset id. Safe to repeat: it looks before it acts."""
    key, values, ours = item.payload["key"], item.payload["snapshot"], item.payload["digest"]
    row = _row(db, "key", key) or {}
    asset_id = row.get("remote_id") or ""
    if not asset_id:
        found = remote.find(key)
        if not found and item.attempts > 1:
            time.sleep(RETRY_GRACE_S)  # an earlier attempt's create may still be committing
            found = remote.find(key)
        if not found:
            made = remote.create(key, values)
            found = sorted(set(remote.find(key)) | {made}, key=int)
        for extra in found[1:]:
            remote.retire(extra)
        asset_id = found[0]
        set_asset(db, key, remote_id=asset_id)  # before anything else can fail
    current = remote.get(asset_id)
    theirs, base = digest(current.snapshot), row.get("remote_digest") or ""
    # a base digested before the Description was read (state "") is the same version
    if theirs != ours and base and base not in (theirs, digest({**current.snapshot, "state": ""})):
        _conflict(db, key, current)
        raise permanent("asset-conflict", f"Asset {values['name']} was changed on the "
                        f"helpdesk by {current.updated_by or 'someone'} since this laptop "
                        "last saw it, and here too", "Compare both versions (`pacs-console "
                        "sync --json`, inventory conflicts), fix the node, then Retry",
                        asset=asset_id)
    if theirs != ours:
        remote.update(asset_id, values)
        current = remote.get(asset_id)
    dropped = [name for name in SNAPSHOT_FIELDS
               if str(current.snapshot.get(name, "")).strip() != values.get(name, "")]
    if dropped:  # RT answers 200 and drops values it will not store: trust only a read-back
        raise permanent("helpdesk-field-dropped", f"Asset {asset_id} did not keep "
                        f"{', '.join(dropped)}", "Ask the helpdesk admin to apply the "
                        "catalog's custom fields (README: Site inventory) and let the API "
                        "user modify them", asset=asset_id)
    # remote_updated is the pull's watermark: only a pull moves it (an asset sent before the
    # first pull is newer than the team's older assets, which that pull must still fetch)
    set_asset(db, key, remote_digest=digest(current.snapshot), remote_by=current.updated_by,
         sync_state="synced", remote_copy=None)
    return asset_id


def remote_for(adapter) -> RTAssets:
    """The adapter's asset catalog, looked up once per sync (kept on the adapter)."""
    found = getattr(adapter, "_site_assets", None)
    if found is None:
        found = RTAssets(adapter)
        adapter._site_assets = found
    return found


# -- back: what colleagues and the office changed -----------------------------------------------

def _key(item: RemoteAsset, base_url: str) -> str:
    try:
        return str(uuid_module.UUID(item.key))
    except ValueError:  # made in the helpdesk itself: a stable key from its address
        return str(uuid_module.uuid5(uuid_module.NAMESPACE_URL, f"{base_url}/asset/{item.id}"))


def _site_id(db: Database, name: str) -> int | None:
    from pacs_console.core.incidents.sites import save_site

    if not name:
        return None
    found = [i for i, n in site_names(db).items() if n == name]
    return found[0] if found else save_site(db, name, actor="helpdesk").id


def _free_name(db: Database, name: str, node_id: int | None) -> str:
    candidate, counter = name, 2
    while mirror.rows(db, "SELECT 1 FROM node WHERE name = ? AND id IS NOT ?", (candidate, node_id)):
        candidate, counter = f"{name} (helpdesk {counter})", counter + 1
    return candidate


def _node_fields(item: RemoteAsset) -> dict:
    """What an asset says of its node, checked (ValueError when it names no usable address)."""
    values = item.snapshot
    try:
        port = int(values.get("port") or 0)
    except ValueError:
        port = 0
    if not 0 < port < 65536 or not values.get("ae_title") or not values.get("host"):
        raise ValueError(f"asset {item.id} has no usable AE title, host and port")
    return {"ae_title": values["ae_title"][:16], "host": values["host"][:255], "port": port,
            "tags": values.get("role", "")[:200]}


def _told(item: RemoteAsset, capabilities: dict | None = None) -> dict:
    """The node's capabilities with what the helpdesk says of it beside them."""
    caps = dict(capabilities or {})
    caps["helpdesk"] = {k: item.snapshot.get(k, "") for k in ("vendor", "capabilities",
                                                              "last_seen", "cert_expiry",
                                                              "state")}
    caps["helpdesk"].update(by=item.updated_by, at=mirror.stamp(item), asset=item.id)
    return caps


def _notes(item: RemoteAsset) -> str:
    return (f"From the helpdesk (asset {item.id}), changed by {item.updated_by or '?'} at "
            f"{mirror.stamp(item)} UTC")


def apply_remote(db: Database, node_id: int | None, item: RemoteAsset) -> NodeRecord:
    """The helpdesk's version into a node (made when ``node_id`` is None)."""
    fields = {**_node_fields(item), "site_id": _site_id(db, item.snapshot["site"])}
    name = _free_name(db, item.snapshot["name"] or f"Asset {item.id}", node_id)
    if node_id is None:
        node = save_node(db, name, notes=_notes(item), **fields)
    else:
        node = update_node(db, node_id, name=name, **fields)
    return set_capabilities(db, node.id, _told(item, node.capabilities), probed=False)


def _add_new(db: Database, fresh: list[tuple[str, RemoteAsset]], result: InventoryResult) -> None:
    """Assets this laptop has never seen (a first sync: thousands) become nodes and asset rows
    in two transactions, not a dozen each. A sync killed between the two finds the nodes by
    name and site next time, as it would any same-named node, so nothing is added twice."""
    taken = {name for (name,) in mirror.rows(db, "SELECT name FROM node")}
    site_ids: dict[str, int | None] = {}
    records, rows = [], []
    for key, item in fresh:
        try:
            fields = _node_fields(item)
        except ValueError as exc:  # one bad asset is reported, the rest go on
            result.errors.append({"asset": item.id, "what": f"Asset {item.id} not taken: {exc}"})
            continue
        base = item.snapshot.get("name") or f"Asset {item.id}"
        name, counter = base, 2
        while name in taken:
            name, counter = f"{base} (helpdesk {counter})", counter + 1
        taken.add(name)
        site = item.snapshot.get("site", "")
        if site not in site_ids:
            site_ids[site] = _site_id(db, site)
        record = as_record(name=name, site_id=site_ids[site], notes=_notes(item),
                           capabilities=_told(item), **fields)
        records.append(record)
        rows.append((key, item, digest(snapshot(record, site))))
    if not records:
        return
    ids = add_nodes(db, records)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO site_asset (key, node_id, origin, remote_id, remote_digest, "
            "queued_digest, remote_updated, remote_by, sync_state, updated_at) "
            "VALUES (?, ?, 'helpdesk', ?, ?, ?, ?, ?, 'synced', ?)",
            [(key, ids[record.name], item.id, digest(item.snapshot), mine, mirror.stamp(item),
              item.updated_by, now) for record, (key, item, mine) in zip(records, rows,
                                                                       strict=True)])
    result.received += len(records)


def pull(db: Database, remote: RTAssets, result: InventoryResult, *, base_url: str = "") -> None:
    items = mirror.changed_since_last_pull(db, "site_asset", remote, result.errors)
    if items is None:
        return
    known = {v for row in mirror.rows(db, "SELECT key, remote_id FROM site_asset") for v in row if v}
    # a node of the same name (or AE title: get_node's fallback) is the slow path's to judge
    named = {(name, site_id) for *names, site_id in mirror.rows(
        db, "SELECT name, ae_title, site_id FROM node") for name in names}
    sites = site_names(db)
    fresh: list[tuple[str, RemoteAsset]] = []
    for item in items:
        key = _key(item, base_url)
        site_id = next((i for i, n in sites.items() if n == item.snapshot.get("site")), None)
        if key not in known and item.id not in known and (
                item.snapshot.get("name", ""), site_id) not in named:
            fresh.append((key, item))  # never seen here: added in one go below
            continue
        try:
            _pull_one(db, item, result, base_url)
        except (ValueError, KeyError) as exc:  # one bad asset is reported, the rest go on
            result.errors.append({"asset": item.id, "what": f"Asset {item.id} not taken: {exc}"})
    _add_new(db, fresh, result)
    result.open_conflicts = len(mirror.rows(db, "SELECT 1 FROM site_asset WHERE sync_state = "
                                          "'conflict'"))


def _pull_one(db: Database, item: RemoteAsset, result: InventoryResult, base_url: str) -> None:
    key, theirs = _key(item, base_url), digest(item.snapshot)
    row = _row(db, "key", key) or _row(db, "remote_id", item.id)
    if row is not None and row["remote_digest"] == theirs:
        set_asset(db, row["key"], remote_updated=mirror.stamp(item), remote_by=item.updated_by)
        return  # the version this laptop has (often its own push coming back)
    node = get_node(db, row["node_id"]) if row and row["node_id"] else None
    if row is None:  # a node of the same name at the same site is the same device
        same = get_node(db, item.snapshot.get("name", ""))
        sites = site_names(db)
        if same is not None and sites.get(same.site_id) == item.snapshot.get("site"):
            node = same
        with db.engine.begin() as connection:
            _insert(connection, key, node.id if node else None, "helpdesk")
        row = _row(db, "key", key)
    if node is None:
        node = apply_remote(db, None, item)
        set_asset(db, key, node_id=node.id, remote_id=item.id)
        result.received += 1
    else:
        mine = digest(snapshot(node, site_names(db).get(node.site_id, "")))
        unchanged_here = (bool(row["remote_digest"]) and not _unsent(db, key)
                          and mine in (row["remote_digest"], row["queued_digest"]))
        if mine != theirs and not unchanged_here:
            _conflict(db, key, item)
            result.conflicts += 1
            return
        if mine != theirs:
            node = apply_remote(db, node.id, item)
            result.updated += 1
    now = digest(snapshot(node, site_names(db).get(node.site_id, "")))
    set_asset(db, key, remote_id=item.id, remote_digest=theirs, queued_digest=now,
         remote_updated=mirror.stamp(item), remote_by=item.updated_by, sync_state="synced",
         remote_copy=None)


def _unsent(db: Database, key: str) -> bool:
    return bool(mirror.rows(db, "SELECT 1 FROM outbox_item WHERE incident_uuid = ? AND state IN "
                          "('pending', 'in_flight', 'failed') LIMIT 1", (key,)))
