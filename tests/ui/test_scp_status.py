"""The status bar says when the Storage SCP lets any calling AE store (issue 15)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from pacs_console.ui.main_window import MainWindow


@pytest.mark.parametrize("accept_any", [False, True])
def test_starting_the_scp_shows_its_accept_policy(qtbot, ctx, accept_any):
    ctx.settings = replace(ctx.settings, scp_port=0, scp_bind="127.0.0.1",
                           scp_accept_any=accept_any)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    button = window.status.scp_button
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "listening" in button.text(), timeout=5000)
    assert ("accepts any calling AE" in button.text()) is accept_any
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "stopped" in button.text(), timeout=5000)
