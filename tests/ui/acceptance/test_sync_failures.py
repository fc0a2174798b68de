"""A sync that fails names its cause; the failed item can be cancelled and retried, by the mouse.
(Replaces tests/ui/test_sync_panel.py's calls into the panel; configuring the helpdesk and a
sync that succeeds are in test_records_helpdesk.)"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QTableView

from pacs_console.core.incidents import service
from tests.ui.acceptance.window import Console

pytestmark = pytest.mark.peers


def _column(console: Console, table: QTableView, header: str) -> list[str]:
    model = table.model()
    column = next(c for c in range(model.columnCount())
                  if model.headerData(c, Qt.Orientation.Horizontal) == header)
    return [row[column] for row in console.rows(table)]


def test_a_wrong_queue_fails_with_its_cause_then_cancel_and_retry(console, rt_peer):
    panel = console.choose_nav("Sync")
    for label, value in (("URL", rt_peer.url), ("Queue", "Nope"), ("User", rt_peer.user),
                         ("API token", rt_peer.token)):
        console.type_into(console.field_for_label(panel, label), value)
    console.click_button("Save credentials", panel)
    service.create_incident(console.ctx.db, title="Wrong queue", severity="low")
    table = console.find(QTableView, "outbox-table", panel)
    console.wait_for(lambda: "Wrong queue" in _column(console, table, "What"), 10, "queued")
    sync_now = console.find(name="sync-now", parent=panel)
    console.wait_for(sync_now.isEnabled, 60, "no sync running")
    if "failed" not in _column(console, table, "State"):
        console.click(sync_now)
    console.wait_for(lambda: "failed" in _column(console, table, "State"), 60, "the failure",
                     observe=lambda: console.rows(table))
    message = console.find(QLabel, "sync-message", panel)
    console.wait_for(lambda: "queue" in console.text(message).lower(), 30, "the cause named",
                     observe=lambda: console.text(message))

    show = next(c for c in panel.findChildren(QComboBox) if c.isVisible() and c.findText("Failed") >= 0)
    console.choose_combo(show, "Failed")
    console.wait_for(lambda: _column(console, table, "State") == ["failed"], 10, "only failed")
    assert "Check the queue name" in _column(console, table, "Error")[0]
    console.click_row(table, 0)
    console.click_button("Cancel item", panel)
    console.choose_combo(show, "Cancelled")
    console.wait_for(lambda: _column(console, table, "State") == ["cancelled"], 10, "cancelled")
    console.click_row(table, 0)
    console.click_button("Retry", panel)
    console.choose_combo(show, "Pending")
    console.wait_for(lambda: _column(console, table, "What") == ["Wrong queue"], 10,
                     "pending again", observe=lambda: console.rows(table))
