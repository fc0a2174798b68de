"""The shared site inventory through real RT 5 Assets: two laptops (two data folders), nodes
out through the durable outbox exactly once, colleagues' and the office's changes back,
conflicts flagged, never overwritten; a sync killed with SIGKILL leaves no duplicate."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pacs_console.core.db.nodes import get_node, list_nodes, save_node, update_node
from pacs_console.core.incidents.sites import save_site
from pacs_console.core.sync import helpdesk, inventory, inventory_conflicts, outbox
from tests.conftest import ROOT, run_cli
from tests.core.sync.conftest import cli_laptop, laptops_on, run
from tests.core.sync.rt_assets import add_asset_catalog

SITE = "Tamale Teaching Hospital"


@pytest.fixture
def laptops(tmp_path, rt_peer):
    add_asset_catalog(rt_peer)
    with laptops_on(tmp_path, rt_peer) as opened:
        yield opened


def _assets_with_key(rt_peer, key: str) -> list[dict]:
    query = json.dumps([{"field": "CustomField.{AssetKey}", "value": key}])
    with rt_peer.client() as client:
        items = client.get("/assets", params={"query": query, "fields":
                                              "Name,Status,CustomFields"}).json()["items"]
    return [i for i in items if i.get("Status") != "deleted"]


def _key(ctx, node_id: int) -> str:
    return next(a["key"] for a in inventory.assets(ctx.db) if a["node_id"] == node_id)


def _node(ctx, name: str, ae: str, port: int):
    site = save_site(ctx.db, SITE, actor="ama")
    return save_node(ctx.db, name, ae, "127.0.0.1", port, tags="pacs", site_id=site.id)


def test_a_node_added_on_one_laptop_appears_on_the_other_and_edits_travel(laptops, rt_peer):
    tamale, ho = laptops
    node = _node(tamale, "Tamale archive", "TAMALEPACS", 21112)
    first = run(helpdesk.sync_once(tamale))
    assert first.inventory.queued == 1 and first.drain.delivered == 1, first.to_dict()
    assert outbox.undelivered(tamale.db)["count"] == 0
    key = _key(tamale, node.id)
    remote = _assets_with_key(rt_peer, key)
    assert len(remote) == 1 and remote[0]["Name"] == "Tamale archive"
    fields = {cf["name"]: cf["values"] for cf in remote[0]["CustomFields"]}
    assert fields["AETitle"] == ["TAMALEPACS"] and fields["Port"] == ["21112"]
    assert fields["Site"] == [SITE]
    again = run(helpdesk.sync_once(tamale))  # nothing changed: nothing queued, nothing new
    assert (again.inventory.queued, again.inventory.received, again.drain.delivered) == (0, 0, 0)

    pulled = run(helpdesk.sync_once(ho))
    assert pulled.inventory.received >= 1 and not pulled.inventory.errors
    copy = get_node(ho.db, "Tamale archive")
    assert (copy.ae_title, copy.port, copy.tags) == ("TAMALEPACS", 21112, "pacs")
    assert "From the helpdesk" in copy.notes and rt_peer.user in copy.notes
    assert copy.capabilities["helpdesk"]["by"] == rt_peer.user
    assert run(helpdesk.sync_once(ho)).inventory.queued == 0  # not sent back
    assert len(_assets_with_key(rt_peer, key)) == 1

    # Ho changes the port; Tamale gets it with its next sync.
    update_node(ho.db, copy.id, port=21113)
    assert run(helpdesk.sync_once(ho)).drain.delivered == 1
    back = run(helpdesk.sync_once(tamale))
    assert back.inventory.updated == 1 and back.inventory.conflicts == 0
    assert get_node(tamale.db, node.id).port == 21113

    # The office edits the asset in RT itself: pulled as from the helpdesk, by 'office'.
    asset_id = _assets_with_key(rt_peer, key)[0]["id"]
    with rt_peer.client() as client:
        client.put(f"/asset/{asset_id}", json={"CustomFields": {"Host": "127.0.0.2"}})
    office = run(helpdesk.sync_once(tamale))
    assert office.inventory.updated == 1
    changed = get_node(tamale.db, node.id)
    assert changed.host == "127.0.0.2" and changed.capabilities["helpdesk"]["by"] == "office"


def test_a_node_changed_on_both_sides_is_a_conflict_never_overwritten(laptops, rt_peer):
    tamale, ho = laptops
    node = _node(tamale, "Ho modality", "HOCT", 104)
    run(helpdesk.sync_once(tamale))
    run(helpdesk.sync_once(ho))
    copy = get_node(ho.db, "Ho modality")
    update_node(ho.db, copy.id, ae_title="HOCT2")
    run(helpdesk.sync_once(ho))
    update_node(tamale.db, node.id, ae_title="HOCT-NEW")
    result = run(helpdesk.sync_once(tamale))
    assert result.drain.failed == 1 and result.inventory.open_conflicts == 1
    assert result.drain.failures[0]["code"] == "asset-conflict"
    assert get_node(tamale.db, node.id).ae_title == "HOCT-NEW"  # not overwritten here
    key = _key(tamale, node.id)
    fields = {cf["name"]: cf["values"] for cf in _assets_with_key(rt_peer, key)[0]
              ["CustomFields"]}
    assert fields["AETitle"] == ["HOCT2"]  # nor there
    found = inventory_conflicts.conflicts(tamale.db)
    assert found[0]["here"]["ae_title"] == "HOCT-NEW" and found[0]["helpdesk"]["ae_title"] == \
        "HOCT2"
    proc = run_cli("sync", "--json", data_dir=tamale.paths.data.parent)
    body = json.loads(proc.stdout)
    assert proc.returncode == 1 and body["ok"] is False
    assert body["inventory"]["open_conflicts"] == 1

    # The engineer keeps Tamale's version: it goes over the helpdesk's at the next sync.
    kept = run_cli("node", "resolve", "Ho modality", "--keep-mine", data_dir=tamale.paths.data.parent)
    assert kept.returncode == 0 and "is kept" in kept.stdout, kept.stderr
    after = run(helpdesk.sync_once(tamale))
    assert after.drain.delivered == 1 and after.inventory.open_conflicts == 0, after.to_dict()
    fields = {cf["name"]: cf["values"] for cf in _assets_with_key(rt_peer, key)[0]
              ["CustomFields"]}
    assert fields["AETitle"] == ["HOCT-NEW"]
    assert run_cli("sync", "--json", data_dir=tamale.paths.data.parent).returncode == 0

    # Both change again; this time Ho takes the helpdesk's (Tamale's) version.
    run(helpdesk.sync_once(ho))
    assert get_node(ho.db, copy.id).ae_title == "HOCT-NEW"
    update_node(tamale.db, node.id, port=11)
    run(helpdesk.sync_once(tamale))
    update_node(ho.db, copy.id, port=12)
    assert run(helpdesk.sync_once(ho)).inventory.open_conflicts == 1
    taken = run_cli("node", "resolve", "Ho modality", "--take-theirs", "--json",
                    data_dir=ho.paths.data.parent)
    assert taken.returncode == 0 and json.loads(taken.stdout)["port"] == 11, taken.stderr
    assert get_node(ho.db, copy.id).port == 11
    settled = run(helpdesk.sync_once(ho))
    assert settled.inventory.open_conflicts == 0 and settled.drain.failed == 0
    assert settled.inventory.queued == 0  # the helpdesk's version is not sent back to it
    again = run_cli("node", "resolve", "Ho modality", "--keep-mine", data_dir=ho.paths.data.parent)
    assert again.returncode == 2 and "not in conflict" in again.stderr
    assert again.stderr.count("\n") == 1 and "Traceback" not in again.stderr


def test_a_create_whose_answer_was_lost_is_found_not_repeated(laptops, rt_peer):
    tamale, _ho = laptops
    node = _node(tamale, "Lost answer PACS", "LOSTPACS", 24242)
    client = helpdesk.adapter(tamale)
    try:
        inventory.queue_changes(tamale.db)
        item = outbox.list_items(tamale.db, ("pending",))[-1]
        # The create reached RT, but the laptop died before recording it.
        inventory.remote_for(client).create(item.payload["key"], item.payload["snapshot"])
    finally:
        client.close()
    result = run(helpdesk.sync_once(tamale))
    assert result.drain.delivered == 1 and not result.drain.failures
    assert len(_assets_with_key(rt_peer, _key(tamale, node.id))) == 1


def test_sync_killed_with_sigkill_mid_way_leaves_no_duplicate_asset(tmp_path, rt_peer):
    add_asset_catalog(rt_peer)
    data = tmp_path / "killed"
    with cli_laptop(data, rt_peer) as (ctx, env):
        site = save_site(ctx.db, "Korle Bu Teaching Hospital", actor="ama")
        for n in range(30):
            save_node(ctx.db, f"KB node {n}", f"KBNODE{n}", "127.0.0.1", 20000 + n,
                      site_id=site.id)
        args = [sys.executable, "-m", "pacs_console", "--data-dir", str(data), "sync"]
        rng, kills = random.Random(16), 0
        while kills < 5:
            child = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.5, 3.5))
            if child.poll() is not None:
                break
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            kills += 1
        assert kills >= 2, "the sync finished before it was killed"
        final = run_cli("sync", "--json", data_dir=data, env=env)
        body = json.loads(final.stdout)
        assert final.returncode == 0 and body["ok"], final.stdout + final.stderr
        rows = [r for r in inventory.assets(ctx.db) if r["origin"] == "local"]  # not the team's
        assert len(rows) == 30 and all(r["remote_id"] for r in rows)
        for row in rows:
            assert [int(a["id"]) for a in _assets_with_key(rt_peer, row["key"])] == \
                [int(row["remote_id"])]


def test_a_first_pull_adds_new_assets_in_bulk_and_still_judges_each_one(laptops, rt_peer):
    """A laptop's first pull takes the team's assets in one go (issue 21's pull target), yet
    an asset without a usable address is reported and skipped, a node of the same name at the
    same site is never overwritten (a conflict), and the next sync sends nothing back."""
    _, ho = laptops
    mine = _node(ho, "Wa imaging desk", "WAHOME", 21120)
    office = [("Wa CT", "WACT", "21121"), ("Wa MR", "WAMR", "21122"),
              ("Wa broken", "WABROKEN", ""), ("Wa imaging desk", "WAOFFICE", "21123")]
    with rt_peer.client() as client:
        catalog_id = client.get("/catalog/PACS%20Sites").json()["id"]
        for number, (name, ae, port) in enumerate(office):
            client.post("/asset", json={"Catalog": catalog_id, "Name": name, "CustomFields": {
                "AssetKey": f"00000000-0000-4000-a000-{number:012d}", "Site": SITE,
                "AETitle": ae, "Host": "127.0.0.1", "Port": port, "Role": "modality"}
            }).raise_for_status()
    try:
        result = run(helpdesk.sync_once(ho)).inventory
    finally:  # the session's helpdesk serves later tests: the unusable asset goes (retired)
        with rt_peer.client() as client:
            for asset in _assets_with_key(rt_peer, "00000000-0000-4000-a000-000000000002"):
                client.put(f"/asset/{asset['id']}", json={"Status": "deleted"})
    assert result.received >= 2, result.to_dict()
    assert (get_node(ho.db, "Wa CT").ae_title, get_node(ho.db, "Wa MR").port) == ("WACT", 21122)
    assert get_node(ho.db, "Wa broken") is None
    assert any("no usable AE title" in e["what"] for e in result.errors), result.errors
    assert get_node(ho.db, mine.id).ae_title == "WAHOME"  # the engineer's own entry stays
    assert result.conflicts >= 1 and any(
        c["helpdesk"]["ae_title"] == "WAOFFICE" for c in inventory_conflicts.conflicts(ho.db))
    count = len(list_nodes(ho.db))
    again = run(helpdesk.sync_once(ho)).inventory
    assert again.received == 0 and len(list_nodes(ho.db)) == count  # nothing added twice
