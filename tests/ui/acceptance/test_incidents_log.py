"""The incident log used with the mouse and keys: filters, search, sorting and SLA badges on a
long log; on hold needs a reason; a file attached; CSV export; the audit check finding
tampering; a new incident drafted from a failed test. (Replaces tests/ui/test_incidents_panel.py,
which called the panel's methods.)"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPlainTextEdit, QTableView

from pacs_console.core.incidents import service, sites
from tests.ui.acceptance.window import Console, choose_file, fill_node, free_port

SEVERITIES = ("Critical", "High", "Medium", "Low")


def _log(console: Console, panel) -> QTableView:
    return next(t for t in panel.findChildren(QTableView) if t.isVisible() and any(
        t.model().headerData(c, Qt.Orientation.Horizontal) == "Title"
        for c in range(t.model().columnCount())))


def _column(console: Console, table: QTableView, name: str) -> list[str]:
    model = table.model()
    index = next(c for c in range(model.columnCount())
                 if model.headerData(c, Qt.Orientation.Horizontal) == name)
    return [row[index] for row in console.rows(table)]


def _combo(panel, first_item: str) -> QComboBox:
    return next(c for c in panel.findChildren(QComboBox) if c.isVisible() and c.count()
                and c.itemText(0) == first_item)


def _labels(panel) -> str:
    return "\n".join(w.text() for w in panel.findChildren(QLabel) if w.isVisible())


def _timeline(panel) -> str:
    return next(e for e in panel.findChildren(QPlainTextEdit)
                if e.isVisible() and e.isReadOnly()).toPlainText()


def test_filters_search_sorting_and_sla_badges_of_a_long_log(console):
    db = console.ctx.db
    sites.save_site(db, "Korle Bu", region="Greater Accra")
    now = datetime.now(UTC)
    made = [service.create_incident(db, title=f"Incident {n}", severity=severity.lower(),
                                    site="Korle Bu", reported_at=now - timedelta(minutes=n))
            for n, severity in enumerate(SEVERITIES * 10)]
    service.add_note(db, made[7].id, "Modality worklist broker restarted")
    panel = console.choose_nav("Incidents")
    log = _log(console, panel)
    console.wait_for(lambda: len(console.rows(log)) == 40, 10, "the 40 open incidents",
                     observe=lambda: len(console.rows(log)))
    assert _column(console, log, "Title")[0] == "Incident 0"  # newest first
    badges = _column(console, log, "SLA")
    assert all(b.startswith(("running", "due-soon", "breached")) for b in badges), badges[:4]

    severity = _combo(panel, "All severities")
    console.choose_combo(severity, "Critical")
    console.wait_for(lambda: set(_column(console, log, "Severity")) == {"Critical"}
                     and len(console.rows(log)) == 10, 10, "only the critical ones")
    console.choose_combo(severity, "All severities")
    console.wait_for(lambda: len(console.rows(log)) == 40, 10, "all again")

    search = next(e for e in panel.findChildren(QLineEdit)
                  if e.isVisible() and e.placeholderText().startswith("Search title"))
    console.type_into(search, "worklist broker")  # found in a note, not the title
    console.wait_for(lambda: _column(console, log, "Title") == ["Incident 7"], 10,
                     "the incident whose note matches",
                     observe=lambda: _column(console, log, "Title"))
    console.type_into(search, "")
    status = _combo(panel, "Open")
    console.choose_combo(status, "Closed")
    console.wait_for(lambda: console.rows(log) == [], 10, "no closed incident")
    assert "0 incident(s)" in _labels(panel)
    console.choose_combo(status, "Open")
    console.wait_for(lambda: len(console.rows(log)) == 40, 10, "open again")

    # A click on the Severity header groups them by severity (a second click turns it round).
    header = log.horizontalHeader()
    column = next(c for c in range(log.model().columnCount())
                  if log.model().headerData(c, Qt.Orientation.Horizontal) == "Severity")
    for _ in range(2):
        console.click(header.viewport(), QPoint(
            header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
            header.height() // 2))
        console.wait_for(lambda: _column(console, log, "Severity")[:10] in (["Critical"] * 10,
                                                                            ["Low"] * 10), 10,
                         "grouped by severity", observe=lambda: _column(console, log, "Severity"))
        shown = _column(console, log, "Severity")
        assert shown == sorted(shown, key=SEVERITIES.index) or \
            shown == sorted(shown, key=SEVERITIES.index, reverse=True), shown


def _answer(text: str):
    """Handler for a one-line question (QInputDialog): type the answer, OK."""
    def handler(dialog) -> None:
        dialog.type_into(dialog.find(QLineEdit), text)
        dialog.click("OK")
    return handler


def test_hold_needs_a_reason_attach_export_and_audit(console, tmp_path):
    record = service.create_incident(console.ctx.db, title="Router flapping", severity="high")
    panel = console.choose_nav("Incidents")
    log = _log(console, panel)
    console.wait_for(lambda: len(console.rows(log)) == 1, 10, "the incident listed")
    console.click_row(log, 0)
    console.wait_for(lambda: "#1 Router flapping" in _labels(panel), 5, "its detail")

    console.key(log, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # next step
    console.wait_for(lambda: _column(console, log, "Status") == ["acknowledged"], 10,
                     "acknowledged by Ctrl+Enter", observe=lambda: console.rows(log))

    with console.dialogs(_answer("")):
        console.click_button("On hold…", panel)
    console.wait_for(lambda: "needs a reason" in _labels(panel), 5, "the refusal",
                     observe=lambda: _labels(panel))
    with console.dialogs(_answer("waiting for vendor")):
        console.click_button("On hold…", panel)
    console.wait_for(lambda: "on hold: waiting for vendor" in _labels(panel), 5, "on hold")

    shot = tmp_path / "screen.png"
    shot.write_bytes(b"\x89PNG screenshot of the error")
    with console.dialogs(choose_file(shot)) as seen:
        console.click_button("Attach file…", panel)
    assert seen[0].title == "Attach file"
    console.wait_for(lambda: "Attached screen.png" in _timeline(panel), 10, "the attachment")

    out = tmp_path / "incidents.csv"
    with console.dialogs(choose_file(out)) as seen:
        console.click_button("Export CSV…", panel)
    assert seen[0].title == "Export incidents"
    lines = console.wait_for(lambda: out.exists() and out.read_text().splitlines(), 5, "the CSV")
    assert lines[0].startswith("id,uuid,title") and len(lines) == 2 and "Router flapping" in lines[1]

    verify = console.button("Verify audit", panel)
    console.click(verify)
    console.wait_for(lambda: "intact" in _labels(panel) and verify.isEnabled(), 15, "intact")
    with sqlite3.connect(console.ctx.db.path) as con:  # someone edits the database behind it
        con.execute("UPDATE incident SET title = 'edited' WHERE id = ?", (record.id,))
    con.close()
    console.click(verify)
    console.wait_for(lambda: "TAMPERING FOUND" in _labels(panel), 15, "the tampering named",
                     observe=lambda: _labels(panel))
    assert f"incident {record.id}" in _labels(panel)


def test_a_failed_echo_drafts_the_new_incident(console):
    tests = console.choose_nav("Tests")
    with console.dialogs(fill_node(name="CT scanner", ae_title="CT01", host="127.0.0.1",
                                   port=free_port())):  # nothing listens there
        console.click_button("Add", tests)
    console.wait_for(lambda: any(r[0] == "CT scanner" for r in console.rows(tests.table)), 10,
                     "the CT listed")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index("CT scanner"))
    console.choose_tab(tests.tabs, "Verify")
    verify = tests.tabs.currentWidget()
    console.click_button("C-ECHO once", verify)
    console.wait_text(console.find(name="echo-stats", parent=verify), "Last failure", 30)

    panel = console.choose_nav("Incidents")

    def drafted(dialog) -> None:
        assert dialog.title == "New incident"
        title = console.text(console.field_for_label(dialog.widget, "Title"))
        assert "refused" in title.lower(), title
        # Connection refused is a network matter; the echoed node is the one affected.
        assert console.text(console.field_for_label(dialog.widget, "Category")) == "Network"
        nodes = console.field_for_label(dialog.widget, "Affected nodes")
        # The dialog opens at once; the address book's nodes arrive a moment later.
        checked = console.wait_for(
            lambda: [nodes.item(r).text() for r in range(nodes.count())
                     if nodes.item(r).checkState() == Qt.CheckState.Checked], 10,
            "the echoed node ticked", observe=lambda: [nodes.item(r).text()
                                                      for r in range(nodes.count())])
        assert checked == ["CT scanner (CT01)"], checked
        dialog.click("OK")

    with console.dialogs(drafted):
        console.click_button("From failed test…", panel)
    log = _log(console, panel)
    console.wait_for(lambda: len(console.rows(log)) == 1, 10, "the drafted incident")
    console.wait_for(lambda: "Test run echo-series CT01" in _timeline(panel), 10, "the run as evidence",
                     observe=lambda: _timeline(panel))
