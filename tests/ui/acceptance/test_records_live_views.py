"""Views that stay current: data changed by the command line in another process shows in the
open window within 2 s, with no click, key or typing from the person at it."""

from __future__ import annotations

import re
import subprocess
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QTableView, QTableWidget

from tests.ui.acceptance import records_support
from tests.ui.acceptance.records_support import ROOT, Person, within

pytestmark = records_support.OFFSCREEN_NOTES

LIVE_S = 2.0


def _table(person: Person, kind=QTableView, with_header: str = "") -> QTableView:
    tables = person.visible(person.window, kind, lambda t: not with_header or any(
        t.model().headerData(c, Qt.Orientation.Horizontal) == with_header for c in range(t.model().columnCount())))
    assert tables, f"no visible table with a {with_header!r} column"
    return tables[0]


def _column(person: Person, table, header: str) -> list[str]:
    model = table.model()
    column = next(c for c in range(model.columnCount()) if model.headerData(c, Qt.Orientation.Horizontal) == header)
    return [row[column] for row in person.rows(table)]


def test_an_incident_from_the_command_line_appears_in_the_open_log(person: Person):
    person.go_to("Incidents")
    log = _table(person, with_header="Title")
    person.qtbot.waitUntil(lambda: "0 incident(s)" in person.labels(), timeout=10000)
    person.cli("incident", "new", "--title", "CR reader cannot send", "--severity", "high")
    within(LIVE_S, lambda: "CR reader cannot send" in _column(person, log, "Title"))
    within(LIVE_S, lambda: "1 incident(s)" in person.labels())
    # The newest shown is selected: a note made elsewhere reaches its timeline, a status
    # change its row, still without anyone touching the window.
    person.click_row(log, 0)
    timeline = person.visible(person.window, QPlainTextEdit)[0]
    person.cli("incident", "note", "1", "Called the radiographer back")
    within(LIVE_S, lambda: "Called the radiographer back" in timeline.toPlainText())
    person.cli("incident", "set-status", "1", "acknowledged")
    within(LIVE_S, lambda: _column(person, log, "Status") == ["acknowledged"])


def test_a_hidden_panel_is_current_when_shown(person: Person):
    person.go_to("Incidents")
    person.go_to("Tests")
    person.cli("incident", "new", "--title", "Made while away", "--severity", "low")
    person.go_to("Incidents")
    log = _table(person, with_header="Title")
    within(LIVE_S, lambda: "Made while away" in _column(person, log, "Title"))


def test_a_site_and_visit_from_the_command_line_reach_the_visits_tab(person: Person):
    person.go_to("Incidents")
    person.tab(person.tab_widget_with("Visits"), "Visits")
    person.qtbot.waitUntil(lambda: "Add a site first" in person.labels(), timeout=10000)
    arrive = person.button("Arrive (start visit)")
    assert not arrive.isEnabled()
    person.cli("site", "add", "Korle Bu Teaching Hospital")
    person.cli("visit", "start", "--site", "Korle Bu Teaching Hospital", "--engineer", "Ama",
               "--purpose", "preventive maintenance")
    visits = _table(person, QTableWidget, with_header="Purpose")
    within(LIVE_S, lambda: _column(person, visits, "Purpose") == ["preventive maintenance"])
    within(LIVE_S, lambda: "Add a site first" not in person.labels())
    site = person.visible(person.window, QComboBox,
                          lambda c: c.findText("Korle Bu Teaching Hospital") >= 0)
    assert site and arrive.isEnabled()


def _node_from_another_process(person: Person, code: str) -> None:
    """The address book changed by another process (the CLI has no node command yet)."""
    script = ("import sys\nfrom pacs_console.core.db.engine import Database\n"
              "from pacs_console.core.db import nodes\nfrom pacs_console.paths import app_paths\n"
              "db = Database(app_paths(sys.argv[1]).database)\n" + code)
    subprocess.run([sys.executable, "-c", script, str(person.data_dir)], check=True, cwd=ROOT,
                   timeout=60)


def test_address_book_follows_node_changes_made_elsewhere(person: Person):
    book = _table(person, with_header="AE title")
    person.qtbot.waitUntil(lambda: "Demo PACS" in _column(person, book, "Name"), timeout=10000)
    _node_from_another_process(person, "nodes.save_node(db, 'Ridge CT', 'RIDGECT', "
                                       "'127.0.0.2', 104)")
    within(LIVE_S, lambda: "Ridge CT" in _column(person, book, "Name"))
    _node_from_another_process(person, "node = next(n for n in nodes.list_nodes(db) "
                                       "if n.name == 'Ridge CT')\n"
                                       "nodes.delete_node(db, node.id)")
    within(LIVE_S, lambda: "Ridge CT" not in _column(person, book, "Name"))


def _pending_in_header(person: Person) -> int:
    text = person.named("sync-counts", QLabel).text()  # '… 2 pending …' or 'All delivered'
    found = re.search(r"(\d+) pending", text)
    return int(found.group(1)) if found else 0


def test_sync_header_agrees_with_its_table_and_follows_new_changes(person: Person):
    for title in ("PACS slow", "Printer offline"):
        person.cli("incident", "new", "--title", title, "--severity", "medium")
    person.go_to("Sync")
    outbox = person.named("outbox-table", QTableView)
    within(LIVE_S, lambda: _pending_in_header(person) == 2
           and _column(person, outbox, "State").count("pending") == 2)
    status = person.window.statusBar()
    within(LIVE_S, lambda: any("Sync: 2 not delivered" in label.text()
                               for label in status.findChildren(QLabel)))
    person.cli("incident", "new", "--title", "Worklist empty", "--severity", "high")
    within(LIVE_S, lambda: _pending_in_header(person) == 3
           and "Worklist empty" in _column(person, outbox, "What"))
    assert _column(person, outbox, "State").count("pending") == _pending_in_header(person)
