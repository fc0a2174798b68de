"""Delivery of 'asset-link' outbox items (queued by ``inventory_push``): one site asset linked
to the visit's helpdesk ticket. Called by the runner; imports nothing above it (the push itself,
which may run a sync, lives in ``inventory_push``)."""

from __future__ import annotations

import time

from sqlmodel import select

from pacs_console.core.db.engine import Database
from pacs_console.core.db.tables import OutboxItem
from pacs_console.core.sync import inventory, outbox
from pacs_console.core.sync.adapters.base import permanent, transient

TICKET_WAIT_S = 20.0  # a link whose ticket is being created waits this long for it


def _ticket(db: Database, incident_uuid: str) -> str:
    from pacs_console.core.sync.tickets import ticket_for

    deadline = time.monotonic() + TICKET_WAIT_S
    while True:
        ticket = ticket_for(db, incident_uuid)
        if ticket is not None:
            return ticket
        with db.session() as session:
            states = set(session.exec(select(OutboxItem.state).where(
                OutboxItem.incident_uuid == incident_uuid, OutboxItem.kind == "create")).all())
        if "in_flight" in states and time.monotonic() < deadline:
            time.sleep(0.25)  # its create is being delivered right now
            continue
        if states & {"pending", "in_flight"}:
            raise transient("asset-link-waits", "The visit's ticket is not created yet",
                            ambiguous=False)
        raise permanent("asset-link-no-ticket", "The visit's incident has no helpdesk ticket",
                        "Retry the incident's 'create' item, then this one")


def deliver_link(adapter, db: Database, item: outbox.OutboxRecord) -> str:
    """Link one asset to the visit's ticket; safe to repeat (RT keeps one link of a kind)."""
    key = item.payload["key"]
    asset_id = next((a["remote_id"] for a in inventory.assets(db) if a["key"] == key), "")
    if not asset_id:
        raise permanent("asset-link-no-asset", f"Node {item.payload.get('node', '')} is not "
                        "on the helpdesk yet", "Retry its asset item, then this one")
    ticket = _ticket(db, item.payload["ticket_of"])
    inventory.remote_for(adapter).link_ticket(asset_id, ticket)
    return ticket
