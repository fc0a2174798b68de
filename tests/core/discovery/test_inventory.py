"""Site inventory: sweeps saved per site, and the diff between the last two (pure and with peers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pacs_console.core.db.sweeps import (
    known_titles,
    list_sweeps,
    save_sweep,
    site_id_for,
    site_inventory_diff,
    sweep_findings,
)
from pacs_console.core.discovery import inventory
from pacs_console.core.discovery import models as m
from pacs_console.core.discovery.sweep import sweep
from pacs_console.core.discovery.targets import parse_targets
from tests.core.discovery.lab import DCMTK_PORT, pynetdicom_scp
from tests.peers.net import addr, span


def finding(host, port, verdict=m.CHECKS_AE, **values) -> m.Finding:
    return m.Finding(host, port, "http" if verdict in (m.DICOMWEB, m.HTTP) else "dicom",
                     verdict, **values)


def test_diff_names_every_kind_of_change():
    before = [
        finding("10.0.0.5", 104, ae_title="MAINPACS", implementation_version_name="V1"),
        finding("10.0.0.5", 2762, m.ANY_AE),
        finding("10.0.0.6", 104, ae_title="CT1"),
        finding("10.0.0.7", 104, ae_title="MR1"),
        finding("10.0.0.7", 8080, m.HTTP),
        finding("10.0.0.8", 104, m.ANY_AE),
        finding("10.0.0.9", 104, ae_title=""),  # title never learnt: not a change
    ]
    after = [
        finding("10.0.0.5", 104, ae_title="MAINPACS", implementation_version_name="V2"),
        finding("10.0.0.6", 104, ae_title="CT_ROOM1"),
        finding("10.0.0.7", 8080, m.DICOMWEB, dicomweb_url="http://10.0.0.7:8080/dicom-web"),
        finding("10.0.0.8", 104, m.CHECKS_AE),
        finding("10.0.0.9", 104, ae_title="US1"),
        finding("10.0.0.10", 2761, ae_title="ORTHANC"),
        finding("10.0.0.10", 8043, m.DICOMWEB, dicomweb_url="http://10.0.0.10:8043/dicom-web"),
    ]
    result = inventory.diff(before, after)
    kinds = [(c.kind, c.host, c.port) for c in result.changes]
    assert kinds == [
        ("new", "10.0.0.10", 2761),
        ("port-closed", "10.0.0.5", 2762),
        ("port-closed", "10.0.0.7", 104),
        ("ae-changed", "10.0.0.6", 104),
        ("version-changed", "10.0.0.5", 104),
        ("dicomweb-appeared", "10.0.0.7", 8080),
        ("dicomweb-appeared", "10.0.0.10", 8043),
        ("verdict-changed", "10.0.0.8", 104),
    ]
    assert result.unchanged == 1 and (result.before_count, result.after_count) == (7, 7)
    assert result.counts["port-closed"] == 2
    ae = result.of_kind("ae-changed")[0]
    assert (ae.before, ae.after) == ("CT1", "CT_ROOM1") and "CT1 -> CT_ROOM1" in ae.text
    gone = inventory.diff(before, [])
    assert {c.kind for c in gone.changes} == {"gone"} and len(gone.changes) == 7
    assert inventory.diff(after, after).text().startswith("No change")


def _sweep(targets: str) -> m.SweepResult:
    generator = sweep(parse_targets(targets),
                      m.SweepOptions(ports=(DCMTK_PORT,), web_ports=(), rate=2000, timeout=1.0))
    try:
        while True:
            next(generator)
    except StopIteration as stop:
        return stop.value


@pytest.mark.peers
def test_two_sweeps_with_a_peer_added_removed_and_upgraded(ctx):
    a, b, c = addr(51), addr(52), addr(53)
    servers = [pynetdicom_scp("UPGRADED", a, DCMTK_PORT, check_called=False, version="SCANNER_V1"),
               pynetdicom_scp("REMOVED", b, DCMTK_PORT, check_called=False)]
    try:
        first = _sweep(span(51, 53))
        servers[0].shutdown()
        servers[1].shutdown()
        servers = [pynetdicom_scp("UPGRADED", a, DCMTK_PORT, check_called=False, version="SCANNER_V2"),
                   pynetdicom_scp("ADDED", c, DCMTK_PORT, check_called=False)]
        second = _sweep(span(51, 53))
    finally:
        for server in servers:
            server.shutdown()
    site = site_id_for(ctx.db, "Ridge Hospital")
    assert site_inventory_diff(ctx.db, site) is None
    save_sweep(ctx.db, first, site_id=site, engineer="Ama")
    assert site_inventory_diff(ctx.db, site) is None  # nothing to compare yet
    saved = save_sweep(ctx.db, second, site_id=site, engineer="Ama")
    assert saved.site_name == "Ridge Hospital" and saved.finding_count == 2
    changes = site_inventory_diff(ctx.db, "Ridge Hospital")
    assert [(ch.kind, ch.host) for ch in changes.changes] == [
        ("new", c), ("gone", b), ("version-changed", a)]
    upgrade = changes.of_kind("version-changed")[0]
    assert "SCANNER_V1" in upgrade.before and "SCANNER_V2" in upgrade.after
    assert changes.sweeps["after"]["id"] == saved.id
    sweeps = list_sweeps(ctx.db, "Ridge Hospital")
    assert [s.id for s in sweeps] == [saved.id, saved.id - 1]
    assert sweeps[0].started_at.tzinfo is not None and sweeps[0].engineer == "Ama"
    stored = sweep_findings(ctx.db, saved.id)
    assert sorted(f.key for f in stored) == sorted(f.key for f in second.findings)
    assert stored[0] == next(f for f in second.findings if f.key == stored[0].key)


def test_known_titles_come_from_the_address_book_and_the_last_sweep(ctx):
    from pacs_console.core.db.nodes import save_node

    save_node(ctx.db, "Main PACS", "MAINPACS", "10.0.0.5", 104)
    site = site_id_for(ctx.db, "Ridge Hospital")
    result = m.SweepResult(parse_targets("10.0.0.5-6"), m.SweepOptions(), datetime.now(UTC),
                           1.0, 12, (finding("10.0.0.6", 104, ae_title="CT_ROOM1"),))
    save_sweep(ctx.db, result, site_id=site)
    known, titles = known_titles(ctx.db, "Ridge Hospital")
    assert known == {("10.0.0.6", 104): ("CT_ROOM1", "site-inventory"),
                     ("10.0.0.5", 104): ("MAINPACS", "address-book")}
    assert set(titles) == {"CT_ROOM1", "MAINPACS"}
    assert known_titles(ctx.db, "No Such Site")[0] == {
        ("10.0.0.5", 104): ("MAINPACS", "address-book")}
