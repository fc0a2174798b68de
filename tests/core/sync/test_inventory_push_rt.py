"""After a sweep, the inventory diff goes to a real RT 5 through the outbox: the changed site
nodes' assets updated, each linked to the visit's ticket (RefersTo asset:N, read back from the
asset's _hyperlinks), one comment on that ticket with the diff, all exactly once."""

from __future__ import annotations

import json

import pytest

from pacs_console.core.db.nodes import get_node, save_node
from pacs_console.core.discovery.models import SweepOptions
from pacs_console.core.discovery.session import sweep_and_save
from pacs_console.core.discovery.targets import parse_targets
from pacs_console.core.incidents import service, sites
from pacs_console.core.sync import helpdesk, inventory, inventory_push, outbox, tickets
from tests.conftest import run_cli
from tests.core.discovery.lab import DCMTK_PORT, pynetdicom_scp
from tests.core.sync.conftest import run
from tests.core.sync.rt_assets import add_asset_catalog
from tests.peers.net import addr, span

pytestmark = pytest.mark.peers
SITE = "Bolgatanga Regional Hospital"
OPTIONS = SweepOptions(ports=(104, DCMTK_PORT), web_ports=(), rate=2000, timeout=1.0)


@pytest.fixture
def site(rt_ctx, rt_peer):
    add_asset_catalog(rt_peer)
    servers = [pynetdicom_scp("BOLGAPACS", addr(61), 104, check_called=False),
               pynetdicom_scp("BOLGACT", addr(62), DCMTK_PORT, check_called=False)]
    yield rt_ctx, servers
    for server in servers:
        if server.socket.fileno() != -1:
            server.shutdown()


def _sweep(ctx):
    return run(sweep_and_save(ctx.db, parse_targets(span(60, 63)), OPTIONS, site=SITE,
                              engineer="Kofi"))


def _asset(rt_peer, asset_id: str) -> dict:
    with rt_peer.client() as client:
        return client.get(f"/asset/{asset_id}").json()


def _comments(rt_peer, ticket: str) -> list[str]:
    with rt_peer.client() as client:
        items = client.get(f"/ticket/{ticket}/attachments", params={
            "fields": "Subject,Content,ContentType", "per_page": 100}).json()["items"]
    return [i.get("Subject") or "" for i in items]


