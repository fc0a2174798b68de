"""Closing the main window stops the relay: a running one (the port closes with the window) and
one still starting when the person closed it (it must not go on listening behind no window)."""

from __future__ import annotations

import socket

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton, QSpinBox

from tests.ui.acceptance.relay_support import (
    free_port,
    listening_port,
    open_relay,
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
        window, tab = open_relay(qtbot, ctx, up)
        QTest.mouseClick(tab.findChild(QPushButton, "relay-start"), Qt.MouseButton.LeftButton)
        port = listening_port(qtbot, tab)
        assert not refused(port)
        window.close()
        assert refused(port)

        # A person who clicks Start and closes the window at once: the relay that was starting
        # on a worker is stopped as soon as it has started.
        window, tab = open_relay(qtbot, ctx, up)
        port = free_port()
        type_into(tab.findChild(QSpinBox, "relay-port").lineEdit(), str(port))
        QTest.mouseClick(tab.findChild(QPushButton, "relay-start"), Qt.MouseButton.LeftButton)
        window.close()
        assert QThreadPool.globalInstance().waitForDone(10000)
        qtbot.wait(300)  # the worker's result reaches the GUI thread
        assert refused(port)
    finally:
        server.shutdown()

