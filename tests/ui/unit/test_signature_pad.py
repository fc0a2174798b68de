"""Widget unit tests of the signature pad and its capture box (not GUI journeys): strokes drawn
with mouse and touch events on the widget alone, undo/redo, the PNG, and the accept rules. The
Reports panel itself is driven like a person in tests/ui/acceptance (test_records_reports,
test_reports_sample)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from pacs_console.ui.widgets.signature_pad import SignatureCapture, SignaturePad


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
