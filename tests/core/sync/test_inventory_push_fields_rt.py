"""The push changes the assets' fields, not only their links (issue 21), against a real RT 5:
after a sweep, a PACS reinstalled with its default AE title, a CT moved to another port and an
ultrasound gone each change their asset (AETitle, Port, the asset's Description saying it no
longer answers, beside what the office wrote there); the ultrasound back clears it, the
office's words stay; a role edited here goes with the next push.
The session RT is shared: everything is found by this test's own site and asset ids."""

from __future__ import annotations

import uuid

import pytest

from pacs_console.core.db.nodes import get_node, save_node, update_node
from pacs_console.core.discovery.models import SweepOptions
from pacs_console.core.discovery.session import sweep_and_save
from pacs_console.core.discovery.targets import parse_targets
from pacs_console.core.incidents import service, sites
from pacs_console.core.sync import helpdesk, inventory, inventory_push, tickets
from tests.core.discovery.lab import pynetdicom_scp
from tests.core.sync.conftest import run
from tests.core.sync.rt_assets import add_asset_catalog
from tests.peers.net import addr, free_port, span

pytestmark = pytest.mark.peers


def _asset(rt_peer, asset_id: str) -> dict:
    with rt_peer.client() as client:
        return client.get(f"/asset/{asset_id}").json()


def _fields(asset: dict) -> dict:
    return {cf["name"]: (cf["values"] or [""])[0] for cf in asset["CustomFields"]}


def test_gone_moved_and_retitled_nodes_change_their_assets(rt_ctx, rt_peer):
    add_asset_catalog(rt_peer)
    ctx = rt_ctx
    name = f"Navrongo War Memorial {uuid.uuid4().hex[:6]}"  # the session RT is shared
    pacs_host, ct_host, us_host = addr(74), addr(75), addr(76)
    pacs_port, ct_port, ct_new, us_port = (free_port(pacs_host), free_port(ct_host),
                                           free_port(ct_host), free_port(us_host))
    servers = {"pacs": pynetdicom_scp("NAVPACS", pacs_host, pacs_port, check_called=True),
               "ct": pynetdicom_scp("NAVCT", ct_host, ct_port, check_called=True),
               "us": pynetdicom_scp("NAVUS", us_host, us_port, check_called=True)}
    options = SweepOptions(ports=(pacs_port, ct_port, ct_new, us_port), web_ports=(),
                           rate=2000, timeout=1.0, guess_ae=True)

    def sweep():
        return run(sweep_and_save(ctx.db, parse_targets(span(74, 76)), options, site=name,
                                  engineer="Ama"))

    try:
        site = sites.save_site(ctx.db, name)
        pacs = save_node(ctx.db, "Nav PACS", "NAVPACS", pacs_host, pacs_port, tags="pacs",
                         site_id=site.id)
        ct = save_node(ctx.db, "Nav CT", "NAVCT", ct_host, ct_port, tags="modality",
                       site_id=site.id)
        us = save_node(ctx.db, "Nav US", "NAVUS", us_host, us_port, tags="modality",
                       site_id=site.id)
        visit = sites.start_visit(ctx.db, name, engineer="Ama")
        incident = service.create_incident(ctx.db, title="US not sending", severity="high",
                                           site=name, visit_id=visit.id)
        sweep()
        first = run(inventory_push.push_to_helpdesk(ctx, name, visit_id=visit.id))
        assert first["state"] == "delivered", first
        rows = {a["node_id"]: a["remote_id"] for a in inventory.assets(ctx.db)}
        assert _asset(rt_peer, rows[us.id])["Description"] == ""
        with rt_peer.client() as client:  # the office notes where the ultrasound stands
            client.put(f"/asset/{rows[us.id]}",
                       json={"Description": "Rack 2, radiology"}).raise_for_status()
        pulled = run(helpdesk.sync_once(ctx))
        assert pulled.drain.failed == 0, pulled.to_dict()

        servers["pacs"].shutdown()  # reinstalled with its out-of-the-box title
        servers["pacs"] = pynetdicom_scp("ORTHANC", pacs_host, pacs_port, check_called=True)
        servers["ct"].shutdown()  # moved to another port
        servers["ct"] = pynetdicom_scp("NAVCT", ct_host, ct_new, check_called=True)
        servers["us"].shutdown()  # gone
        changed = sweep()
        assert {c.kind for c in changed.diff.changes} == {"ae-changed", "port-closed", "new",
                                                           "gone"}, changed.diff.text()
        pushed = run(inventory_push.push_to_helpdesk(ctx, name, visit_id=visit.id))
        assert pushed["state"] == "delivered", pushed
        assert sorted(pushed["nodes"]) == ["Nav CT", "Nav PACS", "Nav US"]
        assert pushed["unmatched"] == []  # the CT's new port is the CT, not a stranger

        assert get_node(ctx.db, pacs.id).ae_title == "ORTHANC"
        assert get_node(ctx.db, ct.id).port == ct_new
        pacs_asset, ct_asset, us_asset = (_asset(rt_peer, rows[n.id]) for n in (pacs, ct, us))
        assert _fields(pacs_asset)["AETitle"] == "ORTHANC"
        assert _fields(ct_asset)["Port"] == str(ct_new) and ct_asset["Description"] == ""
        assert us_asset["Description"].startswith("Not answering at the sweep of"), us_asset
        assert "(gone)" in us_asset["Description"]
        assert us_asset["Description"].endswith(" | Rack 2, radiology")  # the office's kept
        assert _fields(us_asset)["Port"] == str(us_port)  # where it was: kept
        ticket = tickets.ticket_for(ctx.db, service.get_incident(ctx.db, incident.id).uuid)
        for asset in (pacs_asset, ct_asset, us_asset):
            assert any(link.get("ref") == "referred-to-by" and str(link.get("id")) == ticket
                       for link in asset["_hyperlinks"])
        # the helpdesk's copy coming back is this laptop's own: nothing goes again
        again = run(helpdesk.sync_once(ctx))
        assert again.drain.delivered == 0 and again.drain.failed == 0, again.to_dict()
        assert not [a for a in inventory.assets(ctx.db) if a["sync_state"] == "conflict"
                    and a["node_id"] in (pacs.id, ct.id, us.id)]

        servers["us"] = pynetdicom_scp("NAVUS", us_host, us_port, check_called=True)
        sweep()  # the ultrasound is back
        back = run(inventory_push.push_to_helpdesk(ctx, name, visit_id=visit.id))
        assert back["state"] == "delivered" and back["nodes"] == ["Nav US"], back
        assert _asset(rt_peer, rows[us.id])["Description"] == "Rack 2, radiology"

        sweep()  # the same again: only an edit made here is left to push
        update_node(ctx.db, ct.id, tags="modality CT")
        role = run(inventory_push.push_to_helpdesk(ctx, name, visit_id=visit.id))
        assert role["state"] == "delivered" and role["nodes"] == ["Nav CT"], role
        assert _fields(_asset(rt_peer, rows[ct.id]))["Role"] == "modality CT"
    finally:
        for server in servers.values():
            if server.socket.fileno() != -1:
                server.shutdown()
