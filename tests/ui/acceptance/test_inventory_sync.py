"""The shared site inventory in the window: Sync now brings a colleague's node into the
address book, and a node changed on both sides shows in the Sync panel's conflicts with both
versions, against the real Request Tracker 5."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QListWidget

from pacs_console.core.db.nodes import get_node, save_node, update_node
from pacs_console.core.incidents.sites import save_site
from pacs_console.core.sync import helpdesk
from tests.core.sync.conftest import laptops_on, run
from tests.core.sync.rt_assets import add_asset_catalog
from tests.ui.acceptance.test_knowledge_conflicts import sync_now


def test_a_colleagues_node_arrives_and_a_conflict_shows_both_versions(console, rt_peer,
                                                                    tmp_path):
    add_asset_catalog(rt_peer)
    ctx = console.ctx
    with laptops_on(tmp_path, rt_peer, names=("ho",)) as (ho,):
        site = save_site(ho.db, "Ho Teaching Hospital", actor="kofi")
        made = save_node(ho.db, "Ho CT", "HOCT", "127.0.0.1", 10404, tags="modality",
                         site_id=site.id)
        assert run(helpdesk.sync_once(ho)).drain.delivered == 1
        helpdesk.save_config(ctx, helpdesk.load_config(ho), rt_peer.token)
        sync_now(console, "Delivered")
        console.wait_for(lambda: get_node(ctx.db, "Ho CT") is not None, 30,
                         "the colleague's node here")
        here = get_node(ctx.db, "Ho CT")
        assert "From the helpdesk" in here.notes and here.port == 10404
        tests = console.choose_nav("Tests")  # where a person looks for the site's nodes
        console.wait_for(lambda: any(r[0] == "Ho CT" for r in console.rows(tests.table)), 15,
                         "the node in the address book", observe=lambda: console.rows(
                             tests.table))

        update_node(ho.db, made.id, port=10405)
        assert run(helpdesk.sync_once(ho)).drain.delivered == 1
    update_node(ctx.db, here.id, ae_title="HOCT2")
    sync_now(console, "Delivered")
    conflicts = console.find(QListWidget, "sync-conflicts", console.panel("Sync"))
    line = console.wait_for(lambda: next((conflicts.item(i).text() for i in range(
        conflicts.count()) if conflicts.item(i).text().startswith("Node Ho CT")), None), 30,
        "the node's conflict listed")
    assert "here HOCT2@127.0.0.1:10404" in line and "on the helpdesk HOCT@127.0.0.1:10405" in line
    assert get_node(ctx.db, here.id).ae_title == "HOCT2"  # never overwritten

    # The engineer checks with the modality: the colleague's version is right. Take theirs.
    sync = console.panel("Sync")
    take = console.button("Take theirs", sync)
    assert not take.isEnabled()  # nothing chosen yet
    row = next(i for i in range(conflicts.count())
               if conflicts.item(i).text().startswith("Node Ho CT"))
    console.click(conflicts.viewport(), conflicts.visualItemRect(conflicts.item(row)).center())
    console.wait_for(take.isEnabled, 5, "Take theirs enabled for the node's conflict")
    console.click(take)
    message = console.find(QLabel, "sync-message", sync)
    console.wait_text(message, "the helpdesk's version (HOCT@127.0.0.1:10405) replaced yours", 30)
    console.wait_for(lambda: not any(conflicts.item(i).text().startswith("Node Ho CT")
                                     for i in range(conflicts.count())), 30,
                     "the conflict gone from the list")
    settled = get_node(ctx.db, here.id)
    assert (settled.ae_title, settled.port) == ("HOCT", 10405)
    sync_now(console, "Delivered")  # and nothing fails or goes back
    counts = console.find(QLabel, "sync-counts", sync)
    console.wait_text(counts, "All delivered", 30)
