"""Tests panel: address book editing, import/export, continuous echo with plot, stop, history."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from pacs_console.core.db.nodes import get_node, list_nodes, save_node
from pacs_console.core.db.testruns import list_test_runs
from pacs_console.core.dicom.servers.demo import DemoPacs
from pacs_console.ui.panels.tests import TestsPanel
from pacs_console.ui.widgets.node_dialog import NodeDialog


@pytest.fixture
def demo():
    pacs = DemoPacs(port=0).start()
    yield pacs
    pacs.stop()


@pytest.fixture
def panel(qtbot, ctx):
    widget = TestsPanel(ctx)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _load(qtbot, panel, rows):
    panel.refresh()
    qtbot.waitUntil(lambda: panel.table.rowCount() == rows, timeout=5000)


def test_node_dialog_validates_inline_and_checks_the_host(qtbot):
    dialog = NodeDialog(taken_names={"PACS"})
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.name.setText("PACS")
    dialog.ae_title.setText("orthanc")
    dialog.host.setText("127.0.0.1")
    assert "already" in dialog.message.text() and not ok.isEnabled()
    dialog.name.setText("Archive")
    assert ok.isEnabled() and "case-sensitively" in dialog.message.text()
    dialog.host.setText("no-such-host.invalid")
    dialog.check_and_accept()
    qtbot.waitUntil(lambda: "does not resolve" in dialog.message.text(), timeout=10000)
    assert dialog.result() == 0
    dialog.host.setText("127.0.0.1")
    with qtbot.waitSignal(dialog.accepted, timeout=10000):
        dialog.check_and_accept()
    assert dialog.values()["ae_title"] == "orthanc"


def test_import_then_export_round_trip(qtbot, ctx, panel, tmp_path):
    source = tmp_path / "dcmqrscp.cfg"
    source.write_text("HostTable BEGIN\nct1 = (CT_ONE, 127.0.0.21, 104)\n"
                      "mr1 = (MR_ONE, 127.0.0.22, 11120)\nHostTable END\n")
    panel.import_nodes(str(source))
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=10000)
    qtbot.waitUntil(lambda: getattr(panel, "last_import", None) is not None, timeout=5000)
    assert panel.last_import.applied and panel.last_import.count("taken") == 2
    assert get_node(ctx.db, "ct1").ae_title == "CT_ONE"
    out = tmp_path / "book.json"
    panel.export_nodes(str(out), "json")
    data = json.loads(out.read_text())
    assert [n["ae_title"] for n in data["nodes"]] == ["CT_ONE", "MR_ONE"]


def test_import_of_a_broken_file_says_why(qtbot, ctx, panel, tmp_path):
    bad = tmp_path / "book.csv"
    bad.write_text("foo,bar\n1,2\n")
    panel.import_nodes(str(bad))
    qtbot.waitUntil(lambda: getattr(panel, "import_box", None) is not None, timeout=10000)
    assert "columns" in panel.import_box.text() and "Nothing imported" in panel.import_box.text()
    assert panel.last_import.applied is False


def test_import_runs_off_the_gui_thread(qtbot, ctx, panel, tmp_path):
    """A 50,000-row CSV: the window keeps answering while it is read, validated and written."""
    import time

    from PySide6.QtWidgets import QApplication

    big = tmp_path / "big.csv"
    big.write_text("name,ae_title,host,port\n" + "".join(
        f"n{i},AE{i % 1000},127.0.0.1,{1 + i % 60000}\n" for i in range(50_000)))
    start = time.perf_counter()
    panel.import_nodes(str(big))
    assert not panel.import_worker.done.is_set()  # returned before the work: it is on a worker
    ticks = 0
    while getattr(panel, "last_import", None) is None and time.perf_counter() - start < 300:
        QApplication.processEvents()
        ticks += 1
        time.sleep(0.01)
    assert panel.last_import.applied and panel.last_import.count("taken") == 50_000
    assert ticks > 10  # the event loop ran while the import worked


def test_duplicate_and_delete(qtbot, ctx, panel, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    save_node(ctx.db, "Main PACS", "MAIN", "127.0.0.1", 104)
    _load(qtbot, panel, 1)
    panel.duplicate_node()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=5000)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    panel.select_node("Main PACS (copy)")
    panel.delete_node()
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)
    assert [n.name for n in list_nodes(ctx.db)] == ["Main PACS"]


def test_continuous_echo_plots_stops_and_saves_statistics(qtbot, ctx, panel, demo):
    save_node(ctx.db, "Demo", demo.ae_title, demo.host, demo.port)
    _load(qtbot, panel, 1)
    verify = panel.verify
    verify.interval.setValue(0.05)
    verify.start(None)  # until stopped
    qtbot.waitUntil(lambda: verify.plot.points("C-ECHO round trip") >= 3, timeout=10000)
    verify.stop()
    qtbot.waitUntil(lambda: not verify.running, timeout=10000)
    assert "loss 0 %" in verify.stats.text() and "median" in verify.stats.text()
    runs = list_test_runs(ctx.db, node_id=list_nodes(ctx.db)[0].id)
    assert runs and runs[0].kind == "echo-series" and runs[0].outcome == "ok"
    assert runs[0].metrics["sent"] >= 3
    qtbot.waitUntil(lambda: panel.history.table.rowCount() >= 1, timeout=5000)


def test_failed_echo_shows_the_diagnosis(qtbot, ctx, panel):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    save_node(ctx.db, "Down", "DOWN", "127.0.0.1", closed)
    _load(qtbot, panel, 1)
    panel.verify.start(1)
    qtbot.waitUntil(lambda: not panel.verify.running, timeout=10000)
    assert "refused" in panel.verify.log.toPlainText()
    assert "Last failure" in panel.verify.stats.text()


def test_query_streams_matches_into_the_table_and_exports(qtbot, ctx, panel, demo, tmp_path):
    save_node(ctx.db, "Demo", demo.ae_title, demo.host, demo.port)
    _load(qtbot, panel, 1)
    query = panel.operation_tabs["Query"]
    query.search()
    qtbot.waitUntil(lambda: query.worker is None, timeout=10000)
    assert query.results.rowCount() == 8
    assert "8 matches" in query.status.text()
    query.inputs["name"].setText("Agyeman*")
    query.search()
    qtbot.waitUntil(lambda: query.worker is None, timeout=10000)
    names = {row["PatientName"] for row in query.results.rows}
    assert names == {"Agyeman^Kwamɛ"}
    out = tmp_path / "m.csv"
    query.export_csv(str(out))
    assert "Agyeman^Kwamɛ" in out.read_text(encoding="utf-8")
    runs = list_test_runs(ctx.db, kind="find")
    assert len(runs) == 2 and runs[0].metrics["count"] == 2


def test_worklist_query_and_no_match_hint(qtbot, ctx, panel, demo):
    save_node(ctx.db, "Demo", demo.ae_title, demo.host, demo.port)
    _load(qtbot, panel, 1)
    query = panel.operation_tabs["Query"]
    query.model_box.setCurrentIndex(2)
    assert not query.level_box.isEnabled()
    query.search()
    qtbot.waitUntil(lambda: query.worker is None, timeout=10000)
    assert query.results.rowCount() >= 1 and "ScheduledStationAETitle" in query.results.columns
    query.model_box.setCurrentIndex(0)
    query.inputs["patient_id"].setText("NOBODY-HAS-THIS-ID")
    query.search()
    qtbot.waitUntil(lambda: query.worker is None, timeout=10000)
    assert query.results.rowCount() == 0 and "no matches" in query.status.text()


def _demo_with_console_scp(ctx):
    import socket

    from pacs_console.core.settings import Settings

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx.settings = Settings(scp_port=port)
    pacs = DemoPacs(port=0, resolve_destination=lambda ae: ("127.0.0.1", port)
                    if ae == "PACSCONSOLE" else None).start()
    return pacs


def test_query_then_retrieve_selected_with_move_and_get(qtbot, ctx, panel):
    pacs = _demo_with_console_scp(ctx)
    try:
        save_node(ctx.db, "Demo", pacs.ae_title, pacs.host, pacs.port)
        _load(qtbot, panel, 1)
        query = panel.operation_tabs["Query"]
        query.inputs["modality"].setText("MR")
        query.search()
        qtbot.waitUntil(lambda: query.worker is None, timeout=10000)
        query.view.selectRow(0)
        query._retrieve_selected()
        retrieve = panel.operation_tabs["Retrieve"]
        assert panel.tabs.currentWidget() is retrieve
        study = retrieve.inputs["StudyInstanceUID"].text()
        expected = sum(1 for ds in pacs.datasets if str(ds.StudyInstanceUID) == study)
        retrieve.start()
        qtbot.waitUntil(lambda: retrieve.worker is None, timeout=20000)
        assert f"{expected} completed, 0 failed" in retrieve.status.text()
        assert len(list(ctx.paths.store.rglob("*.dcm"))) == expected
        assert retrieve.plot.points("MB/s") >= 1
        retrieve.preflight()
        qtbot.waitUntil(lambda: "pre-flight" in retrieve.log.toPlainText(), timeout=20000)
        retrieve.method.setCurrentIndex(1)  # C-GET
        retrieve.start()
        qtbot.waitUntil(lambda: retrieve.worker is None, timeout=20000)
        assert "C-GET Success" in retrieve.status.text()
        kinds = [run.kind for run in list_test_runs(ctx.db)]
        assert {"find", "move", "get", "preflight"} <= set(kinds)
    finally:
        pacs.stop()


def test_store_a_generated_study_and_probe(qtbot, ctx, panel, demo):
    save_node(ctx.db, "Demo", demo.ae_title, demo.host, demo.port)
    _load(qtbot, panel, 1)
    before = len(demo.datasets)
    store = panel.operation_tabs["Store"]
    store.generate.setValue(12)
    store.compression.setCurrentIndex(1)  # RLE
    store.parallel.setValue(2)
    store.start()
    qtbot.waitUntil(lambda: store.worker is None, timeout=90000)
    assert "12 sent, 0 failed" in store.status.text()
    assert len(demo.datasets) == before + 12
    probe = panel.operation_tabs["Capabilities"]
    probe.storage.setChecked(False)
    probe.start()
    qtbot.waitUntil(lambda: probe.worker is None, timeout=90000)
    assert probe.table.rowCount() >= 5 and "accepted" in probe.status.text()
    report = [probe.association.item(r, 1).text() for r in range(probe.association.rowCount())]
    assert "Implementation" in report and "Verification SOP Class" in report
    assert get_node(ctx.db, "Demo").capabilities["accepted_count"] >= 5
