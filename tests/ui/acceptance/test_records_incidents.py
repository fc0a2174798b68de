"""An incident's life in the window: New…, acknowledge, a note, a test run as evidence, closed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
)

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import Person

pytestmark = records_support.OFFSCREEN_NOTES


def _log(person: Person) -> QTableView:
    return person.visible(person.window, QTableView, lambda t: any(
        t.model().headerData(c, Qt.Orientation.Horizontal) == "Title"
        for c in range(t.model().columnCount())))[0]


def _timeline(person: Person) -> str:
    return person.visible(person.window, QPlainTextEdit, lambda e: e.isReadOnly())[0].toPlainText()


def _echo_once(person: Person) -> None:
    """A test run to attach: the demo PACS answers a C-ECHO from the Tests panel."""
    person.pick_node("Demo PACS")
    person.tab(person.tab_widget_with("Verify"), "Verify")
    person.press("C-ECHO once")
    stats = person.named("echo-stats", QLabel)
    output = person.visible(person.tab_widget_with("Verify"), QPlainTextEdit)[0]
    person.wait_text(lambda: stats.text() + "\n" + output.toPlainText(), "1 sent, 1 OK",
                     timeout=30000)


def test_new_acknowledge_note_attach_run_and_close(person: Person):
    _echo_once(person)
    person.go_to("Incidents")
    person.press("New…")
    dialog = person.modal()
    assert dialog.windowTitle() == "New incident"
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # a title first
    person.type_into(person.field(dialog, "Title"), "CT cannot send to PACS")
    person.choose(person.field(dialog, "Severity"), "Critical")
    person.click(ok)
    person.no_modal()
    log = _log(person)
    person.qtbot.waitUntil(lambda: len(person.rows(log)) == 1, timeout=10000)
    row = person.rows(log)[0]
    assert "CT cannot send to PACS" in row and "Critical" in row and "new" in row
    person.wait_text(person.labels, "Incident #1 created")
    assert "#1 CT cannot send to PACS" in person.labels()

    person.press("→ Acknowledged")
    person.wait_text(lambda: person.rows(log)[0][2], "acknowledged")
    assert "Now Acknowledged" in person.labels()

    note = person.visible(person.window, QLineEdit,
                          lambda e: e.placeholderText().startswith("Add a note"))[0]
    person.type_into(note, "Switch port 12 was down; replaced the patch cable")
    person.key(note, Qt.Key.Key_Return)
    person.wait_text(lambda: _timeline(person), "replaced the patch cable")
    assert note.text() == "" and "Note added" in person.labels()

    person.press("Attach latest test run")
    person.wait_text(person.labels, "Latest test run attached")
    person.wait_text(lambda: _timeline(person), "echo")

    # "Next step" walks the process; its caption names the step it leads to.
    for _ in range(10):
        following = person.visible(person.window, QPushButton, lambda b: b.text().startswith(
            "→ ") or b.text() == "Closed")[0]
        if following.text() == "Closed":
            break
        before = following.text()
        person.click(following)
        # The next caption can show (the list saw the change) a moment before the save is
        # confirmed and the button answers again: a person waits for it, as here.
        person.qtbot.waitUntil(lambda b=before, f=following: f.text() != b and (
            f.isEnabled() or f.text() == "Closed"), timeout=10000)
    # Closed, it leaves the "Open" list while its detail stays; "All statuses" lists it closed.
    person.wait_text(person.labels, "<b>Closed</b>")
    person.choose(person.visible(person.window, QComboBox,
                                 lambda c: c.count() > 1 and c.itemText(0) == "Open")[0],
                  "All statuses")
    person.wait_text(lambda: (person.rows(log) or [["", "", ""]])[0][2], "closed")
    assert "<b>Closed</b>" in person.labels()
    assert not person.button("Closed").isEnabled()
