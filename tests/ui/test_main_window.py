"""The main window: navigation, panels, status bar, menus, remembered state, settings dialog."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from pacs_console.core.context import Context
from pacs_console.core.db.nodes import save_node
from pacs_console.ui.main_window import PANELS, MainWindow
from pacs_console.ui.panels.coming import ComingPanel
from pacs_console.ui.settings_dialog import SettingsDialog


@pytest.fixture
def window(qtbot, ctx):
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_navigation_switches_panels(window):
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == list(PANELS)
    for name in PANELS:
        window.nav.setCurrentRow(PANELS.index(name))
        assert window.stack.currentWidget() is window.panels[name]
    coming = [p for p in window.panels.values() if isinstance(p, ComingPanel)]
    assert all("not built yet" in p.findChildren(type(window.status.demo_label))[-1].text()
               for p in coming)


def test_status_bar_shows_scp_connectivity_and_pending(window):
    assert "Storage SCP: stopped" in window.status.scp_button.text()
    assert window.status.connectivity_label.text().startswith("Helpdesk:")
    assert window.status.pending_label.text() == "Sync: 0 pending"
    window.status.set_pending(3)
    assert window.status.pending_label.text() == "Sync: 3 not delivered"


def test_menus_have_settings_about_and_quit(window):
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles == ["&File", "&Help"]
    assert window.settings_action.text().startswith("&Settings")
    assert window.quit_action.text() == "&Quit"


def test_address_book_loads_nodes_from_core(qtbot, ctx, window):
    save_node(ctx.db, "Korle Bu PACS", "KBTHPACS", "127.0.0.1", 4243)
    tests = window.panels["Tests"]
    tests.refresh()
    qtbot.waitUntil(lambda: tests.table.rowCount() == 1, timeout=5000)
    assert tests.table.item(0, 1).text() == "KBTHPACS"


def test_geometry_and_last_panel_survive_a_restart(qtbot, paths, window):
    window.resize(760, 560)  # inside the offscreen screen (800x600)
    expected = (window.width(), window.height())
    window.show_panel("Incidents")
    window.close()
    ctx2 = Context.open(paths)
    try:
        again = MainWindow(ctx2)
        qtbot.addWidget(again)
        again.show()
        qtbot.waitExposed(again)
        assert again.current_panel() == "Incidents"
        assert (again.width(), again.height()) == expected
    finally:
        ctx2.close()


def test_scp_toggle_from_the_status_bar(qtbot, ctx, window):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    ctx.save_settings(ctx.settings.__class__(scp_port=free))
    window.status.toggle_scp()
    assert ctx.scp.running and f":{free}" in window.status.scp_button.text()
    window.status.toggle_scp()
    assert not ctx.scp.running and "stopped" in window.status.scp_button.text()


def test_settings_dialog_validates_inline(qtbot, ctx):
    dialog = SettingsDialog(ctx.settings)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()
    dialog.editors["ae_title"].setText("WAY_TOO_LONG_AE_TITLE")
    assert not ok.isEnabled()
    assert "16" in dialog.messages["ae_title"].text() and not dialog.messages["ae_title"].isHidden()
    dialog.editors["ae_title"].setText("laptop")
    assert ok.isEnabled() and "case" in dialog.messages["ae_title"].text()
    dialog.editors["ae_title"].setText("LAPTOP01")
    assert dialog.messages["ae_title"].isHidden()
    assert dialog.value().ae_title == "LAPTOP01"


# Offscreen Qt cannot raise a popup menu or grab the keyboard for it; the click still works.
@pytest.mark.qt_log_ignore("This plugin does not support")
def test_settings_shows_the_signing_certificate_fingerprint(qtbot, ctx, window, monkeypatch):
    """Opened from the File menu with the mouse, the dialog names the certificate's holder
    and its SHA-256 fingerprint (the one `report verify` and the hospital compare)."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLabel

    from pacs_console.core.reports.certs import generate_certificate

    monkeypatch.setenv("PACS_CONSOLE_SIGNING_PASSPHRASE", "settings pass 1")
    info = generate_certificate(ctx.paths.data, ctx.secrets, "Ama Owusu", "Akwaaba Imaging")
    seen = []

    def read_and_close():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SettingsDialog):
            QTimer.singleShot(50, read_and_close)
            return
        seen.append(dialog.findChild(QLabel, "signing-certificate").text())
        dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()

    QTimer.singleShot(50, read_and_close)
    menu_bar = window.menuBar()
    file_menu = window.menuBar().actions()[0]
    QTest.mouseClick(menu_bar, Qt.MouseButton.LeftButton,
                     pos=menu_bar.actionGeometry(file_menu).center())
    menu = file_menu.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton,
                     pos=menu.actionGeometry(window.settings_action).center())
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    assert "Ama Owusu, Akwaaba Imaging" in seen[0] and info.fingerprint_sha256 in seen[0]
