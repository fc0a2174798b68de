"""Configure the helpdesk in the Sync panel and sync an incident to the real Request Tracker."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QLineEdit, QTableView

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import Person

pytestmark = records_support.OFFSCREEN_NOTES

TITLE = "Ultrasound cannot query the worklist"


def _column(person: Person, table: QTableView, header: str) -> list[str]:
    model = table.model()
    column = next(c for c in range(model.columnCount())
                  if model.headerData(c, Qt.Orientation.Horizontal) == header)
    return [row[column] for row in person.rows(table)]


def _pending(person: Person) -> int:
    """Items not at the helpdesk yet, as the header says it ('Not delivered N: …' or 'All
    delivered')."""
    found = re.search(r"Not delivered (\d+)", person.named("sync-counts", QLabel).text())
    return int(found.group(1)) if found else 0


def _new_incident(person: Person) -> None:
    person.go_to("Incidents")
    person.press("New…")
    dialog = person.modal()
    person.type_into(person.field(dialog, "Title"), TITLE)
    person.click(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok))
    person.no_modal()
    person.wait_text(person.labels, "Incident #1 created")


def test_configure_the_helpdesk_and_sync_an_incident(person: Person, rt_peer):
    person.go_to("Sync")
    panel = person.window.panels["Sync"]
    person.wait_text(lambda: person.named("sync-state", QLabel).text(), "not configured")
    for label, value in (("URL", rt_peer.url), ("Queue", rt_peer.queue),
                         ("User", rt_peer.user), ("API token", rt_peer.token)):
        person.type_into(person.field(panel, label), value)
    token = person.field(panel, "API token")
    assert isinstance(token, QLineEdit) and token.echoMode() == QLineEdit.EchoMode.Password
    person.press("Save credentials", panel)
    person.wait_text(lambda: person.labels(panel), "Helpdesk settings saved.")
    assert token.text() == ""  # the token is stored, never shown again
    # Asked of the keyring on a worker: it says so a moment after the save.
    person.wait_text(lambda: person.named("token-state", QLabel).text(), "Token stored")

    person.press("Test connection", panel)
    person.wait_text(lambda: person.named("sync-message", QLabel).text(), "Helpdesk ready",
                     timeout=60000)

    _new_incident(person)
    person.go_to("Sync")
    outbox = person.named("outbox-table", QTableView)
    person.qtbot.waitUntil(lambda: TITLE in _column(person, outbox, "What"), timeout=5000)
    sync_now = person.named("sync-now")
    person.qtbot.waitUntil(sync_now.isEnabled, timeout=60000)  # an automatic sync may run
    if _pending(person):
        person.click(sync_now)
    person.qtbot.waitUntil(lambda: _pending(person) == 0
                           and set(_column(person, outbox, "State")) == {"done"}, timeout=60000)
    person.qtbot.waitUntil(lambda: "Sync: 0 pending" in " ".join(
        label.text() for label in person.window.statusBar().findChildren(QLabel)), timeout=5000)
    subjects = [ticket.get("Subject") for ticket in rt_peer.all_tickets().values()]
    assert f"[HIGH] {TITLE}" in subjects, subjects
