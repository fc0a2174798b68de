"""--demo end to end in process: demo PACS listed, echoed from the Tests panel, C-MOVE lands locally."""

from __future__ import annotations

import socket

import pytest
from pydicom import Dataset
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove

from pacs_console.core.db.nodes import DEMO_NODE_NAME, list_nodes
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.settings import Settings
from pacs_console.ui.main_window import MainWindow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_window(qtbot, ctx):
    ctx.settings = Settings(scp_port=_free_port())
    demo = ctx.start_demo(port=0)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.demo_started(demo)
    return window, demo


def test_demo_is_listed_and_echoes_from_the_tests_panel(qtbot, ctx, demo_window):
    window, demo = demo_window
    nodes = [n for n in list_nodes(ctx.db) if n.name == DEMO_NODE_NAME]
    assert nodes and nodes[0].port == demo.port and nodes[0].ae_title == "DEMOPACS"
    panel = window.panels["Tests"]
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5000)
    panel.table.selectRow(0)
    panel.echo_selected()
    qtbot.waitUntil(lambda: "1 sent, 1 OK" in panel.verify.stats.text(), timeout=10000)
    qtbot.waitUntil(lambda: "Saved as test run" in panel.verify.log.toPlainText(), timeout=5000)
    assert panel.verify.plot.points("C-ECHO round trip") == 1
    assert f"DEMOPACS@127.0.0.1:{demo.port}" in window.status.demo_label.text()


def test_c_move_from_the_demo_lands_in_the_store_and_the_status_bar_counts_it(qtbot, ctx, demo_window):
    window, demo = demo_window
    window.status.toggle_scp()
    assert ctx.scp.running
    study_uid = str(demo.datasets[0].StudyInstanceUID)
    expected = sum(1 for ds in demo.datasets if str(ds.StudyInstanceUID) == study_uid)
    ae = make_ae("PACSCONSOLE", requested=[StudyRootQueryRetrieveInformationModelMove])
    assoc = ae.associate(demo.host, demo.port, ae_title="DEMOPACS")
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    final = None
    for status, _ in assoc.send_c_move(query, "PACSCONSOLE", StudyRootQueryRetrieveInformationModelMove):
        final = status
    assoc.release()
    assert final.Status == 0x0000 and int(final.NumberOfCompletedSuboperations) == expected
    assert len(list(ctx.paths.store.rglob("*.dcm"))) == expected
    qtbot.waitUntil(lambda: f"{expected} received" in window.status.scp_button.text(), timeout=5000)
