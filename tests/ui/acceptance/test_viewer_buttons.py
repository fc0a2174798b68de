"""Every Viewer button: Open folder…, Open file…, Play/Stop, Copy (Received files and Export are
in the viewer journey)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QTableView, QTreeWidget

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from tests.ui.acceptance.window import choose_file


def test_open_folder_open_file_play_and_copy(console, tmp_path):
    files = write_study(generate_study("MR", images=6, series=1, size=32, seed=21), tmp_path / "cd")
    single = write_study(generate_study("CR", images=1, series=1, size=32, seed=22),
                         tmp_path / "one")[0]
    viewer = console.choose_nav("Viewer")
    tree = console.find(QTreeWidget, "study-tree", viewer)

    with console.dialogs(choose_file(tmp_path / "cd")) as seen:
        console.click_button("Open folder…", viewer)
    assert seen[0].title == "Open a folder, CD or USB drive"
    console.wait_text(viewer.status, f"{len(files)} files: {len(files)} ok, 0 refused", 30)
    console.wait_for(lambda: tree.topLevelItemCount() == 1, 10, "one study in the tree")
    assert "(1 series)" in tree.topLevelItem(0).text(0)

    with console.dialogs(choose_file(single)):
        console.click_button("Open file…", viewer)
    console.wait_text(viewer.status, "1 files: 1 ok, 0 refused", 30)
    console.wait_for(lambda: tree.topLevelItemCount() == 2, 10, "both studies in the tree")

    # Back to the MR series: Play steps through its slices, Stop holds still.
    mr = next(tree.topLevelItem(i) for i in range(2) if "MR" in tree.topLevelItem(i).text(0)
              or "6 images" in tree.topLevelItem(i).child(0).text(0))
    console.click(tree.viewport(), tree.visualItemRect(mr.child(0)).center())
    label = next(w for w in viewer.findChildren(QLabel) if w.isVisible() and " / " in w.text())
    console.wait_text(label, "1 / 6", 15)
    console.click_button("Play", viewer)
    console.wait_for(lambda: console.text(label) not in ("1 / 6", ""), 10, "the cine moving",
                     observe=lambda: console.text(label))
    console.click_button("Stop", viewer)
    held = console.text(label)
    assert console.button("Play", viewer)
    console.wait_for(lambda: True, 0.3)
    assert console.text(label) == held

    # Copy: the shown tag rows go to the clipboard as text.
    tags = console.find(QTableView, parent=viewer.tags)
    console.wait_for(lambda: len(console.rows(tags)) > 10, 10, "the tags")
    console.type_into(console.find(name="tag-search", parent=viewer), "Modality")
    console.wait_for(lambda: 0 < len(console.rows(tags)) < 5, 5, "filtered tags")
    console.click_button("Copy", viewer)
    copied = QApplication.clipboard().text()
    assert "Modality" in copied and "MR" in copied
