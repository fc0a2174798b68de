"""The incident list model asks for a page once, shows "Loading…" until it arrives, and drops a
page read before the rows or records changed. A unit test of ui/models/incidents.py with plain
records (no database, no window): the plumbing under the Incidents journeys."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt

from pacs_console.core.incidents.model import IncidentRecord
from pacs_console.ui.models.incidents import LOADING, PAGE, TITLE_COLUMN, IncidentTableModel


def _record(incident_id: int) -> IncidentRecord:
    now = datetime.now(UTC)
    return IncidentRecord(
        id=incident_id, uuid=f"u{incident_id}", title=f"Incident {incident_id}", description="",
        severity="high", category="network", status="new", hold_reason="", site_id=None,
        site_name="", nodes=(), reporter="", contact="", created_by="", reported_at=now,
        acknowledged_at=None, resolved_at=None, closed_at=None, response_due_at=now,
        clock_offset_s=0.0, device_utc_offset_min=0, source_test_run_id=None, created_at=now,
        updated_at=now)


def test_a_missing_page_is_asked_for_once_and_shown_when_added(qapp):
    model = IncidentTableModel()
    asked: list[int] = []
    model.pageWanted.connect(asked.append)
    model.set_ids(list(range(1, 3 * PAGE + 1)))
    title = model.index(2 * PAGE + 5, TITLE_COLUMN)
    assert model.data(title) == LOADING and model.data(title) == LOADING
    assert asked == [2]  # once, however often the view paints the row
    model.add_pages(model.epoch, {2: [_record(i) for i in model.page_ids(2)]})
    assert model.data(title) == f"Incident {2 * PAGE + 6}"
    assert model.data(model.index(0, TITLE_COLUMN)) == LOADING and asked == [2, 0]


def test_a_page_read_before_a_change_is_dropped(qapp):
    model = IncidentTableModel()
    model.set_ids([1, 2, 3])
    assert model.record(0) is None
    epoch = model.epoch
    model.invalidate()  # the records changed while the page was being read
    model.add_pages(epoch, {0: [_record(i) for i in (1, 2, 3)]})
    assert model.data(model.index(0, TITLE_COLUMN), Qt.ItemDataRole.DisplayRole) == LOADING
    model.add_pages(model.epoch, {0: [_record(i) for i in (1, 2, 3)]})
    assert model.record(2).title == "Incident 3"
