"""Every button of the Tests panel not used by the main journeys, each with what a person sees."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QTableView

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from tests.ui.acceptance.peers import SlowPeer
from tests.ui.acceptance.window import Console, choose_file, fill_node, press


def _select(console: Console, name: str):
    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index(name))
    return tests


def _add_slow_peer(console: Console, peer: SlowPeer) -> None:
    tests = console.choose_nav("Tests")
    with console.dialogs(fill_node(name="Slow PACS", ae_title=peer.ae_title, host=peer.host,
                                   port=peer.port)):
        console.click_button("Add", tests)
    console.wait_for(lambda: any(r[0] == "Slow PACS" for r in console.rows(tests.table)), 10,
                     "Slow PACS listed")


def test_ctrl_n_adds_a_node_and_query_results_export_to_csv(console, tmp_path):
    tests = _select(console, "Demo PACS")
    console.activate()
    with console.dialogs(press("Cancel")) as seen:
        console.key(tests.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert seen[0].title == "Add node"

    console.choose_tab(tests.tabs, "Query")
    query = tests.tabs.currentWidget()
    console.click_button("Search", query)
    console.wait_text(console.find(name="query-status", parent=query), "C-FIND:", 20)
    shown = console.rows(console.find(QTableView, parent=query))
    out = tmp_path / "matches.csv"
    with console.dialogs(choose_file(out)) as seen:
        console.click_button("Export CSV…", query)
    assert seen[0].title == "Export matches"
    # Written on a worker: the status line says where while it writes, then that it is done.
    status = console.find(name="query-status", parent=query)
    console.wait_text(status, f"Exported to {out}", 10)
    with open(out, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(shown)
    assert sorted(r["PatientID"] for r in rows) == sorted(row[1] for row in shown)


def test_retrieve_needs_a_key_and_a_c_get_can_be_cancelled(console):
    datasets = generate_study("CT", images=30, series=1, size=32, seed=11)
    peer = SlowPeer(datasets=datasets, delay=0.1)
    try:
        _add_slow_peer(console, peer)
        tests = _select(console, "Slow PACS")
        console.choose_tab(tests.tabs, "Retrieve")
        retrieve = tests.tabs.currentWidget()
        status = console.find(name="retrieve-status", parent=retrieve)
        console.click_button("Retrieve", retrieve)
        assert "Enter at least one identifying key" in console.text(status)

        console.choose_combo(console.find(name="retrieve-method", parent=retrieve),
                             "C-GET (no move destination needed)")
        console.type_into(retrieve.inputs["StudyInstanceUID"], str(datasets[0].StudyInstanceUID))
        console.click_button("Retrieve", retrieve)
        console.wait_text(status, "2 completed", 20)
        console.click_button("Cancel", retrieve)
        console.wait_text(status, "Cancelled after", 20)
        assert peer.cancelled.wait(10), "the peer never saw a C-CANCEL"
        console.wait_for(lambda: console.button("Retrieve", retrieve).isEnabled(), 5, "idle")
        assert not console.button("Cancel", retrieve).isEnabled()
    finally:
        peer.stop()


def test_store_files_and_folders_clear_send_and_cancel(console, tmp_path):
    files = write_study(generate_study("MR", images=40, series=1, size=32, seed=12),
                        tmp_path / "mr")
    peer = SlowPeer(delay=0.1)
    try:
        _add_slow_peer(console, peer)
        tests = _select(console, "Slow PACS")
        console.choose_tab(tests.tabs, "Store")
        store = tests.tabs.currentWidget()
        sources = console.find(QListWidget, parent=store)
        with console.dialogs(choose_file(files[0])) as seen:
            console.click_button("Add files…", store)
        assert seen[0].title == "DICOM files to send"
        console.wait_for(lambda: sources.count() == 1, 5, "the file listed")
        assert sources.item(0).text() == str(files[0])
        console.click_button("Clear", store)
        assert sources.count() == 0

        status = console.find(name="store-status", parent=store)
        console.click_button("Send", store)
        assert "Add files or a folder" in console.text(status)

        with console.dialogs(choose_file(tmp_path / "mr")):
            console.click_button("Add folder…", store)
        console.wait_for(lambda: sources.count() == 1, 5, "the folder listed")
        console.click_button("Send", store)
        console.wait_text(status, "2 of 40 sent", 20)
        console.click_button("Cancel", store)
        console.wait_text(status, "Cancelled after", 20)
        console.wait_for(lambda: console.button("Send", store).isEnabled(), 5, "idle")
        assert peer.stored < 40
    finally:
        peer.stop()


# A pynetdicom thread that dies (an FSM error) fails the test, not just a warning in the log.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_integration_buttons_hl7_dicomweb_and_the_modality_workflow(console):
    tests = _select(console, "Demo PACS")
    console.choose_tab(tests.tabs, "Integration")
    integration = tests.tabs.currentWidget()
    sections = integration.sections

    # HL7: a listener on a free port, a templated message sent to it, the ACK read back.
    console.choose_tab(sections, "HL7 v2 / MLLP")
    hl7 = sections.currentWidget()
    listen = console.find(name="hl7-listen-port", parent=hl7)
    console.type_into(listen, "0")
    console.click_button("Start listener", hl7)
    received = console.find(name="hl7-received", parent=hl7)
    console.wait_text(received, "Listening on port", 5)
    port = int(console.text(received).split("Listening on port ")[1].split(",")[0])
    console.type_into(console.find(name="hl7-port", parent=hl7), str(port))
    console.click_button("Fill from template (test patient)", hl7)
    assert console.text(console.find(name="hl7-message", parent=hl7)).startswith("MSH|")
    console.click_button("Send", hl7)
    result = console.find(name="hl7-result", parent=hl7)
    console.wait_text(result, "MSA-1 AA", 20)
    assert console.text(result).startswith("OK")
    console.wait_text(received, "-> AA", 10)
    # What the listener shows of the message has the patient's identity masked.
    assert "***" in console.text(received), console.text(received)
    console.click_button("Stop listener", hl7)
    assert console.button("Start listener", hl7)

    # DICOMweb against a closed port: the failure is named, the button comes back.
    console.choose_tab(sections, "DICOMweb")
    web = sections.currentWidget()
    console.type_into(console.find(name="dicomweb-url", parent=web), "http://127.0.0.9:9/dicom-web")
    console.click_button("Run", web)
    answer = console.find(name="dicomweb-result", parent=web)
    console.wait_for(lambda: console.text(answer) not in ("", "Running…")
                     and console.button("Run", web).isEnabled(), 30, "the DICOMweb answer",
                     observe=lambda: console.text(answer))
    assert "127.0.0.9" in console.text(answer) or "refused" in console.text(answer).lower()

    # Workflow: play the site on a free port, run the modality workflow against it.
    console.choose_tab(sections, "Modality workflow")
    flow = sections.currentWidget()
    console.type_into(console.find(name="site-scp-port", parent=flow), "0")
    console.click_button("Play the site (MWL, MPPS, commitment SCP)", flow)
    events = console.find(name="site-scp-events", parent=flow)
    console.wait_text(events, "listening on port", 5)
    site_port = int(console.text(events).split("listening on port ")[1].split()[0])
    ae = console.ctx.settings.ae_title
    for label in ("Worklist (MWL)", "MPPS", "Storage commitment"):
        console.type_into(console.field_for_label(flow, label), f"{ae}@127.0.0.1:{site_port}")
    console.click_button("Run the modality workflow", flow)
    steps = console.find(name="workflow-steps", parent=flow)
    console.wait_for(lambda: " test runs saved" in console.text(steps), 60, "the workflow result",
                     observe=lambda: console.text(steps))
    assert "PASSED in" in console.text(steps), console.text(steps)
    assert all(word in console.text(events) for word in ("mwl", "mpps-create", "mpps-set"))
    console.click_button("Stop the site SCP", flow)
    console.wait_for(lambda: console.button("Play the site (MWL, MPPS, commitment SCP)", flow),
                     5, "the site stopped")
