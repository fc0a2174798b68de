"""Signature pad and the Reports panel with pytest-qt: draw, accept, generate, sign, verify."""

from __future__ import annotations

import subprocess
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from pacs_console.core.reports import store as report_store
from pacs_console.ui.panels.reports import SAMPLE, ReportsPanel
from pacs_console.ui.widgets.signature_pad import SignatureCapture, SignaturePad
from tests.core.reports.conftest import fresh_signing_secret, visit  # noqa: F401 - fixtures


def _mouse(widget, kind, x, y, buttons=Qt.MouseButton.LeftButton):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(x, y), widget.mapToGlobal(QPointF(x, y)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def draw(widget, points) -> None:
    (x, y), rest = points[0], points[1:]
    _mouse(widget, QEvent.Type.MouseButtonPress, x, y)
    for x, y in rest:
        _mouse(widget, QEvent.Type.MouseMove, x, y)
    _mouse(widget, QEvent.Type.MouseButtonRelease, *points[-1], buttons=Qt.MouseButton.NoButton)


def test_pad_strokes_from_mouse_and_touch_clear_undo_redo_png(qtbot):
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(400, 150)
    pad.show()
    qtbot.waitExposed(pad)
    assert pad.is_empty
    with qtbot.waitSignal(pad.changed):
        draw(pad, [(20, 80), (60, 40), (100, 90), (140, 50)])
    draw(pad, [(200, 60), (260, 70)])
    device = QTest.createTouchDevice()
    QTest.touchEvent(pad, device).press(0, QPoint(300, 50))
    QTest.touchEvent(pad, device).move(0, QPoint(330, 90))
    QTest.touchEvent(pad, device).release(0, QPoint(360, 60))
    strokes = pad.strokes()
    assert len(strokes.strokes) == 3 and strokes.width == 400 and strokes.height == 150
    assert strokes.strokes[0][0] == (20.0, 80.0) and len(strokes.strokes[0]) == 4
    # Qt reports a touch at the centre of its contact area: within a few pixels.
    (tx, ty), *_ = strokes.strokes[2]
    assert abs(tx - 300) <= 3 and abs(ty - 50) <= 3 and len(strokes.strokes[2]) >= 2
    pad.undo()
    assert len(pad.strokes().strokes) == 2
    pad.redo()
    assert len(pad.strokes().strokes) == 3
    png = pad.to_png()
    assert png.startswith(b"\x89PNG") and len(png) > 200
    pad.clear()
    assert pad.is_empty and pad.strokes().empty


def test_capture_needs_ink_and_a_name_and_new_ink_resets_acceptance(qtbot):
    capture = SignatureCapture("Customer")
    qtbot.addWidget(capture)
    capture.resize(420, 320)
    capture.show()
    qtbot.waitExposed(capture)
    draw(capture.pad, [(20, 60), (80, 90)])
    assert not capture.accept() and "printed name" in capture.status.text()
    capture.name.setText("Abɛna Sɛrwaa")
    capture.role.setText("Supervisor")
    assert capture.accept()
    value = capture.value()
    assert value.name == "Abɛna Sɛrwaa" and value.signed_at and not value.strokes.empty
    draw(capture.pad, [(120, 60), (160, 90)])
    assert capture.value().signed_at is None  # redrawn: accept again


def test_panel_generates_signs_lists_and_previews(qtbot, ctx, visit, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PACS_CONSOLE_SIGNING_PASSPHRASE", "panel pass")
    panel = ReportsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1100, 800)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.visit.count() == 2, timeout=10000)
    assert panel.visit.itemData(0) == visit.id and panel.visit.itemData(1) == SAMPLE
    assert panel.engineer.name.text() == "Yaw Ɔsɛi-Bɔnsu"
    panel.summary.setPlainText("CT fixed; worklist pending the RIS vendor.")
    panel.recommendations.setPlainText("Replace the corridor switch\nLog AE title changes")
    panel.time_spent.setPlainText("Diagnosis = 90\nRepair = 120")
    panel.parts.setPlainText("Patch cable; 2; ; WS3")
    panel.rating.setValue(4)
    panel.customer.name.setText("Abɛna Sɛrwaa")
    panel.customer.role.setText("Radiology supervisor")
    draw(panel.customer.pad, [(20, 60), (60, 30), (120, 80)])
    assert panel.customer.accept()
    draw(panel.engineer.pad, [(30, 50), (90, 70)])
    assert panel.engineer.accept()
    explained = []

    def confirm_first_signing():
        from PySide6.QtWidgets import QApplication, QMessageBox

        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            explained.append(box.text())
            box.button(QMessageBox.StandardButton.Yes).click()
        else:
            QTimer.singleShot(50, confirm_first_signing)

    QTimer.singleShot(50, confirm_first_signing)
    panel.sign_button.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=60000)
    assert "CN=Yaw Ɔsɛi-Bɔnsu, O=Ɔdɔ Medical Systems" in explained[0]
    row = panel.model.rows[0]
    assert row["state"] == "valid" and row["visit"] == visit.id
    qtbot.waitUntil(lambda: panel.pages.count() > 3, timeout=30000)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", row["path"], "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "CT fixed; worklist pending the RIS vendor." in text and "Abɛna Sɛrwaa" in text
    assert "Patch cable" in text and "Rating: 4 / 5" in text
    draft = report_store.load_extras(ctx.paths.data, visit.id)
    assert draft.recommendations == ("Replace the corridor switch", "Log AE title changes")
    assert not draft.customer.strokes.empty
    assert Path(row["path"]).parent == report_store.reports_dir(ctx.paths.data)
    # A new panel restores the draft from disk.
    again = ReportsPanel(ctx)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.visit.count() == 2, timeout=10000)
    assert again.summary.toPlainText() == "CT fixed; worklist pending the RIS vendor."
    assert again.customer.value().signed_at is not None


