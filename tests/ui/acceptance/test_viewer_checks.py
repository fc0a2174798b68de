"""What the Viewer shows beyond the main journey, each by mouse and keys: refused files with
their reasons, a window preset, zoom, pan and reset, and the tag search finding nested items.
(Replaces tests/ui/test_viewer.py, which called the panel's and the image view's methods.)"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QLabel, QTableView, QTreeWidget

from pacs_console.core.dicom.synth.studies import generate_study, write_study
from tests.core.imaging.conftest import bundled, make_broken
from tests.ui.acceptance.window import choose_file, scp_port_shown


def _open_folder(console, viewer, folder) -> None:
    with console.dialogs(choose_file(folder)):
        console.click_button("Open folder…", viewer)
    console.wait_for(lambda: "files:" in console.text(viewer.status), 30, "the folder read",
                     observe=lambda: console.text(viewer.status))


def test_refusals_presets_zoom_pan_and_reset(console, tmp_path):
    write_study(generate_study("CT", images=3, series=1, size=64, seed=3), tmp_path / "cd")
    make_broken(tmp_path / "cd" / "broken")
    viewer = console.choose_nav("Viewer")
    _open_folder(console, viewer, tmp_path / "cd")
    tree = console.find(QTreeWidget, "study-tree", viewer)
    def read_reasons() -> str:
        tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
        refused = [t for t in tops if t.text(0).startswith("Refused files")]
        return " ".join(r.child(i).text(0) for r in refused for i in range(r.childCount()))

    # Files are refused as the index reaches them: the person waits until it has read them all.
    console.wait_for(lambda: tree.topLevelItemCount() >= 2 and "not DICOM" in read_reasons()
                     and "truncated" in read_reasons() and "empty file" in read_reasons(), 20,
                     "the study and every refusal", observe=read_reasons)
    reasons = read_reasons()
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert "truncated" in reasons and "empty file" in reasons and "not DICOM" in reasons

    study = next(t for t in tops if "(1 series)" in t.text(0))
    console.click(tree.viewport(), tree.visualItemRect(study.child(0)).center())
    view = console.find(name="image-view", parent=viewer)
    console.wait_for(lambda: view.frame is not None, 20, "the image on screen")
    slice_label = next(w for w in viewer.findChildren(QLabel) if w.isVisible() and " / " in w.text())
    console.wait_text(slice_label, "1 / 3", 20)

    presets = console.find(QComboBox, "window-presets", viewer)
    names = [presets.itemText(i) for i in range(presets.count())]
    assert names[0].startswith("File:") and "Auto" in names and "CT Lung" in names
    console.choose_combo(presets, "CT Brain")
    # Hovering the image says the window it shows.
    console.wait_for(lambda: view.toolTip() == "Window 80 / level 40", 5, "the brain window",
                     observe=view.toolTip)
    windowed = view.grab().toImage()

    # Zoom with +, pan with a right drag, 0 puts the picture back as it was.
    console.click(view)
    console.key(view, Qt.Key.Key_Plus)
    console.wait_for(lambda: view.grab().toImage() != windowed, 5, "zoomed in")
    zoomed = view.grab().toImage()
    middle = view.rect().center()
    console.drag(view, middle, middle + QPoint(25, 10), Qt.MouseButton.RightButton)
    console.wait_for(lambda: view.grab().toImage() != zoomed, 5, "panned")
    console.key(view, Qt.Key.Key_0)
    # The picture itself (the middle of the view; the corners carry the cursor's read-out).
    middle_part = view.rect().adjusted(view.width() // 4, view.height() // 4,
                                       -view.width() // 4, -view.height() // 4)
    console.wait_for(lambda: view.grab().toImage().copy(middle_part) == windowed.copy(
        middle_part), 5, "back to the fitted picture")


def test_tag_search_finds_nested_items_and_plain_names(console, tmp_path):
    import pydicom
    from pydicom.dataset import Dataset

    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    ds.ReferencedImageSequence = [item]
    (tmp_path / "ref").mkdir()
    ds.save_as(tmp_path / "ref" / "ref.dcm")
    viewer = console.choose_nav("Viewer")
    _open_folder(console, viewer, tmp_path / "ref")
    tree = console.find(QTreeWidget, "study-tree", viewer)
    console.wait_for(lambda: tree.topLevelItemCount() == 1, 10, "the study")
    top = tree.topLevelItem(0)
    console.click(tree.viewport(), tree.visualItemRect(top.child(0)).center())
    tags = console.find(QTableView, parent=viewer.tags)
    console.wait_for(lambda: len(console.rows(tags)) > 20, 10, "the tags")
    search = console.find(name="tag-search", parent=viewer)
    console.type_into(search, "1.2.3.4.5.6.7.8.9")
    console.wait_for(lambda: len(console.rows(tags)) == 3, 5, "the sequence, item, value",
                     observe=lambda: console.rows(tags))
    rows = [" ".join(row) for row in console.rows(tags)]
    assert "(0008,1140)" in rows[0] and "Item 1" in rows[1] and "1.2.3.4.5.6.7.8.9" in rows[2]
    console.type_into(search, "patient's name")
    console.wait_for(lambda: len(console.rows(tags)) == 1, 5, "one tag",
                     observe=lambda: console.rows(tags))
    assert "(0010,0010)" in " ".join(console.rows(tags)[0])


def test_files_the_storage_scp_receives_appear_without_a_click(console):
    """Received files open: a modality then sends a study to the console's Storage SCP, and the
    tree shows it by itself (no button pressed again)."""
    from pacs_console.core.dicom.wire.ae import make_ae

    viewer = console.choose_nav("Viewer")
    console.click_button("Received files", viewer)
    console.wait_for(lambda: "files:" in console.text(viewer.status), 20, "the store read")
    tree = console.find(QTreeWidget, "study-tree", viewer)
    before = tree.topLevelItemCount()
    study = generate_study("CR", images=2, series=2, size=32, seed=7)
    ae = make_ae("DEMOPACS", requested=sorted({str(ds.SOPClassUID) for ds in study}))
    assoc = ae.associate("127.0.0.1", scp_port_shown(console), ae_title="PACSCONSOLE")
    assert assoc.is_established
    try:
        statuses = [assoc.send_c_store(ds).Status for ds in study]
    finally:
        assoc.release()
    assert statuses == [0, 0]
    patient = str(study[0].PatientName).replace("^", " ")
    console.wait_for(lambda: any(patient in tree.topLevelItem(i).text(0)
                                 for i in range(tree.topLevelItemCount())), 15,
                     "the sent study in the tree",
                     observe=lambda: [tree.topLevelItem(i).text(0)
                                      for i in range(tree.topLevelItemCount())])
    assert tree.topLevelItemCount() == before + 1
    assert "2 received" in console.status_text()


def test_a_colour_multiframe_plays_and_stops(console, tmp_path):
    import shutil

    shutil.copy(bundled("examples_ybr_color.dcm"), tmp_path / "cine.dcm")
    viewer = console.choose_nav("Viewer")
    with console.dialogs(choose_file(tmp_path / "cine.dcm")):
        console.click_button("Open file…", viewer)
    console.wait_text(viewer.status, "1 files: 1 ok, 0 refused", 30)
    tree = console.find(QTreeWidget, "study-tree", viewer)
    console.wait_for(lambda: tree.topLevelItemCount() == 1, 10, "the study")
    console.click(tree.viewport(), tree.visualItemRect(tree.topLevelItem(0).child(0)).center())
    label = console.wait_for(lambda: next((w for w in viewer.findChildren(QLabel)
                                           if w.isVisible() and " / 30" in w.text()), None),
                             20, "30 frames")
    console.click_button("Play", viewer)
    console.wait_for(lambda: console.text(label) not in ("1 / 30", "2 / 30", "3 / 30"), 15,
                     "the cine moving on", observe=lambda: console.text(label))
    console.click_button("Stop", viewer)
    held = console.text(label)
    console.wait_for(lambda: True, 0.3)
    assert console.text(label) == held
