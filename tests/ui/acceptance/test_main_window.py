"""What the window keeps between starts, and what Settings shows about the signing certificate.
(Replaces tests/ui/test_main_window.py; navigation, status bar, menus and the settings form are
used by the other journeys.)"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tests.ui.acceptance.window import close_console, open_console


def test_the_last_panel_comes_back_after_quit(console):
    console.choose_nav("Incidents")
    console.menu("File", "Quit")
    console.wait_for(lambda: not console.window.isVisible(), 5, "the window closed")
    assert console.ctx.paths.qt_state_file.exists()
    close_console(console)
    again = open_console(console.data_dir, demo=False)
    # The fixture's teardown closes whatever window the console holds: now this one.
    console.window, console.ctx, console.demo = again.window, again.ctx, None
    again.wait_for(lambda: again.panel("Incidents").isVisible(), 5, "Incidents shown again")
    assert not again.panel("Tests").isVisible()

def test_settings_shows_the_signing_certificate_fingerprint(console, monkeypatch):
    from pacs_console.core.reports.certs import generate_certificate

    monkeypatch.setenv("PACS_CONSOLE_SIGNING_PASSPHRASE", "settings pass 1")
    info = generate_certificate(console.ctx.paths.data, console.ctx.secrets, "Ama Owusu",
                                "Akwaaba Imaging")
    seen = []

    def read(dialog) -> None:
        seen.append(console.text(dialog.find(QLabel, "signing-certificate")))
        dialog.click("Cancel")

    with console.dialogs(read):
        console.menu("File", "Settings…")
    assert "Ama Owusu, Akwaaba Imaging" in seen[0] and info.fingerprint_sha256 in seen[0]
