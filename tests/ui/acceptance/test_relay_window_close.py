"""Closing the main window stops the relay: a running one (the port closes with the window) and
one still starting when the person closed it (it must not go on listening behind no window)."""

from __future__ import annotations

import re
import socket

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QSpinBox

from tests.ui.acceptance.relay_support import (
    free_port,
    open_window,
    relay_tab,
    relay_to,
    type_into,
    verification_scp,
)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_closing_the_window_stops_a_running_and_a_starting_relay(qtbot, ctx):
    server, up = verification_scp("WARD_WS")
    try:
        window = open_window(qtbot, ctx)
        tab = relay_tab(window)
        relay_to(tab, up)
        QTest.mouseClick(tab.findChild(QPushButton, "relay-start"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Listening on 127.0.0.1:" in tab.status.text(), timeout=10000)
        port = int(re.search(r"Listening on 127\.0\.0\.1:(\d+)", tab.status.text())[1])
        assert not refused(port)
        window.close()
        assert refused(port)

        # A person who clicks Start and closes the window at once: the relay that was starting
        # on a worker is stopped as soon as it has started.
        window = open_window(qtbot, ctx)
        tab = relay_tab(window)
        relay_to(tab, up)
        port = free_port()
        type_into(tab.findChild(QSpinBox, "relay-port").lineEdit(), str(port))
        QTest.mouseClick(tab.findChild(QPushButton, "relay-start"), Qt.MouseButton.LeftButton)
        window.close()
        assert QThreadPool.globalInstance().waitForDone(10000)
        qtbot.wait(300)  # the worker's result reaches the GUI thread
        assert refused(port)
    finally:
        server.shutdown()

