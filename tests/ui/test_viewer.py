"""The viewer panel driven like an engineer: open, scroll, window/level, cine, tags, arrivals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QWheelEvent

from pacs_console.core.dicom.servers.storage import Received
from pacs_console.core.dicom.synth.studies import generate_study, write_study
from pacs_console.core.imaging.thumbs import shutdown_pool
from pacs_console.ui.panels.viewer import ViewerPanel
from tests.core.imaging.conftest import bundled, make_broken


@pytest.fixture(autouse=True, scope="module")
def _pool():
    yield
    shutdown_pool()


@pytest.fixture
def panel(qtbot, ctx):
    widget = ViewerPanel(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.series.set_playing(False)
    qtbot.waitUntil(lambda: widget.busy == 0, timeout=30000)  # a loaded CI machine is slow
    widget.cancel_work()
    for worker in (widget._series_worker, widget.series._strip_worker):
        if worker is not None:
            worker.done.wait(10)


def _open(qtbot, panel, path) -> None:
    panel.open_source(str(path))
    qtbot.waitUntil(lambda: panel.busy == 0 and panel.tree.topLevelItemCount() > 0, timeout=15000)


def _wheel(widget, steps: int) -> None:
    center = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(center, widget.mapToGlobal(center), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QGuiApplication.sendEvent(widget, event)


def test_open_folder_shows_studies_thumbnails_and_refusals(qtbot, panel, tmp_path):
    write_study(generate_study("CT", images=6, series=2, size=64, compression="rle", seed=3),
                tmp_path / "cd")
    make_broken(tmp_path / "cd" / "broken")
    _open(qtbot, panel, tmp_path / "cd")
    labels = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert any("(2 series)" in t for t in labels)
    refused = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                   if panel.tree.topLevelItem(i).text(0).startswith("Refused files"))
    reasons = " ".join(refused.child(i).text(0) for i in range(refused.childCount()))
    assert "truncated" in reasons and "empty file" in reasons and "not DICOM" in reasons
    assert len(panel.series_items) == 3  # two CT series and the MR saved as IMAGE.JPG
    qtbot.waitUntil(lambda: panel.series_tiles == set(panel.series_items), timeout=15000)
    viewer = panel.series
    qtbot.waitUntil(lambda: viewer.view.frame is not None, timeout=10000)
    assert len(viewer.slices) == 3 and viewer.strip.count() == 3
    qtbot.waitUntil(lambda: viewer.strip_tiles == set(viewer.strip_items), timeout=15000)
    assert not viewer.strip.item(0).icon().isNull()


def test_scroll_by_wheel_keys_and_slider(qtbot, panel, tmp_path):
    write_study(generate_study("CT", images=8, series=1, size=64, seed=4), tmp_path / "ct")
    _open(qtbot, panel, tmp_path / "ct")
    viewer = panel.series
    qtbot.waitUntil(lambda: viewer.view.frame is not None, timeout=10000)
    assert viewer.current == 0
    _wheel(viewer.view, -2)  # wheel towards the user: two slices on
    assert viewer.current == 2 and viewer.slider.value() == 2
    viewer.view.setFocus()
    qtbot.keyClick(viewer.view, Qt.Key.Key_Down)
    assert viewer.current == 3
    qtbot.keyClick(viewer.view, Qt.Key.Key_PageDown)
    assert viewer.current == 7  # clamped at the last slice
    viewer.slider.setValue(1)
    assert viewer.current == 1 and viewer.slice_label.text() == "2 / 8"
    expected_instance = viewer.slices[1][0].instance_number
    qtbot.waitUntil(lambda: viewer.view.overlay.get("instance") == f"Im {expected_instance}",
                    timeout=10000)
    assert viewer.strip.currentRow() == 1


def test_window_level_by_drag_and_presets(qtbot, panel, tmp_path):
    write_study(generate_study("CT", images=2, series=1, size=64, seed=5), tmp_path / "ct")
    _open(qtbot, panel, tmp_path / "ct")
    view = panel.series.view
    qtbot.waitUntil(lambda: view.frame is not None, timeout=10000)
    start = (view.center, view.width_)
    assert start == view.frame.default_window
    before = view.grab().toImage()
    middle = view.rect().center()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=middle)
    qtbot.mouseMove(view, middle + QPoint(60, 30))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=middle + QPoint(60, 30))
    assert view.width_ > start[1] and view.center > start[0]
    assert view.grab().toImage() != before
    presets = panel.series.presets
    names = [presets.itemText(i) for i in range(presets.count())]
    assert names[0].startswith("File:") and "Auto" in names and "CT Lung" in names
    presets.activated.emit(names.index("CT Brain"))
    assert (view.center, view.width_) == (40.0, 80.0)
    assert "W 80  L 40" in _overlay_text(view)
    qtbot.mouseMove(view, middle)
    assert "HU" in view.cursor_text


def _overlay_text(view) -> str:
    return "" if view.frame.color else f"W {view.width_:.0f}  L {view.center:.0f}"


def test_zoom_and_pan(qtbot, panel, tmp_path):
    write_study(generate_study("MR", images=1, series=1, size=64, seed=6), tmp_path / "mr")
    _open(qtbot, panel, tmp_path / "mr")
    view = panel.series.view
    qtbot.waitUntil(lambda: view.frame is not None, timeout=10000)
    rect = view.image_rect()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.image_rect().width() > rect.width()
    middle = view.rect().center()
    qtbot.mousePress(view, Qt.MouseButton.RightButton, pos=middle)
    qtbot.mouseMove(view, middle + QPoint(25, 10))
    qtbot.mouseRelease(view, Qt.MouseButton.RightButton, pos=middle + QPoint(25, 10))
    assert (view.pan.x(), view.pan.y()) == (25, 10)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.image_rect() == rect


def test_multiframe_cine_advances(qtbot, panel, tmp_path):
    shutil.copy(bundled("examples_ybr_color.dcm"), tmp_path / "cine.dcm")
    _open(qtbot, panel, tmp_path / "cine.dcm")
    viewer = panel.series
    qtbot.waitUntil(lambda: viewer.view.frame is not None, timeout=10000)
    assert len(viewer.slices) == 30 and viewer.view.frame.color
    viewer.fps.setValue(50)
    viewer.play_button.click()
    assert viewer.play_button.text() == "Stop"
    qtbot.waitUntil(lambda: viewer.current >= 3, timeout=10000)
    viewer.play_button.click()
    assert not viewer.cine.isActive()
    qtbot.waitUntil(lambda: "Frame" in viewer.view.overlay.get("slice", ""), timeout=10000)


def test_tag_search_nested_and_copy(qtbot, panel, tmp_path):
    import pydicom
    from pydicom.dataset import Dataset

    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
    ds.ReferencedImageSequence = [item]
    ds.save_as(tmp_path / "ref.dcm")
    _open(qtbot, panel, tmp_path / "ref.dcm")
    tags = panel.tags
    qtbot.waitUntil(lambda: tags.model.rowCount() > 20, timeout=10000)
    qtbot.keyClicks(tags.search, "1.2.3.4.5.6.7.8.9")
    shown = [tags.model.rows[i] for i in range(tags.model.rowCount())]
    assert [r.keyword for r in shown if r.keyword] == ["ReferencedImageSequence",
                                                       "ReferencedSOPInstanceUID"]
    tags.search.clear()
    qtbot.keyClicks(tags.search, "patient's name")
    assert [r.keyword for r in tags.model.rows] == ["PatientName"]
    text = tags.copy()
    assert QGuiApplication.clipboard().text() == text and "(0010,0010)" in text


def test_received_files_appear_as_they_arrive(qtbot, panel, ctx):
    study = generate_study("CR", images=2, series=2, size=32, seed=7)
    store = Path(ctx.paths.store)
    batch = []
    for ds in study:
        folder = store / ds.StudyInstanceUID / ds.SeriesInstanceUID
        path = write_study([ds], folder)[0]
        batch.append(Received(path, ds.SOPClassUID, ds.SOPInstanceUID, ds.StudyInstanceUID,
                              ds.SeriesInstanceUID, "ORTHANC", path.stat().st_size))
    panel.on_arrivals(batch[:1] + ["not a record"])
    qtbot.waitUntil(lambda: len(panel.series_items) == 1, timeout=10000)
    panel.on_arrivals(batch[1:])
    qtbot.waitUntil(lambda: len(panel.series_items) == 2, timeout=10000)


def test_export_selected_study(qtbot, panel, tmp_path):
    write_study(generate_study("US", images=2, size=32, seed=8), tmp_path / "us")
    _open(qtbot, panel, tmp_path / "us")
    panel.export_selected(str(tmp_path / "out"))
    qtbot.waitUntil(lambda: panel.busy == 0 and "De-identified" in panel.status.text(),
                    timeout=15000)
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 2
    assert "WARNING" in panel.log.toPlainText()


def test_missing_source_shows_a_diagnosis(qtbot, panel, tmp_path):
    panel.open_source(str(tmp_path / "gone"))
    qtbot.waitUntil(lambda: panel.busy == 0, timeout=10000)
    assert "does not exist" in panel.status.text()
    assert "What to try" in panel.log.toPlainText()