def test_panel_preview_of_the_sample_and_verify(qtbot, ctx, tmp_path):
    panel = ReportsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.visit.count() == 1, timeout=10000)
    panel.preview_button.click()
    qtbot.waitUntil(lambda: panel.pages.count() > 3, timeout=60000)
    assert panel.last_pdf.name == "preview.pdf" and panel.model.rowCount() == 0
    # Readable: the page fills the preview's width, and zoom buttons make it larger.
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QLabel

    page = panel.findChild(QLabel, "preview-page-1")
    room = panel.preview.scroll.viewport().width()
    fitted = page.pixmap().width()
    assert room - 40 <= fitted <= room
    QTest.mouseClick(panel.preview.in_button, Qt.MouseButton.LeftButton)
    assert page.pixmap().width() > fitted and panel.preview.zoom_label.text().endswith("%")
    QTest.mouseClick(panel.preview.fit_button, Qt.MouseButton.LeftButton)
    assert page.pixmap().width() == fitted
    panel.verify(panel.last_pdf)
    qtbot.waitUntil(lambda: "UNSIGNED" in panel.status.text(), timeout=20000)


def test_panel_signs_the_sample_as_a_sample_without_the_engineers_certificate(qtbot, ctx):
    from pacs_console.core.reports.certs import p12_path
    from pacs_console.core.reports.verify import verify_file

    panel = ReportsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.visit.count() == 1, timeout=10000)
    assert panel.visit.currentData() == SAMPLE
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.last_pdf is not None and panel.last_pdf.name == "signed.pdf"
                    and panel.sign_button.isEnabled(), timeout=60000)
    result = verify_file(panel.last_pdf).to_dict()
    assert result["state"] == "sample" and result["sample"] is True and result["intact"]
    assert result["signatures"][0]["signer"].startswith("SAMPLE - not a real signature")
    assert not p12_path(ctx.paths.data).exists() and panel.model.rowCount() == 0
