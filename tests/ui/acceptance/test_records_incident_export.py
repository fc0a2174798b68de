"""The incident log exported through Export CSV… and the save dialog: the file holds what the
list shows, and the window says where it went (the export runs off the GUI thread)."""

from __future__ import annotations

import csv

from PySide6.QtWidgets import QDialogButtonBox

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import Person
from tests.ui.acceptance.window import choose_file

pytestmark = records_support.OFFSCREEN_NOTES


def test_export_csv_through_the_save_dialog(person: Person, console, tmp_path):
    person.go_to("Incidents")
    person.press("New…")
    dialog = person.modal()
    person.type_into(person.field(dialog, "Title"), "Worklist broker not answering")
    person.click(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    person.no_modal()
    person.wait_text(person.labels, "Incident #1 created")

    target = tmp_path / "incidents.csv"
    with console.dialogs(choose_file(target)) as seen:
        person.press("Export CSV…")
    assert seen[0].title == "Export incidents"
    person.wait_text(person.labels, f"Exported to {target}")
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["id"], r["title"]) for r in rows] == [("1", "Worklist broker not answering")]
    assert person.button("Export CSV…").isEnabled()  # ready for the next export