def test_a_sweeps_diff_updates_the_assets_links_the_visit_ticket_and_comments_once(site, rt_peer):
    ctx, servers = site
    sites.save_site(ctx.db, SITE)
    site_id = sites.get_site(ctx.db, SITE).id
    pacs = save_node(ctx.db, "Bolga PACS", "BOLGAPACS", addr(61), 104, tags="pacs",
                     site_id=site_id)
    ct = save_node(ctx.db, "Bolga CT", "BOLGACT", addr(62), DCMTK_PORT, tags="modality",
                   site_id=site_id)
    first = run(helpdesk.sync_once(ctx))  # the inventory as it was before this visit
    assert first.drain.delivered == 2, first.to_dict()
    visit = sites.start_visit(ctx.db, SITE, engineer="Kofi")
    incident = service.create_incident(ctx.db, title="CT cannot send", severity="high",
                                       site=SITE, visit_id=visit.id)
    _sweep(ctx)
    servers[1].shutdown()  # the CT goes off the network
    second = _sweep(ctx)
    assert [c.kind for c in second.diff.changes] == ["gone"]

    # Offline: queued, never claimed as delivered.
    pushed = run(inventory_push.push_to_helpdesk(ctx, SITE, visit_id=visit.id, sync=False))
    assert pushed["state"] == "queued" and "goes at the next sync" in pushed["message"]
    assert pushed["nodes"] == ["Bolga CT"] and pushed["links_queued"] == 1
    assert outbox.undelivered(ctx.db)["count"] >= 3  # the ticket's create, the link, the comment

    # The next sync delivers it all: the incident's ticket, the link, the comment.
    again = run(helpdesk.sync_once(ctx, wait_s=30))
    assert again.drain.failed == 0, again.to_dict()
    assert outbox.undelivered(ctx.db)["count"] == 0
    ticket = tickets.ticket_for(ctx.db, service.get_incident(ctx.db, incident.id).uuid)
    rows = {a["node_id"]: a for a in inventory.assets(ctx.db)}
    links = _asset(rt_peer, rows[ct.id]["remote_id"])["_hyperlinks"]
    assert {"ref": "referred-to-by", "type": "ticket", "id": ticket} in [
        {k: str(link.get(k)) for k in ("ref", "type", "id")} for link in links], links
    assert not any(link.get("ref") == "referred-to-by"  # only the changed node is linked
                   for link in _asset(rt_peer, rows[pacs.id]["remote_id"])["_hyperlinks"])
    subjects = [s for s in _comments(rt_peer, ticket) if "Site inventory of" in s]
    assert len(subjects) == 1, subjects

    # The PACS gets a new implementation: the push updates its asset (vendor, last seen).
    servers[0].shutdown()
    servers[0] = pynetdicom_scp("BOLGAPACS", addr(61), 104, check_called=False,
                                version="BOLGA_V2")
    _sweep(ctx)
    outcome = run(inventory_push.push_to_helpdesk(ctx, SITE, visit_id=visit.id))
    assert outcome["state"] == "delivered", outcome
    assert outcome["message"].startswith("Delivered to the helpdesk")
    node = get_node(ctx.db, pacs.id)
    assert node.capabilities["swept"]["change"] == "version-changed"
    asset = _asset(rt_peer, rows[pacs.id]["remote_id"])
    fields = {cf["name"]: cf["values"] for cf in asset["CustomFields"]}
    assert fields["LastSeen"] == [node.capabilities["swept"]["seen"]]
    assert any(link.get("ref") == "referred-to-by" and str(link.get("id")) == ticket
               for link in asset["_hyperlinks"])
    assert len([s for s in _comments(rt_peer, ticket) if "Site inventory of" in s]) == 2
    # A sync afterwards sends nothing again: exactly once.
    assert run(helpdesk.sync_once(ctx)).drain.delivered == 0


def test_cli_push_says_queued_and_refuses_bad_input_in_one_line(site):
    ctx, _ = site
    data = ctx.paths.data.parent
    sites.save_site(ctx.db, SITE)
    save_node(ctx.db, "Bolga PACS", "BOLGAPACS", addr(61), 104, site_id=sites.get_site(
        ctx.db, SITE).id)
    visit = sites.start_visit(ctx.db, SITE, engineer="Kofi")
    none = run_cli("inventory", SITE, "--push", data_dir=data)
    assert none.returncode == 2 and "no sweep yet" in none.stderr
    assert len(none.stderr.splitlines()) == 1  # one line, never a traceback
    _sweep(ctx)
    no_ticket = run_cli("inventory", SITE, "--push", "--visit", str(visit.id), data_dir=data)
    assert no_ticket.returncode == 2 and "no incident" in no_ticket.stderr
    assert run_cli("inventory", SITE, "--visit", "1", data_dir=data).returncode == 2
    service.create_incident(ctx.db, title="PACS slow", severity="low", site=SITE,
                            visit_id=visit.id)
    proc = run_cli("inventory", SITE, "--push", "--visit", str(visit.id), "--json",
                   data_dir=data)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)["push"]
    assert body["state"] == "queued" and body["synced"] is False
    assert "goes at the next sync" in body["message"] and body["links_queued"] == 1
    assert len(body["unmatched"]) == 1  # the CT answers but is not one of the site's nodes

    # --sync: the push and everything queued before it delivered, and said so only then.
    synced = run_cli("inventory", SITE, "--push", "--visit", str(visit.id), "--sync", "--json",
                     data_dir=data)
    assert synced.returncode == 0, synced.stderr
    body = json.loads(synced.stdout)["push"]
    assert body["state"] == "delivered" and body["synced"] is True, body
    assert body["message"].startswith("Delivered to the helpdesk")

    # A sweep that finds the same: nothing to push, and nothing is queued (not even a comment).
    _sweep(ctx)
    before = outbox.counts(ctx.db)
    same = run_cli("inventory", SITE, "--push", "--visit", str(visit.id), data_dir=data)
    assert same.returncode == 0 and "nothing to push" in same.stdout, same.stderr
    assert outbox.counts(ctx.db) == before
