"""Site health in the window, used with the mouse: pick the site, run, read the grid, open a cell."""

from __future__ import annotations

import socket

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QTabWidget

from pacs_console.core.db.nodes import save_node
from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.core.incidents.sites import save_site
from pacs_console.ui.main_window import PANELS, MainWindow

VERIFICATION = "1.2.840.10008.1.1"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_grid_from_clicks(qtbot, ctx):
    up, down = _port(), _port()
    ae = make_ae("WARD_WS", supported=[VERIFICATION])
    ae.require_called_aet = False
    ae.maximum_associations = 32
    server = ae.start_server(("127.0.0.1", up), block=False)
    try:
        site = save_site(ctx.db, "Ho Teaching Hospital")
        save_node(ctx.db, "Ward workstation", "WARD_WS", "127.0.0.1", up, tags="workstation",
                  site_id=site.id)
        save_node(ctx.db, "Old CR", "OLDCR", "127.0.0.1", down, tags="modality", site_id=site.id)
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        nav = window.nav
        QTest.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton,
                         pos=nav.visualItemRect(nav.item(PANELS.index("Tests"))).center())
        tests = window.panels["Tests"]
        tabs = tests.findChild(QTabWidget)
        bar = tabs.tabBar()
        index = next(i for i in range(bar.count()) if bar.tabText(i) == "Site health")
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
        tab = tabs.currentWidget()
        qtbot.waitUntil(lambda: tab.site.currentText() == "Ho Teaching Hospital", timeout=10000)
        run = tab.findChild(QPushButton, "health-run")
        QTest.mouseClick(run, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.grid.rowCount() == 2, timeout=90000)
        headers = [tab.grid.verticalHeaderItem(r).text() for r in range(2)]
        assert headers == ["Old CR", "Ward workstation"]  # address-book order
        columns = [tab.grid.horizontalHeaderItem(c).text() for c in range(tab.grid.columnCount())]
        assert columns == ["Route", "C-ECHO", "Association"]
        assert [tab.grid.item(1, c).text() for c in range(3)] == ["PASS"] * 3
        assert [tab.grid.item(0, c).text() for c in range(3)] == ["FAIL"] * 3
        assert "WARN" in tab.status.text() and "1 fail" not in tab.status.text()
        cell = tab.grid.visualItemRect(tab.grid.item(0, 1)).center()
        QTest.mouseClick(tab.grid.viewport(), Qt.MouseButton.LeftButton, pos=cell)
        assert "Old CR — C-ECHO: FAIL" in tab.details.toPlainText()
        assert "try:" in tab.details.toPlainText()
    finally:
        server.shutdown()
