"""The Tests panel's checks a person relies on: the node form refuses a taken name and warns
about a lower-case AE title; a worklist query and a query with no match say what they found.
(Replaces what tests/ui/test_tests_panel.py drove by calling the panel and dialog methods.)"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTableView

from tests.ui.acceptance.window import Console


def _dialog_text(dialog) -> str:
    return "\n".join(w.text() for w in dialog.widget.findChildren(QLabel) if w.isVisible())


def test_the_node_form_refuses_a_taken_name_and_warns_about_case(console):
    tests = console.choose_nav("Tests")

    def form(dialog) -> None:
        ok = dialog.button("OK")
        assert not ok.isEnabled()  # empty: nothing to save yet
        console.type_into(console.field_for_label(dialog.widget, "Name"), "Demo PACS")
        console.type_into(console.field_for_label(dialog.widget, "AE title"), "orthanc")
        console.type_into(console.field_for_label(dialog.widget, "Host"), "127.0.0.1")
        assert "already" in _dialog_text(dialog) and not ok.isEnabled()
        console.type_into(console.field_for_label(dialog.widget, "Name"), "Archive")
        assert ok.isEnabled() and "case-sensitively" in _dialog_text(dialog)
        dialog.click("OK")

    with console.dialogs(form):
        console.click_button("Add", tests)
    console.wait_for(lambda: ["Archive", "orthanc"] in [r[:2] for r in console.rows(tests.table)],
                     10, "the node saved with its AE title as typed",
                     observe=lambda: console.rows(tests.table))


def _search(console: Console, query) -> list[list[str]]:
    status = console.find(name="query-status", parent=query)
    console.click_button("Search", query)
    console.wait_for(lambda: console.button("Search", query).isEnabled()
                     and "C-FIND" in console.text(status) or "no matches" in console.text(status),
                     20, "the search to end", observe=lambda: console.text(status))
    console.wait_for(lambda: console.button("Search", query).isEnabled(), 10, "idle")
    return console.rows(console.find(QTableView, parent=query))


def test_a_worklist_query_and_a_query_without_matches(console):
    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index("Demo PACS"))
    console.choose_tab(tests.tabs, "Query")
    query = tests.tabs.currentWidget()
    model = console.find(name="query-model", parent=query)
    console.choose_combo(model, "Modality Worklist")
    assert not console.find(name="query-level", parent=query).isEnabled()  # no levels in MWL
    rows = _search(console, query)
    assert rows, "the demo's worklist is empty"
    table = console.find(QTableView, parent=query)
    headers = [table.model().headerData(c, Qt.Orientation.Horizontal)
               for c in range(table.model().columnCount())]
    assert any("Station AE" in str(h) or "Scheduled station" in str(h) for h in headers), headers

    console.choose_combo(model, "Study Root")
    console.type_into(query.inputs["patient_id"], "NOBODY-HAS-THIS-ID")
    assert _search(console, query) == []
    assert "no matches" in console.text(console.find(name="query-status", parent=query))
