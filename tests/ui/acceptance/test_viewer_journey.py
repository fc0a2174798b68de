"""Viewer journey: retrieve a study from the demo, open it, scroll, window/level, tags, export."""

from __future__ import annotations

from pathlib import Path

import pydicom
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTableView, QTreeWidget

from tests.ui.acceptance.window import Console, choose_file


def retrieve_first_study(console: Console) -> tuple[list[str], int]:
    """Query the demo for studies, retrieve the first to this console; its row and image count."""
    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index("Demo PACS"))
    console.choose_tab(tests.tabs, "Query")
    query = tests.tabs.currentWidget()
    status = console.find(name="query-status", parent=query)
    console.click_button("Search", query)
    console.wait_text(status, "C-FIND:", 20)
    table = console.find(QTableView, parent=query)
    row = console.rows(table)[0]
    console.click_row(table, 0)
    console.click_button("Retrieve selected", query)
    retrieve = tests.tabs.currentWidget()
    console.click_button("Retrieve", retrieve)
    console.wait_text(console.find(name="retrieve-status", parent=retrieve),
                      f"{row[6]} completed, 0 failed", 30)
    return row, int(row[6])


def test_open_the_retrieved_study_scroll_window_level_tags_and_export(console, tmp_path):
    study, images = retrieve_first_study(console)
    viewer = console.choose_nav("Viewer")
    console.click_button("Received files", viewer)
    tree = console.find(QTreeWidget, "study-tree", viewer)
    patient = study[2].replace("^", " ")

    def shown() -> int:
        if not tree.topLevelItemCount() or patient not in tree.topLevelItem(0).text(0):
            return 0
        top = tree.topLevelItem(0)
        return sum(int(top.child(i).text(0).split(" · ")[-1].split()[0])
                   for i in range(top.childCount()))

    console.wait_for(lambda: shown() == images, 20, f"the {images} retrieved images in the tree",
                     observe=lambda: [tree.topLevelItem(i).text(0)
                                      for i in range(tree.topLevelItemCount())])
    top = tree.topLevelItem(0)
    assert f"({top.childCount()} series)" in top.text(0)
    # Click the first series with more than one image.
    multi = next(i for i in range(top.childCount())
                 if int(top.child(i).text(0).split(" · ")[-1].split()[0]) > 1)
    series = top.child(multi)
    console.click(tree.viewport(), tree.visualItemRect(series).center())
    view = console.find(name="image-view", parent=viewer)
    # The series is read off the GUI thread: the person waits for its first image.
    console.wait_for(lambda: view.frame is not None, 20, "the first image on screen")
    slice_label = next(label for label in viewer.findChildren(QLabel)
                       if label.isVisible() and " / " in label.text())
    assert console.text(slice_label).startswith("1 / ")
    total = int(console.text(slice_label).split(" / ")[1])

    # Scroll: the wheel and the arrow keys step through the slices.
    console.wheel(view, -1)
    console.wait_text(slice_label, f"2 / {total}", 10)
    console.click(view)
    console.key(view, Qt.Key.Key_Down)
    if total > 2:
        console.wait_text(slice_label, f"3 / {total}", 10)
    console.key(view, Qt.Key.Key_Up)
    console.wait_text(slice_label, f"2 / {total}", 10)

    # Reading the received files again (or new arrivals) refreshes the tree, not the slice.
    console.click_button("Received files", viewer)
    console.wait_for(lambda: viewer.busy == 0 and "files:" in console.text(viewer.status), 20,
                     "the folder read again", observe=lambda: console.text(viewer.status))
    console.wait_for(lambda: True, 0.5)
    assert console.text(slice_label) == f"2 / {total}"

    # Window/level: a left drag changes the picture and the W/L in the tooltip.
    console.wait_for(lambda: view.frame is not None, 10, "the image shown")
    before = view.grab().toImage()
    middle = view.rect().center()
    console.drag(view, middle, middle + QPoint(80, 40))
    console.wait_for(lambda: view.toolTip().startswith("Window "), 5, "the W/L tooltip")
    assert view.grab().toImage() != before

    # Tags: searching narrows the table to what matches.
    tags = console.find(QTableView, parent=viewer.tags)
    console.wait_for(lambda: len(console.rows(tags)) > 20, 10, "the tags of the image")
    console.type_into(console.find(name="tag-search", parent=viewer), "PatientName")
    console.wait_for(lambda: 0 < len(console.rows(tags)) < 5, 5, "the search applied",
                     observe=lambda: console.rows(tags))
    assert any(study[2] in " ".join(row) for row in console.rows(tags))

    # Export de-identified: pick a folder in the dialog; the files carry no patient name.
    out = tmp_path / "deid"
    out.mkdir()
    with console.dialogs(choose_file(out)):
        console.click_button("Export de-identified…", viewer)
    console.wait_for(lambda: "instances into" in console.text(viewer.status), 30,
                     "the export to finish", observe=lambda: console.text(viewer.status))
    assert f"De-identified {images} instances" in console.text(viewer.status)
    exported = [p for p in Path(out).rglob("*") if p.is_file()]
    assert len(exported) == images
    first = pydicom.dcmread(exported[0])
    assert str(first.PatientName) != study[2] and study[2].split("^")[0] not in str(first.PatientName)
    # The viewer's log only shows when it has something to say (no empty box under the image).
    logs = [console.text(w) for w in viewer.findChildren(QPlainTextEdit) if w.isVisible()]
    assert not any("Not exported" in text for text in logs), logs
