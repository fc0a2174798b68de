"""What the Relay tab's journeys share: a free loopback port, typing into a field, the main
window shown, the Relay tab opened by clicks and aimed at a PACS, the port it listens on once
started, and a Verification SCP to stand for the PACS."""

from __future__ import annotations

import re
import socket

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QSpinBox, QTabWidget

from pacs_console.core.dicom.wire.ae import make_ae
from pacs_console.ui.main_window import PANELS, MainWindow

VERIFICATION = "1.2.840.10008.1.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def verification_scp(ae_title: str):
    """A Verification SCP on a free loopback port answering whatever AE title is called:
    (the server, its port); ``shutdown()`` it after the test."""
    port = free_port()
    ae = make_ae(ae_title, supported=[VERIFICATION])
    ae.require_called_aet = False
    return ae.start_server(("127.0.0.1", port), block=False), port


def type_into(widget, text: str) -> None:
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


def relay_tab(window):
    """Tests in the navigation, then the Relay tab, clicked."""
    nav = window.nav
    QTest.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton,
                     pos=nav.visualItemRect(nav.item(PANELS.index("Tests"))).center())
    tabs = window.panels["Tests"].findChild(QTabWidget)
    bar = tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Relay")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    return tabs.currentWidget()


def relay_to(tab, port: int) -> None:
    """Type what a person types to relay from an OS-assigned loopback port to 127.0.0.1:PORT."""
    type_into(tab.findChild(QSpinBox, "relay-port").lineEdit(), "0")
    type_into(tab.findChild(QLineEdit, "relay-bind"), "127.0.0.1")
    type_into(tab.findChild(QLineEdit, "relay-target"), f"127.0.0.1:{port}")


def open_relay(qtbot, ctx, pacs_port: int):
    """The main window shown, its Relay tab opened by clicks and aimed at 127.0.0.1:PACS_PORT:
    (window, tab)."""
    window = open_window(qtbot, ctx)
    tab = relay_tab(window)
    relay_to(tab, pacs_port)
    return window, tab


def listening_port(qtbot, tab) -> int:
    """Wait until the status line says the started relay listens; the port it names."""
    qtbot.waitUntil(lambda: "Listening on 127.0.0.1:" in tab.status.text(), timeout=10000)
    return int(re.search(r"Listening on 127\.0\.0\.1:(\d+)", tab.status.text())[1])
