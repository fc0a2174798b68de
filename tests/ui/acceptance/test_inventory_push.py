"""Push to helpdesk after a sweep, in the window, against the real Request Tracker 5: with no
helpdesk set up the button says the changes are queued for the next sync; once it is set up,
the next push delivers them all: the site node's asset, linked to the open visit's ticket,
and one comment per push on that ticket."""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.sop_class import Verification
from PySide6.QtWidgets import QPlainTextEdit

from pacs_console.core.db.nodes import save_node
from pacs_console.core.incidents import service, sites
from pacs_console.core.sync import helpdesk, inventory, tickets
from pacs_console.core.sync.adapters.base import HelpdeskConfig
from tests.core.sync.rt_assets import add_asset_catalog
from tests.ui.acceptance.test_discovery_journey import _sweep
from tests.ui.acceptance.window import free_port

HOST = "127.0.0.5"
SITE = "Wa Municipal Hospital"


def test_push_the_sweeps_changes_queued_then_delivered_and_linked(console, rt_peer):
    add_asset_catalog(rt_peer)
    ctx = console.ctx
    port = free_port()
    site = sites.save_site(ctx.db, SITE)
    node = save_node(ctx.db, "Wa PACS", "WAPACS", HOST, port, tags="pacs", site_id=site.id)
    visit = sites.start_visit(ctx.db, SITE, engineer="Abena")
    incident = service.create_incident(ctx.db, title="Wa PACS unreachable", severity="high",
                                       site=SITE, visit_id=visit.id)
    panel = console.choose_nav("Discovery")
    console.type_into(panel.site, SITE)
    _sweep(console, panel, HOST, port)  # the PACS is down: nothing answers
    console.wait_text(panel.status, "Done in", 60)
    ae = AE("WAPACS")
    ae.add_supported_context(Verification)
    server = ae.start_server((HOST, port), block=False)
    try:
        _sweep(console, panel, HOST, port)  # fixed: it answers again
        console.wait_text(panel.status, "Done in", 60)
        details = console.find(QPlainTextEdit, parent=panel)
        console.wait_text(details, "New: ", 10)
        assert f"{HOST}:{port}" in console.text(details)
    finally:
        server.shutdown()

    push = console.button("Push to helpdesk", panel)
    console.click(push)  # no helpdesk set up yet: queued, and it says so
    console.wait_text(panel.status, "goes at the next sync", 60)
    assert "No helpdesk is set up yet" in console.text(panel.status)
    assert "Delivered" not in console.text(panel.status)
    console.wait_for(push.isEnabled, 10, "the button back")

    helpdesk.save_config(ctx, HelpdeskConfig(kind="rt", url=rt_peer.url, queue=rt_peer.queue,
                                             user=rt_peer.user, timeout=10.0), rt_peer.token)
    console.click(push)
    console.wait_text(panel.status, "Delivered to the helpdesk", 120)
    assert "1 site node(s) to update" in console.text(panel.status)
    assert f"visit {visit.id}" in console.text(panel.status)

    asset_id = next(a["remote_id"] for a in inventory.assets(ctx.db) if a["node_id"] == node.id)
    ticket = tickets.ticket_for(ctx.db, service.get_incident(ctx.db, incident.id).uuid)
    with rt_peer.client() as client:
        asset = client.get(f"/asset/{asset_id}").json()
        notes = client.get(f"/ticket/{ticket}/attachments", params={
            "fields": "Subject", "per_page": 100}).json()["items"]
    fields = {cf["name"]: cf["values"] for cf in asset["CustomFields"]}
    assert asset["Name"] == "Wa PACS" and fields["AETitle"] == ["WAPACS"]
    assert fields["LastSeen"] and fields["LastSeen"][0].startswith("20")
    assert any(link.get("ref") == "referred-to-by" and str(link.get("id")) == ticket
               for link in asset["_hyperlinks"])
    # one comment per push: the queued one and this one, each delivered once
    assert len([n for n in notes if "Site inventory of" in (n.get("Subject") or "")]) == 2
