"""Discovery panel: a real sweep streams into the table, add to the address book, cancel, diff."""

from __future__ import annotations

import pytest

from pacs_console.core.db.nodes import list_nodes
from pacs_console.core.db.sweeps import list_sweeps
from pacs_console.core.settings import Settings
from pacs_console.ui.panels.discovery import DiscoveryPanel
from tests.core.discovery.lab import DCMTK_PORT, pynetdicom_scp, silent_listener
from tests.peers.net import addr, span

pytestmark = pytest.mark.peers


@pytest.fixture
def panel(qtbot, ctx):
    ctx.settings = Settings(scan_rate=2000, scan_timeout=1.0)
    widget = DiscoveryPanel(ctx)
    qtbot.addWidget(widget)
    widget.show()
    widget.web_ports.setText("")
    widget.dns_sd.setChecked(False)
    yield widget
    if widget.worker is not None:
        widget.worker.cancel()
        widget.worker.done.wait(5)


@pytest.fixture
def scps():
    servers = [pynetdicom_scp("PACS", addr(85), DCMTK_PORT, check_called=True),
               pynetdicom_scp("OPENSCP", addr(86), DCMTK_PORT, check_called=False)]
    yield
    for server in servers:
        server.shutdown()


def _sweep(qtbot, panel, rows: int) -> None:
    panel.start_button.click()
    qtbot.waitUntil(lambda: panel.worker is None and panel.start_button.isEnabled(), timeout=20000)
    assert panel.model.rowCount() == rows, panel.status.text()


def test_interfaces_fill_the_targets(panel):
    labels = [panel.interface.itemText(i) for i in range(panel.interface.count())]
    loopback = next(i for i, text in enumerate(labels) if "127.0.0.0/8" in text)
    panel.interface.setCurrentIndex(loopback)
    assert panel.targets.text() == "127.0.0.0/24"


def test_sweep_streams_rows_adds_a_node_and_shows_the_diff(qtbot, ctx, panel, scps):
    panel.targets.setText(span(84, 87))
    panel.ports.setText(str(DCMTK_PORT))
    panel.site.setEditText("Panel Hospital")
    _sweep(qtbot, panel, 2)
    assert "2 open ports, 2 DICOM nodes (1 accept any AE title)" in panel.status.text()
    assert panel.progress.value() == panel.progress.maximum() == 4
    rows = {panel.model.finding(r).host: r for r in range(2)}
    assert panel.model.index(rows[addr(85)], 3).data() == "PACS"
    assert "insecure" in panel.model.index(rows[addr(86)], 2).data()
    panel.table.selectRow(rows[addr(85)])
    assert panel.add_button.isEnabled() and "AE title PACS" in panel.details.toPlainText()
    panel.add_button.click()
    qtbot.waitUntil(lambda: "Added" in panel.status.text(), timeout=5000)
    (node,) = list_nodes(ctx.db)
    assert (node.ae_title, node.host, node.port) == ("PACS", addr(85), DCMTK_PORT)
    assert node.site_id is not None
    # A second sweep of the same site: the diff says nothing changed.
    _sweep(qtbot, panel, 2)
    assert "No change: 2 open ports" in panel.details.toPlainText()
    panel.show_inventory()
    qtbot.waitUntil(lambda: "Since the sweep of" in panel.details.toPlainText(), timeout=5000)
    assert len(list_sweeps(ctx.db, "Panel Hospital")) == 2


def test_capability_probe_of_a_found_node(qtbot, panel, scps):
    panel.targets.setText(addr(85))
    panel.ports.setText(str(DCMTK_PORT))
    _sweep(qtbot, panel, 1)
    panel.table.selectRow(0)
    assert panel.probe_button.isEnabled()
    panel.probe_button.click()
    qtbot.waitUntil(lambda: "SOP classes accepted" in panel.details.toPlainText(), timeout=20000)
    assert "verification" in panel.details.toPlainText()


def test_cancel_stops_promptly_and_saves_nothing(qtbot, ctx, panel):
    listeners = [silent_listener(addr(n), DCMTK_PORT) for n in range(90, 100)]
    try:
        ctx.settings = Settings(scan_rate=2000, scan_timeout=20.0)
        panel.targets.setText(span(90, 99))
        panel.ports.setText(str(DCMTK_PORT))
        panel.site.setEditText("Cancel Clinic")
        panel.start_button.click()
        qtbot.waitUntil(lambda: "10 open" in panel.status.text(), timeout=10000)
        panel.cancel_button.click()
        qtbot.waitUntil(lambda: panel.worker is None, timeout=3000)
        assert "Cancelled" in panel.status.text() and panel.start_button.isEnabled()
        assert list_sweeps(ctx.db) == []
    finally:
        for sock in listeners:
            sock.close()


def test_public_targets_need_confirmation(qtbot, panel):
    asked = []
    panel.confirm_public = lambda text: asked.append(text) or False
    panel.targets.setText("8.8.8.8")
    panel.start_button.click()
    assert asked and "outside private" in panel.status.text()
    assert panel.worker is None and panel.model.rowCount() == 0
    panel.targets.setText("10.0.0.0/8")
    panel.start_button.click()
    assert "/16" in panel.status.text()
