"""The Relay tab used with the mouse and keyboard: give the PACS, start, let a modality
(DCMTK echoscu) talk through it, read the row and its timeline, stop, open the trace again."""

from __future__ import annotations

import re
import socket
import subprocess

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton, QSpinBox, QTabWidget

from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.ui.main_window import PANELS, MainWindow
from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens

VERIFICATION = "1.2.840.10008.1.1"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _type_into(widget, text: str) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
    QTest.keySequence(widget, QKeySequence.StandardKey.SelectAll)
    QTest.keyClicks(widget, text)


def open_window(qtbot, ctx) -> MainWindow:
    """The real main window at 1366x768, shown."""
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window


def relay_to(tab, port: int) -> None:
    """Type what a person types to relay from an OS-assigned loopback port to 127.0.0.1:PORT."""
    _type_into(tab.findChild(QSpinBox, "relay-port").lineEdit(), "0")
    _type_into(tab.findChild(QLineEdit, "relay-bind"), "127.0.0.1")
    _type_into(tab.findChild(QLineEdit, "relay-target"), f"127.0.0.1:{port}")


def test_relay_tab_from_clicks(qtbot, ctx):
    up = _port()
    ae = make_ae("WARD_WS", supported=[VERIFICATION])
    ae.require_called_aet = False
    server = ae.start_server(("127.0.0.1", up), block=False)
    window = open_window(qtbot, ctx)
    try:
        nav = window.nav
        QTest.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton,
                         pos=nav.visualItemRect(nav.item(PANELS.index("Tests"))).center())
        tabs = window.panels["Tests"].findChild(QTabWidget)
        bar = tabs.tabBar()
        index = next(i for i in range(bar.count()) if bar.tabText(i) == "Relay")
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
        tab = tabs.currentWidget()
        _type_into(tab.findChild(QSpinBox, "relay-port").lineEdit(), "0")
        _type_into(tab.findChild(QLineEdit, "relay-bind"), "127.0.0.1")
        _type_into(tab.findChild(QLineEdit, "relay-target"), f"127.0.0.1:{up}")
        start = tab.findChild(QPushButton, "relay-start")
        with gui_thread_opens() as opened:  # the trace file is opened by a worker
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: "Listening on 127.0.0.1:" in tab.status.text(),
                            timeout=10000)
        assert besides_known(opened) == [], opened
        port = int(re.search(r"Listening on 127\.0\.0\.1:(\d+)", tab.status.text())[1])
        trace = re.search(r"trace (\S+)", tab.status.text())[1]
        assert start.text() == "Stop relay"
        done = subprocess.run(["/usr/bin/echoscu", "-aet", "CTSCANNER", "-aec", "WARD_WS",
                               "127.0.0.1", str(port)], capture_output=True, timeout=30)
        assert done.returncode == 0
        qtbot.waitUntil(lambda: tab.table.rowCount() == 1, timeout=10000)
        assert [tab.table.item(0, c).text() for c in (1, 2, 3, 4)] == [
            "CTSCANNER → WARD_WS", "released", "1", "none"]
        QTest.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=tab.table.visualItemRect(tab.table.item(0, 1)).center())
        details = tab.details.toPlainText()
        assert "CTSCANNER -> WARD_WS" in details and "C-ECHO-RSP: status 0x0000" in details
        assert "A-RELEASE-RP" in details
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        assert start.text() == "Start relay" and "Relay stopped" in tab.status.text()

        _type_into(tab.findChild(QLineEdit, "relay-capture"), trace)
        QTest.mouseClick(tab.findChild(QPushButton, "relay-open"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "1 conversation(s)" in tab.status.text(), timeout=20000)
        assert tab.table.rowCount() == 1
        assert tab.table.item(0, 1).text() == "CTSCANNER → WARD_WS"
    finally:
        server.shutdown()
