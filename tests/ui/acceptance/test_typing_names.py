"""Names as people write them: an engineer types "Abɛna Ɔwusu-Nkansa" (ɛ and Ɔ come from the
keyboard layout or input method, not from a key of their own) and sees it saved and shown."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QLabel, QLineEdit

NAME = "Abɛna Ɔwusu-Nkansa"


def test_an_engineer_types_a_ghanaian_name_and_sees_it_saved_and_shown(console):
    seen = {}

    def profile(dialog):
        field = dialog.find(QLineEdit, "engineer_name")
        dialog.type_into(field, NAME)
        seen["typed"] = console.text(field)
        dialog.click("OK")

    with console.dialogs(profile):
        console.menu("File", "Settings…")
    console.wait_for(lambda: "Settings saved." in console.status_text(), 10,
                     "the settings saved", observe=console.status_text)
    assert seen["typed"] == NAME  # every letter arrived, in order
    saved = json.loads(console.ctx.paths.settings_file.read_text(encoding="utf-8"))
    assert saved["engineer_name"] == NAME
    # Shown where a person reads who is on the visit.
    incidents = console.choose_nav("Incidents")
    tabs = incidents.findChildren(type(console.window.panels["Tests"].tabs))
    console.choose_tab(next(t for t in tabs if t.isVisible()), "Visits")
    engineer = console.wait_for(lambda: next(
        (label for label in incidents.findChildren(QLabel)
         if label.isVisible() and "Engineer:" in label.text()), None), 10, "the engineer line")
    console.wait_text(engineer, NAME)
