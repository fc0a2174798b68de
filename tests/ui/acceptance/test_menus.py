"""Every menu item opened and closed: File > Settings…, Help > About, File > Quit; by mouse and keys."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.ui.acceptance.window import press


def test_settings_from_the_file_menu_validates_and_saves(console):
    def engineer(dialog):
        assert dialog.title == "Settings"
        ae = dialog.find(name="ae_title")
        console.type_into(ae, "WAY_TOO_LONG_AE_TITLE")
        message = dialog.find(name="ae_title-message")
        assert "16" in console.text(message)
        assert not dialog.button("OK").isEnabled()
        console.type_into(ae, "PACSCONSOLE")
        console.type_into(dialog.find(name="engineer_name"), "Ama Owusu")
        dialog.click("OK")

    with console.dialogs(engineer):
        console.menu("File", "Settings…")
    console.wait_for(lambda: "Settings saved." in console.status_text(), 10,
                     "the settings saved", observe=console.status_text)
    assert console.ctx.settings.profile.name == "Ama Owusu"
    assert '"engineer_name": "Ama Owusu"' in console.ctx.paths.settings_file.read_text()

    # Reopened with the keyboard (Alt+F, S) it shows what was saved; Cancel changes nothing.
    def shows_saved(dialog):
        assert console.text(dialog.find(name="engineer_name")) == "Ama Owusu"
        console.type_into(dialog.find(name="engineer_name"), "Someone Else")
        dialog.click("Cancel")

    with console.dialogs(shows_saved):
        console.menu_by_keys("F", "S")
    assert console.ctx.settings.profile.name == "Ama Owusu"
    assert "Storage SCP: listening" in console.status_text()


def test_about_then_quit(console):
    with console.dialogs(press("OK")) as seen:
        console.menu("Help", "About PACS Console")
    assert seen[0].title == "About PACS Console"
    assert "PACS Console" in seen[0].text and str(console.ctx.paths.data) in seen[0].text

    with console.dialogs(press("OK")) as seen:
        console.menu_by_keys("H", "A")
    assert seen[0].title == "About PACS Console"

    console.menu("File", "Quit")
    console.wait_for(lambda: not console.window.isVisible(), 5, "the window closed")
    assert QApplication.activeModalWidget() is None
    # What the window remembers for next time was written on the way out.
    assert console.ctx.paths.qt_state_file.exists()
