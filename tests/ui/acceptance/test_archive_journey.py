"""Archive integrity and DR comparison in the window, used with the mouse: the demo PACS and a real
Orthanc (one instance's file corrupted on disk, studies missing from the DR copy), and a slow
peer to press Cancel on."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTableWidget

from tests.core.dicom_ops.helpers import part10
from tests.ui.acceptance.peers import SlowPeer
from tests.ui.acceptance.window import Console, fill_node

pytestmark = pytest.mark.peers


def _archive_tab(console: Console, section: str):
    tests = console.choose_nav("Tests")
    console.choose_tab(tests.tabs, "Archive")
    archive = tests.tabs.currentWidget()
    console.choose_tab(archive.sections, section)
    return tests, archive.sections.currentWidget()


def _add_node(console: Console, name: str, ae: str, host: str, port: int) -> None:
    tests = console.choose_nav("Tests")
    with console.dialogs(fill_node(name=name, ae_title=ae, host=host, port=port)):
        console.click_button("Add", tests)
    console.wait_for(lambda: any(r[0] == name for r in console.rows(tests.table)), 10,
                     f"{name} listed")


def _compare(console: Console, primary: str, copy: str):
    """The DR comparison section with ``primary`` and its ``copy`` chosen and Compare pressed:
    the section and its status line."""
    _tests, compare = _archive_tab(console, "DR comparison")
    status = console.find(name="dr-compare-status", parent=compare)
    console.choose_combo(console.find(name="dr-primary", parent=compare), primary)
    console.choose_combo(console.find(name="dr-copy", parent=compare), copy)
    console.click_button("Compare", compare)
    return compare, status


def test_spot_check_of_the_demo_pacs_then_a_changed_instance_on_orthanc(console, orthanc,
                                                                        _seeded_archive):
    _tests, check = _archive_tab(console, "Integrity spot-check")
    status = console.find(name="archive-check-status", parent=check)
    table = console.find(name="archive-check-results", parent=check)
    assert console.text(console.find(name="archive-check-node", parent=check)) == "Demo PACS"
    console.type_into(console.find(name="archive-check-sample", parent=check), "3")
    console.click_button("Run spot-check", check)
    console.wait_text(status, "Saved in History", 120)
    assert "Demo PACS: PASS — 3 of 8 studies checked: 3 pass, 0 warn, 0 fail (studies 0.2 s " \
        "apart, 2 at once)." in console.text(status), console.text(status)
    rows = console.rows(table)
    assert len(rows) == 3 and {r[0] for r in rows} == {"PASS"}
    assert all(" received" in r[4] and "checksums recorded" in r[4] for r in rows)
    # Again over C-MOVE: the demo PACS moves each study to this console's receiving port. The
    # console's Storage SCP holds that port: the status says so; stopped, the check runs.
    console.choose_combo(console.find(name="archive-check-retrieve", parent=check), "C-MOVE")
    console.click_button("Run spot-check", check)
    console.wait_text(status, "Cannot receive the C-MOVE: port", 60)
    assert "stop the running Storage SCP" in console.text(status)
    scp = console.find(name="scp-state")
    console.click(scp)
    console.wait_text(scp, "Storage SCP: stopped", 5)
    # The engineer's politeness for this run: no spacing, three studies at once.
    console.type_into(console.find(name="archive-check-interval", parent=check), "0")
    console.type_into(console.find(name="archive-check-parallel", parent=check), "3")
    console.click_button("Run spot-check", check)
    console.wait_for(lambda: "Saved in History" in console.text(status)
                     and "3 of 8 studies checked" in console.text(status)
                     and console.button("Run spot-check", check).isEnabled(), 120,
                     "the C-MOVE spot-check", observe=lambda: console.text(status))
    assert "Demo PACS: PASS" in console.text(status), console.text(status)
    assert "(studies 0 s apart, 3 at once)" in console.text(status), console.text(status)
    rows = console.rows(table)
    assert len(rows) == 3 and {r[0] for r in rows} == {"PASS"}, rows
    console.click(scp)
    console.wait_text(scp, "Storage SCP: listening", 5)
    console.choose_combo(console.find(name="archive-check-retrieve", parent=check), "C-GET")

    for study in _seeded_archive[:3]:
        for ds in study:
            orthanc.upload(part10(ds))
    _add_node(console, "Orthanc archive", orthanc.aet, orthanc.host, orthanc.dicom_port)
    _tests, check = _archive_tab(console, "Integrity spot-check")
    console.choose_combo(console.find(name="archive-check-node", parent=check),
                         "Orthanc archive")
    console.click_button("Run spot-check", check)
    console.wait_text(status, "Orthanc archive: PASS — 3 of 3 studies", 120)
    sop = orthanc.corrupt_one_instance()
    console.click_button("Run spot-check", check)
    console.wait_text(status, "Orthanc archive: WARN — 3 of 3 studies checked: 2 pass, 0 warn, "
                              "1 fail (studies 0 s apart, 3 at once). Instances: 1 changed.",
                      120)
    first = console.rows(table)[0]
    assert first[0] == "FAIL" and "1 changed" in first[4]
    console.click_row(table, 0)
    details = console.text(console.find(name="archive-check-details", parent=check))
    assert "Changed (pixel checksum differs from the last check):" in details
    assert sop in details

    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)]
                      .index("Orthanc archive"))
    console.choose_tab(tests.tabs, "History")
    history = console.find(QTableWidget, parent=tests.tabs.currentWidget())
    console.wait_for(lambda: [r[1] for r in console.rows(history)].count("archive-check") == 2,
                     10, "both spot-checks of Orthanc in History")


def test_dr_comparison_demo_pacs_against_an_orthanc_copy_with_gaps(console, orthanc,
                                                                  _seeded_archive):
    replicated = _seeded_archive[1:]  # the first study never reached the DR copy
    for study in replicated[:-1]:
        for ds in study:
            orthanc.upload(part10(ds))
    orthanc.upload(part10(replicated[-1][0]))  # only one instance of the last study
    _add_node(console, "DR Orthanc", orthanc.aet, orthanc.host, orthanc.dicom_port)
    compare, status = _compare(console, "Demo PACS", "Demo PACS")
    assert "Choose two different archives" in console.text(status)

    console.choose_combo(console.find(name="dr-copy", parent=compare), "DR Orthanc")
    console.type_into(console.find(name="dr-from", parent=compare), "2024-01-01")
    console.click_button("Compare", compare)
    console.wait_text(status, "Saved in History", 60)
    text = console.text(status)
    assert text.startswith("FAIL — primary 8 studies, DR copy 7: 1 missing on the DR copy, "
                           "0 only on the DR copy, 1 count mismatches."), text
    assert "Replication gap: 1 studies" in text
    rows = console.rows(console.find(name="dr-findings", parent=compare))
    missing = str(_seeded_archive[0][0].StudyInstanceUID)
    partial = str(replicated[-1][0].StudyInstanceUID)
    assert ["Missing on DR", missing, "present", "absent"] in rows
    assert ["Count mismatch (instances)", partial, str(len(replicated[-1])), "1"] in rows


def test_dr_comparison_can_be_cancelled_while_listing(console):
    peer = SlowPeer(delay=0.1)
    try:
        _add_node(console, "Slow PACS", peer.ae_title, peer.host, peer.port)
        compare, status = _compare(console, "Slow PACS", "Demo PACS")
        console.wait_text(status, "Listing the studies of", 20)
        console.click_button("Cancel", compare)
        console.wait_text(status, "Cancelled: no result saved.", 20)
        assert peer.cancelled.wait(10), "the peer never saw a C-CANCEL"
        assert console.button("Compare", compare).isEnabled()
        assert not console.button("Cancel", compare).isEnabled()
    finally:
        peer.stop()
