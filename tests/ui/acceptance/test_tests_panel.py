"""Tests panel journeys on the demo PACS: echo, C-FIND at every level, retrieve, store, probe."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QPlainTextEdit,
    QProgressBar,
    QSpinBox,
    QTableView,
)

from tests.ui.acceptance.peers import SlowPeer
from tests.ui.acceptance.window import Console, fill_node


def _tab(console: Console, title: str, node: str = "Demo PACS"):
    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index(node))
    console.choose_tab(tests.tabs, title)
    return tests, tests.tabs.currentWidget()


def test_echo_once_then_continuously_until_stopped(console):
    tests, verify = _tab(console, "Verify")
    stats = console.find(name="echo-stats", parent=verify)
    console.click_button("C-ECHO once", verify)
    console.wait_text(stats, "1 sent, 1 OK, loss 0 %", 15)
    assert "round trip" in console.text(stats)
    log = console.find(QPlainTextEdit, parent=verify)
    console.wait_text(log, "Saved as test run", 5)
    assert "#1 OK" in console.text(log)
    assert verify.plot.isVisible() and verify.plot.points("C-ECHO round trip") == 1

    # Continuous: count 0 reads "until stopped", every 0.1 s; Stop ends it with statistics.
    count = console.find(name="echo-count", parent=verify)
    console.type_into(count, "0")
    console.key(count, Qt.Key.Key_Tab)
    assert console.text(count) == "until stopped"
    console.type_into(console.find(name="echo-interval", parent=verify), "0.1")
    console.click_button("Start continuous", verify)
    stop = console.button("Stop", verify)
    console.wait_for(lambda: stop.isEnabled(), 5, "Stop enabled")
    assert not console.button("C-ECHO once", verify).isEnabled()
    console.wait_for(lambda: verify.plot.points("C-ECHO round trip") >= 4, 20,
                     "four echoes plotted", observe=lambda: console.text(stats))
    console.click(stop)
    console.wait_text(stats, "round trip min", 15)
    text = console.text(stats)
    sent = int(text.split(" sent")[0])
    assert sent >= 4 and f"{sent} sent, {sent} OK, loss 0 %" in text, text
    console.wait_for(lambda: console.button("C-ECHO once", verify).isEnabled(), 5, "idle again")

    # Both runs are in the History tab of the node.
    console.choose_tab(tests.tabs, "History")
    history = tests.tabs.currentWidget()
    table = console.find(QTableView, parent=history)
    console.wait_for(lambda: len(console.rows(table)) >= 2, 10, "two runs in History",
                     observe=lambda: console.rows(table))
    assert {row[1] for row in console.rows(table)} == {"echo-series"}
    console.click_row(table, 0)
    details = console.find(QPlainTextEdit, parent=history)
    console.wait_text(details, "Kind: echo-series", 5)


def _search(console: Console, query, level: str) -> list[list[str]]:
    console.choose_combo(query.level_box, level)
    console.click_button("Search", query)
    status = console.find(name="query-status", parent=query)
    console.wait_for(lambda: console.button("Search", query).isEnabled()
                     and "match" in console.text(status).lower()
                     and "so far" not in console.text(status), 20,
                     f"the {level} search to finish", observe=lambda: console.text(status))
    return console.rows(console.find(QTableView, parent=query))


def test_c_find_at_patient_study_series_and_image_level(console):
    _tests, query = _tab(console, "Query")
    status = console.find(name="query-status", parent=query)
    # PATIENT level is not part of Study Root: the console says so and what to try.
    assert _search(console, query, "PATIENT") == []
    assert "0xA900" in console.text(status) and "What to try" in console.text(status)
    console.choose_combo(console.find(name="query-model", parent=query), "Patient Root")
    patients = _search(console, query, "PATIENT")
    assert len(patients) >= 2 and all(row[0] for row in patients)
    patient_id, patient_name = patients[0][0], patients[0][1]

    console.type_into(query.inputs["patient_id"], patient_id)
    studies = _search(console, query, "STUDY")
    assert studies and all(row[1] == patient_id for row in studies)
    assert all(row[2] == patient_name for row in studies)

    series = _search(console, query, "SERIES")
    assert series and all(row[4].startswith(("1.", "2.")) for row in series)  # Series UID column
    images = _search(console, query, "IMAGE")
    assert len(images) >= len(series)
    assert f"{len(images)} match" in console.text(status)

    # A wildcard on the name narrows the same way a person types it.
    console.type_into(query.inputs["patient_id"], "")
    console.type_into(query.inputs["name"], patient_name.split("^")[0][:3] + "*", enter=False)
    found = _search(console, query, "STUDY")
    assert found and all(row[2].startswith(patient_name[:3]) for row in found)


def test_c_find_cancel_sends_c_cancel_and_keeps_what_arrived(console):
    peer = SlowPeer(delay=0.02)
    try:
        tests = console.choose_nav("Tests")
        with console.dialogs(fill_node(name="Slow PACS", ae_title="SLOWPACS", host="127.0.0.2",
                                       port=peer.port)):
            console.click_button("Add", tests)
        console.wait_for(lambda: any(r[0] == "Slow PACS" for r in console.rows(tests.table)), 10,
                         "Slow PACS listed")
        _tests, query = _tab(console, "Query", node="Slow PACS")
        status = console.find(name="query-status", parent=query)
        console.click_button("Search", query)
        console.wait_text(status, "matches so far", 15)
        console.click_button("Cancel", query)
        console.wait_text(status, "Cancelled", 5)
        console.wait_for(lambda: console.button("Search", query).isEnabled(), 15,
                         "Search enabled again", observe=lambda: console.text(status))
        assert peer.cancelled.wait(10), "the peer never saw a C-CANCEL"
        shown = len(console.rows(console.find(QTableView, parent=query)))
        assert 0 < shown < 400
        assert not console.button("Cancel", query).isEnabled()
    finally:
        peer.stop()


def test_retrieve_a_study_after_the_pre_flight_check(console):
    tests, query = _tab(console, "Query")
    table = console.find(QTableView, parent=query)
    rows = _search(console, query, "STUDY")
    assert rows
    expected = int(rows[0][6])  # NumberOfStudyRelatedInstances, as the table shows it
    console.click_row(table, 0)
    console.click_button("Retrieve selected", query)
    retrieve = tests.tabs.currentWidget()
    assert tests.tabs.tabText(tests.tabs.currentIndex()) == "Retrieve"
    study_uid = console.text(retrieve.inputs["StudyInstanceUID"])
    assert study_uid and console.text(retrieve.level) == "STUDY"

    status = console.find(name="retrieve-status", parent=retrieve)
    console.click_button("Pre-flight check", retrieve)
    console.wait_text(status, "pre-flight passed", 20)
    log = console.find(QPlainTextEdit, parent=retrieve)
    assert "[OK]" in console.text(log) and "FAILED" not in console.text(log)

    console.click_button("Retrieve", retrieve)
    console.wait_text(status, f"{expected} completed, 0 failed", 30)
    progress = console.find(QProgressBar, parent=retrieve)
    assert progress.value() == progress.maximum() == expected
    assert f"{expected} of {expected}" in progress.text()
    # The pre-flight moved one image home as its test; the status bar counts every arrival.
    assert "test move of one image" in console.text(log)
    console.wait_for(lambda: f"{expected + 1} received" in console.status_text(), 10,
                     "the status bar counting the arrivals", observe=console.status_text)
    assert retrieve.plot.isVisible()


def test_store_a_generated_study_then_find_it(console):
    tests, store = _tab(console, "Store")
    console.type_into(console.find(name="store-generate", parent=store), "4")
    console.choose_combo(console.find(name="store-modality", parent=store), "MR")
    # RLE-compressed, over two associations at once (the demo takes both).
    compression = next(c for c in store.findChildren(QComboBox)
                       if c.isVisible() and c.itemText(0) == "uncompressed")
    console.choose_combo(compression, "RLE")
    parallel = next(s for s in store.findChildren(QSpinBox)
                    if s.isVisible() and s.objectName() != "store-generate")
    console.type_into(parallel, "2")
    console.click_button("Send", store)
    status = console.find(name="store-status", parent=store)
    console.wait_text(status, "C-STORE: 4 sent, 0 failed", 60)
    progress = console.find(QProgressBar, parent=store)
    assert progress.value() == progress.maximum() == 4

    console.choose_tab(tests.tabs, "Query")
    query = tests.tabs.currentWidget()
    console.type_into(query.inputs["modality"], "MR")
    rows = _search(console, query, "STUDY")
    assert any(row[6] == "4" for row in rows), rows


def test_probe_capabilities_lists_what_the_demo_accepts(console):
    tests, probe = _tab(console, "Capabilities")
    storage = console.find(QCheckBox, parent=probe)
    console.click(storage)  # without every storage class: quicker
    assert not storage.isChecked()
    console.click_button("Probe capabilities", probe)
    status = console.find(name="probe-status", parent=probe)
    console.wait_text(status, "SOP classes accepted", 60)
    table = console.find(QTableView, parent=probe) if probe.findChildren(QTableView) else None
    rows = console.rows(table)
    assert any("Verification" in " ".join(row) for row in rows), rows
    report = console.find(name="association-report", parent=probe)  # a table, not JSON
    assert any(row[1] == "AE title" for row in console.rows(report)), console.rows(report)
    console.wait_for(lambda: console.button("Probe capabilities", probe).isEnabled(), 10, "idle")


def test_full_probe_while_a_continuous_echo_runs_loses_nothing(console):
    """The demo serves the console's own workload: every storage class probed while echoes run
    back to back, and no echo lost."""
    tests, verify = _tab(console, "Verify")
    count = console.find(name="echo-count", parent=verify)
    console.type_into(count, "0")
    console.type_into(console.find(name="echo-interval", parent=verify), "0")
    console.click_button("Start continuous", verify)
    stats = console.find(name="echo-stats", parent=verify)
    console.wait_text(stats, " sent", 10)

    console.choose_tab(tests.tabs, "Capabilities")
    probe = tests.tabs.currentWidget()
    assert console.find(QCheckBox, parent=probe).isChecked()  # every storage class, the default
    console.click_button("Probe capabilities", probe)
    status = console.find(name="probe-status", parent=probe)
    console.wait_text(status, "SOP classes accepted", 120)
    assert "failed" not in console.text(status).lower(), console.text(status)
    accepted = int(console.text(status).split("Probe: ")[1].split(" of ")[0])
    assert accepted > 50

    console.choose_tab(tests.tabs, "Verify")
    console.click_button("Stop", verify)
    console.wait_text(stats, "round trip min", 15)
    text = console.text(stats)
    sent = int(text.split(" sent")[0])
    assert sent > 10 and f"{sent} sent, {sent} OK, loss 0 %" in text, text
