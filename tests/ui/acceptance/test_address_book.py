"""Address book journeys: add, edit, duplicate, delete, import and export nodes with the buttons."""

from __future__ import annotations

import csv
import json

from tests.ui.acceptance.window import choose_file, fill_node, press


def _names(console) -> list[str]:
    return [row[0] for row in console.rows(console.panel("Tests").table)]


def _row(console, name: str) -> list[str]:
    for row in console.rows(console.panel("Tests").table):
        if row[0] == name:
            return row
    raise AssertionError(f"{name!r} not in the address book: {_names(console)}")


def test_add_edit_duplicate_and_delete_a_node(console):
    tests = console.panel("Tests")
    with console.dialogs(fill_node(name="Korle Bu PACS", ae_title="KBTHPACS", host="127.0.0.1",
                                   port=4300, tags="pacs")) as seen:
        console.click_button("Add", tests)
    assert seen[0].title == "Add node"
    console.wait_for(lambda: "Korle Bu PACS" in _names(console), 10, "the new node listed")
    assert _row(console, "Korle Bu PACS")[1:5] == ["KBTHPACS", "127.0.0.1", "4300", "pacs"]

    # An invalid AE title keeps OK disabled and says why, inline.
    def too_long(dialog):
        console.type_into(console.field_for_label(dialog.widget, "AE title"), "X" * 17)
        ok = dialog.button("OK")
        assert not ok.isEnabled() or any("16" in text for text in dialog.labels()), dialog.labels()
        console.type_into(console.field_for_label(dialog.widget, "Name"), "")
        assert not dialog.button("OK").isEnabled()
        assert any(text for text in dialog.labels())
        dialog.click("Cancel")

    with console.dialogs(too_long):
        console.click_button("Add", tests)
    assert _names(console).count("Korle Bu PACS") == 1

    # Edit: select the row by clicking it, press Edit, change the port.
    console.click_row(tests.table, _names(console).index("Korle Bu PACS"))
    with console.dialogs(fill_node(port=4343)) as seen:
        console.click_button("Edit", tests)
    assert seen[0].title == "Edit node"
    console.wait_for(lambda: _row(console, "Korle Bu PACS")[3] == "4343", 10, "the port changed",
                     observe=lambda: _row(console, "Korle Bu PACS"))

    # A double-click on the row edits too.
    row = _names(console).index("Korle Bu PACS")
    with console.dialogs(fill_node(host="127.0.0.2")):
        console.click_row(tests.table, row, double=True)
    console.wait_for(lambda: _row(console, "Korle Bu PACS")[2] == "127.0.0.2", 10, "host changed")

    # Duplicate then delete the copy (confirming the question).
    console.click_row(tests.table, _names(console).index("Korle Bu PACS"))
    before = len(_names(console))
    console.click_button("Duplicate", tests)
    console.wait_for(lambda: len(_names(console)) == before + 1, 10, "a copy listed")
    copy = next(n for n in _names(console) if n not in ("Demo PACS", "Korle Bu PACS"))
    console.click_row(tests.table, _names(console).index(copy))
    with console.dialogs(press("Yes")) as seen:
        console.click_button("Delete", tests)
    assert seen[0].title == "Delete node" and copy in seen[0].text
    console.wait_for(lambda: copy not in _names(console), 10, "the copy deleted")
    # No to the same question keeps the node.
    console.click_row(tests.table, _names(console).index("Korle Bu PACS"))
    with console.dialogs(press("No")):
        console.click_button("Delete", tests)
    assert "Korle Bu PACS" in _names(console)


def test_import_csv_and_dcmqrscp_cfg_through_the_file_dialog(console, tmp_path):
    tests = console.panel("Tests")
    book = tmp_path / "hospital.csv"
    book.write_text("name,ae_title,host,port,tags\nRidge CT,RIDGECT,127.0.0.3,104,modality\n"
                    "Tema MR,TEMAMR,127.0.0.4,11120,modality\n", encoding="utf-8")
    with console.dialogs(choose_file(book)) as seen:
        console.click_button("Import…", tests)
    assert seen[0].title == "Import address book"
    console.wait_for(lambda: {"Ridge CT", "Tema MR"} <= set(_names(console)), 10, "CSV imported",
                     observe=lambda: _names(console))
    assert _row(console, "Tema MR")[1:4] == ["TEMAMR", "127.0.0.4", "11120"]

    cfg = tmp_path / "dcmqrscp.cfg"
    cfg.write_text("# dcmqrscp\nHostTable BEGIN\nkbth_ris = (KBTHRIS, 127.0.0.5, 2104)\n"
                   "HostTable END\n", encoding="utf-8")
    with console.dialogs(choose_file(cfg)):
        console.click_button("Import…", tests)
    console.wait_for(lambda: "kbth_ris" in _names(console), 10, "cfg imported")
    assert _row(console, "kbth_ris")[1:4] == ["KBTHRIS", "127.0.0.5", "2104"]

    # A broken file says so in a dialog and imports nothing.
    broken = tmp_path / "broken.csv"
    broken.write_text("who,where\nx,y\n", encoding="utf-8")
    count = len(_names(console))
    with console.dialogs(choose_file(broken), press("OK")) as seen:
        console.click_button("Import…", tests)
    assert seen[1].title == "Import failed" and "ae_title" in seen[1].text
    assert len(_names(console)) == count


def test_export_json_and_csv_through_the_file_dialog(console, tmp_path):
    tests = console.panel("Tests")
    with console.dialogs(fill_node(name="Korle Bu PACS", ae_title="KBTHPACS", host="127.0.0.1",
                                   port=4300)):
        console.click_button("Add", tests)
    console.wait_for(lambda: "Korle Bu PACS" in _names(console), 10, "node added")

    target = tmp_path / "book.json"
    with console.dialogs(choose_file(target)) as seen:
        console.click_button("Export…", tests)
    assert seen[0].title == "Export address book"
    # Written on a worker; the status bar says when it is done.
    console.wait_for(lambda: f"Exported 1 node(s) to {target}" in console.status_text(), 10,
                     "the export confirmed", observe=console.status_text)
    data = json.loads(target.read_text())
    assert [n["name"] for n in data["nodes"]] == ["Korle Bu PACS"]  # the demo is not exported

    def as_csv(dialog):
        console.choose_combo(dialog.find(name="fileTypeCombo"), "CSV (*.csv)")
        choose_file(tmp_path / "book.csv")(dialog)

    with console.dialogs(as_csv):
        console.click_button("Export…", tests)
    console.wait_for(lambda: f"Exported 1 node(s) to {tmp_path / 'book.csv'}"
                     in console.status_text(), 10,
                     "the CSV export confirmed", observe=console.status_text)
    with open(tmp_path / "book.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["name"], r["ae_title"], r["port"]) for r in rows] == [("Korle Bu PACS", "KBTHPACS",
                                                                       "4300")]
