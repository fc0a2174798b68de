"""The status bar at 1366×768: where secrets live, what the Storage SCP accepts, nothing cut off.

Replaces tests/ui/test_secrets_status.py and tests/ui/test_scp_status.py, which called the status
bar's methods and built the Settings dialog by hand.
"""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QCheckBox, QLabel

from tests.ui.acceptance.gui_thread import besides_known, gui_thread_opens, gui_thread_sql
from tests.ui.layout_probe import status_clipped


@pytest.fixture
def no_secure_keyring():
    """A laptop without a Secret Service: keyring's own "fail" backend (set before the window)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _bar(console):
    return console.window.statusBar()


def test_secure_keyring_is_named(console):
    label = console.find(QLabel, "secrets-state", _bar(console))
    console.wait_text(label, "Secrets: OS keyring")
    assert "MemoryKeyring" in label.toolTip()  # what hovering shows
    assert "keyring" not in console.status_text().split(" | ")[0].lower()  # no warning


def test_without_a_keyring_the_bar_says_so_in_full_and_nothing_is_clipped(no_secure_keyring,
                                                                           console):
    label = console.find(QLabel, "secrets-state", _bar(console))
    console.wait_text(label, "Secrets: this session only")
    assert "never written to a file" in label.toolTip()
    message = console.find(QLabel, "status-message", _bar(console))
    # At 1366 wide the warning reads whole beside the Storage SCP, demo, helpdesk, sync labels
    # (once the bar has laid itself out: the label is elided to whatever room it has).
    full = "No secure keyring: secrets stay in memory for this session only"
    console.wait_for(lambda: console.text(message) == full, 10, "the whole warning",
                     observe=lambda: (console.text(message), message.width()))
    assert message.toolTip() == full
    assert "Storage SCP: listening" in console.status_text()
    console.wait_for(lambda: status_clipped(_bar(console)) == [], 5, "nothing clipped",
                     observe=lambda: status_clipped(_bar(console)))


def test_the_storage_scp_says_when_it_accepts_any_calling_ae(console):
    """File > Settings…: the SCP's address is checked as typed; "accept any" shows in the bar
    once the SCP is restarted with a click, and the longer text still fits at 1366 wide."""
    button = console.find(name="scp-state", parent=_bar(console))
    assert "accepts any calling AE" not in console.text(button)

    def doors(dialog):
        bind = dialog.find(name="scp_bind")
        assert console.text(bind) == "0.0.0.0"
        console.type_into(bind, "laptop.local")
        message = dialog.find(QLabel, "scp_bind-message")
        assert "not an IP address" in console.text(message)
        assert not dialog.button("OK").isEnabled()
        console.type_into(bind, "127.0.0.1")
        accept_any = dialog.find(QCheckBox, "scp_accept_any")
        assert not accept_any.isChecked()
        console.click(accept_any)
        assert accept_any.isChecked()
        dialog.click("OK")

    with gui_thread_opens() as opened, gui_thread_sql() as sql:
        with console.dialogs(doors):
            console.menu("File", "Settings…")
        # Said once the worker has written the file: the certificate was read there too.
        console.wait_for(lambda: "Settings saved." in console.status_text(), 10,
                         "the settings saved", observe=console.status_text)
    assert besides_known(opened) == [] and sql == [], (opened, sql)
    console.click(button)
    console.wait_text(button, "Storage SCP: stopped", 5)
    console.click(button)
    console.wait_text(button, "Storage SCP: listening PACSCONSOLE:", 5)
    assert "accepts any calling AE" in console.text(button)
    assert '"scp_accept_any": true' in console.ctx.paths.settings_file.read_text()
    console.wait_for(lambda: status_clipped(_bar(console)) == [], 5, "nothing clipped",
                     observe=lambda: status_clipped(_bar(console)))
