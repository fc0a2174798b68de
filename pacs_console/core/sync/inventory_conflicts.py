"""Site nodes changed here and on the helpdesk: shown side by side, and answered.

A conflict is never settled silently (see ``inventory``): the node keeps this laptop's values,
the helpdesk's version waits beside it, and the asset's outbox item fails until the engineer
keeps theirs ("Keep mine": sent over the helpdesk's at the next sync) or takes the helpdesk's
("Take theirs": the node here becomes what the helpdesk says).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pacs_console.core.db.engine import Database
from pacs_console.core.db.nodes import NodeRecord, get_node
from pacs_console.core.sync import outbox
from pacs_console.core.sync.adapters.rt_assets import RemoteAsset
from pacs_console.core.sync.inventory import (
    SNAPSHOT_FIELDS,
    apply_remote,
    assets,
    digest,
    set_asset,
    site_names,
    snapshot,
)


class NoNodeConflict(ValueError):
    """The node named is not in conflict with the helpdesk: there is nothing to answer."""


def conflicts(db: Database) -> list[dict]:
    """Nodes changed here and on the helpdesk: the local state and the helpdesk's, side by side."""
    found = []
    sites = site_names(db)
    for row in assets(db):
        if row["sync_state"] != "conflict":
            continue
        node = get_node(db, row["node_id"]) if row["node_id"] else None
        found.append({"key": row["key"], "asset": row["remote_id"], "node_id": row["node_id"],
                      "here": snapshot(node, sites.get(node.site_id, "")) if node else None,
                      "helpdesk": row["remote_copy"]})
    return found


def conflict_text(conflict: dict) -> str:
    """A site node changed here and on the helpdesk, both versions on one line."""
    here, there = conflict["here"] or {}, conflict["helpdesk"] or {}

    def side(values: dict) -> str:
        return f"{values.get('ae_title', '?')}@{values.get('host', '?')}:{values.get('port', '?')}"
    return (f"Node {here.get('name') or there.get('name')} (asset {conflict['asset']}): here "
            f"{side(here)}, on the helpdesk {side(there)} (by {there.get('by') or '?'} at "
            f"{there.get('at') or '?'}) — keep yours or take theirs "
            f"(`pacs-console node resolve NAME --keep-mine|--take-theirs`)")


def resolve(db: Database, node_id: int, choice: str) -> NodeRecord:
    """Answer a node's conflict: ``mine`` (sent at the next sync, over the helpdesk version the
    engineer saw) or ``theirs`` (the node here takes the helpdesk's values). The failed outbox
    item of the conflict is cancelled either way; nothing else is touched."""
    if choice not in ("mine", "theirs"):
        raise ValueError(f"choice must be 'mine' or 'theirs', not {choice!r}")
    found = [c for c in conflicts(db) if c["node_id"] == node_id]
    if not found or not isinstance(found[0]["helpdesk"], dict):
        raise NoNodeConflict(f"node {node_id} is not in conflict with the helpdesk: "
                             "nothing to resolve")
    key, copy = found[0]["key"], found[0]["helpdesk"]
    theirs = {name: str(copy.get(name, "")) for name in SNAPSHOT_FIELDS}
    for (item_id,) in _failed_items(db, key):
        outbox.cancel(db, item_id)
    if choice == "mine":  # queued afresh by the next sync, judged against what was seen
        set_asset(db, key, sync_state="synced", remote_digest=digest(theirs), queued_digest="",
                  remote_copy=None)
        return get_node(db, node_id)
    try:
        when = datetime.strptime(str(copy.get("at", "")), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        when = datetime.now(UTC)
    node = apply_remote(db, node_id, RemoteAsset(
        id=str(found[0]["asset"] or ""), key=key, snapshot=theirs, updated_at=when,
        updated_by=str(copy.get("by", "")), status=""))
    mine = digest(snapshot(node, site_names(db).get(node.site_id, "")))
    set_asset(db, key, sync_state="synced", remote_digest=digest(theirs), queued_digest=mine,
              remote_copy=None)
    return node


def _failed_items(db: Database, key: str) -> list:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT id FROM outbox_item WHERE incident_uuid = ? AND state = 'failed'",
            (key,)).all()
