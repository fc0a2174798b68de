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


def test_the_settings_dialog_edits_the_scp_doors(qtbot, ctx):
    from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QLabel, QLineEdit

    from pacs_console.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(ctx.settings)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    accept_any = dialog.findChild(QCheckBox, "scp_accept_any")
    bind = dialog.findChild(QLineEdit, "scp_bind")
    assert not accept_any.isChecked() and bind.text() == "0.0.0.0"
    bind.selectAll()
    QTest.keyClicks(bind, "laptop.local")
    assert not ok.isEnabled()
    message = dialog.findChild(QLabel, "scp_bind-message")
    assert message.isVisible() and "not an IP address" in message.text()
    bind.selectAll()
    QTest.keyClicks(bind, "192.0.2.10")
    QTest.mouseClick(accept_any, Qt.MouseButton.LeftButton)
    assert accept_any.isChecked() and ok.isEnabled()
    chosen = dialog.value()
    assert (chosen.scp_bind, chosen.scp_accept_any) == ("192.0.2.10", True)
