"""The incident log stays in a person's hands on a long log: scrolling to a page not read yet
shows its rows once a worker has read them (never a frozen window), and a change made in the
detail (status, note) shows in the list and the detail once saved, or says plainly why not.
Throughout, the window's own thread runs no SQL (gui_thread.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPlainTextEdit, QTableView

from pacs_console.core.incidents import service
from tests.ui.acceptance.gui_thread import gui_thread_sql
from tests.ui.acceptance.window import Console

COUNT = 350  # four pages of 100: the list reads the pages in view, the rest when scrolled to


def _log(panel) -> QTableView:
    return next(t for t in panel.findChildren(QTableView) if t.isVisible() and any(
        t.model().headerData(c, Qt.Orientation.Horizontal) == "Title"
        for c in range(t.model().columnCount())))


def _titles_in_view(log: QTableView) -> list[str]:
    model = log.model()
    title = next(c for c in range(model.columnCount())
                 if model.headerData(c, Qt.Orientation.Horizontal) == "Title")
    top = log.rowAt(0)
    bottom = log.rowAt(log.viewport().height() - 1)
    bottom = model.rowCount() - 1 if bottom < 0 else bottom
    return [str(model.index(row, title).data()) for row in range(top, bottom + 1)]


def _labels(panel) -> str:
    return "\n".join(w.text() for w in panel.findChildren(QLabel) if w.isVisible())


def _timeline(panel) -> str:
    return next(e for e in panel.findChildren(QPlainTextEdit)
                if e.isVisible() and e.isReadOnly()).toPlainText()


def test_scrolling_to_page_three_shows_its_rows_read_off_the_gui_thread(console: Console):
    now = datetime.now(UTC)
    for n in range(COUNT):
        service.create_incident(console.ctx.db, title=f"Incident {n}", severity="medium",
                                reported_at=now - timedelta(minutes=n))
    with gui_thread_sql() as sql:
        panel = console.choose_nav("Incidents")
        log = _log(panel)
        console.wait_for(lambda: f"{COUNT} incident(s)" in _labels(panel), 15, "all listed",
                         observe=lambda: _labels(panel))
        console.wait_for(lambda: _titles_in_view(log)[0] == "Incident 0", 10, "the newest first",
                         observe=lambda: _titles_in_view(log)[:3])

        console.wheel(log.viewport(), -40)  # down a page or so with the mouse wheel
        console.wait_for(lambda: "Loading…" not in _titles_in_view(log), 10,
                         "the rows scrolled to", observe=lambda: _titles_in_view(log))
        shown = _titles_in_view(log)
        first = int(shown[0].split()[-1])
        assert first > 0 and shown == [f"Incident {first + i}" for i in range(len(shown))]

        console.click_row(log, log.rowAt(0))
        console.key(log, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # page 4's end
        console.wait_for(lambda: _titles_in_view(log)[-1] == f"Incident {COUNT - 1}", 10,
                         "the last incident", observe=lambda: _titles_in_view(log)[-3:])
        assert "Loading…" not in _titles_in_view(log)
        console.wait_for(lambda: f"#{COUNT} Incident {COUNT - 1}" in _labels(panel), 10,
                         "its detail", observe=lambda: _labels(panel))

        for _ in range(40):  # back up into page 3 (rows 200-299), a screenful at a time
            if log.rowAt(0) < 300:
                break
            console.key(log, Qt.Key.Key_PageUp)
        console.wait_for(lambda: "Loading…" not in _titles_in_view(log)
                         and any(200 <= int(t.split()[-1]) < 300 for t in _titles_in_view(log)),
                         10, "page 3's rows", observe=lambda: _titles_in_view(log))
    assert sql == [], "the GUI thread ran SQL:\n" + "\n".join(sql[:10])


def test_a_status_change_and_a_note_show_once_saved_and_a_refusal_says_why(console: Console):
    service.create_incident(console.ctx.db, title="Worklist empty", severity="high")
    with gui_thread_sql() as sql:
        panel = console.choose_nav("Incidents")
        log = _log(panel)
        console.wait_for(lambda: log.model().rowCount() == 1, 10, "the incident listed")
        console.click_row(log, 0)
        console.wait_for(lambda: "#1 Worklist empty" in _labels(panel), 10, "its detail")

        console.click_button("Resolved", panel)
        console.wait_for(lambda: "Now Resolved" in _labels(panel), 10, "the change confirmed",
                         observe=lambda: _labels(panel))
        # Resolved, it leaves the "Open" list (the detail stays); "All statuses" lists it.
        console.wait_for(lambda: "no longer matches the filters" in _labels(panel), 10,
                         "the list following the change", observe=lambda: _labels(panel))
        console.choose_combo(next(c for c in panel.findChildren(QComboBox) if c.isVisible()
                                  and c.count() > 1 and c.itemText(0) == "Open"), "All statuses")
        status = next(c for c in range(log.model().columnCount())
                      if log.model().headerData(c, Qt.Orientation.Horizontal) == "Status")
        console.wait_for(lambda: log.model().rowCount() == 1
                         and log.model().index(0, status).data() == "resolved", 10,
                         "resolved in the list", observe=lambda: console.rows(log))
        assert not console.button("Resolved", panel).isEnabled()  # nothing left to resolve
        console.wait_for(lambda: "resolved" in _timeline(panel).lower(), 10, "on the timeline")

        note = next(e for e in panel.findChildren(QLineEdit)
                    if e.isVisible() and e.placeholderText().startswith("Add a note"))
        before = _timeline(panel)
        console.type_into(note, "   ", enter=True)  # an empty note is refused, plainly
        console.wait_for(lambda: "note is empty" in _labels(panel).lower(), 10, "the refusal",
                         observe=lambda: _labels(panel))
        assert "Note added" not in _labels(panel) and _timeline(panel) == before

        console.type_into(note, "PACS worklist broker restarted", enter=True)
        console.wait_for(lambda: "Note added" in _labels(panel), 10, "the note confirmed")
        console.wait_for(lambda: "PACS worklist broker restarted" in _timeline(panel), 10,
                         "the note on the timeline", observe=lambda: _timeline(panel))
        assert console.text(note) == ""  # cleared only once saved
    assert sql == [], "the GUI thread ran SQL:\n" + "\n".join(sql[:10])
