"""The Relay tab used with the mouse and keyboard: give the PACS, start, let a modality
(DCMTK echoscu) talk through it, read the row and its timeline, stop, open the trace again."""

from __future__ import annotations

import re
import subprocess

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QPushButton

from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens
from tests.ui.acceptance.relay_support import (
    listening_port,
    open_relay,
    type_into,
    verification_scp,
)


def test_relay_tab_from_clicks(qtbot, ctx):
    server, up = verification_scp("WARD_WS")
    try:
        _, tab = open_relay(qtbot, ctx, up)
        start = tab.findChild(QPushButton, "relay-start")
        with gui_thread_opens() as opened:  # the trace file is opened by a worker
            QTest.mouseClick(start, Qt.MouseButton.LeftButton)
            port = listening_port(qtbot, tab)
        assert besides_known(opened) == [], opened
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

        type_into(tab.findChild(QLineEdit, "relay-capture"), trace)
        QTest.mouseClick(tab.findChild(QPushButton, "relay-open"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "1 conversation(s)" in tab.status.text(), timeout=20000)
        assert tab.table.rowCount() == 1
        assert tab.table.item(0, 1).text() == "CTSCANNER → WARD_WS"
    finally:
        server.shutdown()
