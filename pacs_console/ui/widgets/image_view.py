"""The image view: window/level by drag, zoom and pan, wheel and keys for slices, overlays."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from pacs_console.core.imaging.render import Frame, render
from pacs_console.ui.widgets.qimages import to_qimage


class ImageView(QWidget):
    """Left drag: window (x) and level (y). Right or middle drag: pan. Ctrl+wheel: zoom.
    Wheel, arrows and Page keys ask for another slice through ``slice_step``."""

    slice_step = Signal(int)
    window_changed = Signal(float, float)
    pixel_info = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("image-view")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.frame: Frame | None = None
        self.center = self.width_ = 0.0
        self.zoom, self.pan = 1.0, QPointF(0, 0)
        self.overlay: dict[str, str] = {}
        self.cursor_text = ""
        self.message = "Open a folder, DICOMDIR, zip or file, or drop one here."
        self._image: QImage | None = None
        # Frame timing: (when a new frame was first painted, ms from set_frame to that paint),
        # the newest few thousand; what the viewer benchmarks read (frames per second, lag).
        self.painted: deque[tuple[float, float]] = deque(maxlen=4096)
        self._frame_set_at: float | None = None
        self._drag: tuple[Qt.MouseButton, QPointF, float, float, QPointF] | None = None

    # -- content -------------------------------------------------------------------------
    def set_frame(self, frame: Frame | None, keep_window: bool = True) -> None:
        first = self.frame is None or frame is None or self.frame.color != (frame and frame.color)
        self.frame = frame
        self._frame_set_at = time.perf_counter() if frame is not None else None
        if frame is not None and (first or not keep_window):
            self.center, self.width_ = frame.default_window
        self._rerender()

    def set_window(self, center: float, width: float) -> None:
        self.center, self.width_ = float(center), max(float(width), 1.0)
        self._rerender()
        self.window_changed.emit(self.center, self.width_)

    def set_message(self, text: str) -> None:
        self.message = text
        self.frame, self._image = None, None
        self.update()

    def reset_view(self) -> None:
        self.zoom, self.pan = 1.0, QPointF(0, 0)
        self.update()

    def _rerender(self) -> None:
        if self.frame is None:
            self._image = None
        else:
            self._image = to_qimage(render(self.frame, self.center, self.width_))
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        if self._image is None:
            return QRectF()
        w, h = self._image.width(), self._image.height()
        fit = min(self.width() / w, self.height() / h) * self.zoom
        dw, dh = w * fit, h * fit
        return QRectF((self.width() - dw) / 2 + self.pan.x(), (self.height() - dh) / 2 + self.pan.y(),
                      dw, dh)

    def image_pixel(self, pos: QPointF) -> tuple[int, int] | None:
        rect = self.image_rect()
        if self._image is None or not rect.contains(pos):
            return None
        x = int((pos.x() - rect.x()) / rect.width() * self._image.width())
        y = int((pos.y() - rect.y()) / rect.height() * self._image.height())
        return (min(x, self._image.width() - 1), min(y, self._image.height() - 1))

    def value_at(self, x: int, y: int) -> str:
        values = self.frame.values
        if self.frame.color:
            r, g, b = (int(v) for v in values[y, x][:3])
            return f"({x}, {y}) RGB {r} {g} {b}"
        units = f" {self.frame.units}" if self.frame.units else ""
        return f"({x}, {y}) {float(values[y, x]):.6g}{units}"

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is None:
            painter.setPen(QColor(170, 170, 170))
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter) |
                             int(Qt.TextFlag.TextWordWrap), self.message)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1.0)
        painter.drawImage(self.image_rect(), self._image)
        self._paint_overlays(painter)
        if self._frame_set_at is not None:
            now = time.perf_counter()
            self.painted.append((now, (now - self._frame_set_at) * 1000))
            self._frame_set_at = None

    def _paint_overlays(self, painter: QPainter) -> None:
        info = self.overlay
        window = "" if self.frame.color else f"W {self.width_:.0f}  L {self.center:.0f}"
        corners = {
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop:
                [info.get("patient", ""), info.get("study", "")],
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop:
                [info.get("series", ""), info.get("instance", ""), info.get("slice", "")],
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom:
                [window, f"Zoom {self.zoom:.2f}x"],
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom:
                [info.get("position", ""), self.cursor_text],
        }
        rect = self.rect().adjusted(6, 4, -6, -4)
        for align, lines in corners.items():
            text = "\n".join(line for line in lines if line)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(rect.translated(1, 1), int(align), text)
            painter.setPen(QColor(255, 230, 120))
            painter.drawText(rect, int(align), text)

    # -- interaction -------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag = (event.button(), event.position(), self.center, self.width_, QPointF(self.pan))
        self.setFocus()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag is not None and self.frame is not None:
            button, start, center, width, pan = self._drag
            delta = pos - start
            if button == Qt.MouseButton.LeftButton and not self.frame.color:
                step = max(width / 256.0, 0.5)  # proportional: fine for MR, quick for CT
                self.set_window(center + delta.y() * step, max(width + delta.x() * step, 1.0))
            elif button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
                self.pan = pan + delta
                self.update()
        pixel = self.image_pixel(pos) if self.frame is not None else None
        self.cursor_text = self.value_at(*pixel) if pixel else ""
        self.pixel_info.emit(self.cursor_text)
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() // 120 or (1 if event.angleDelta().y() > 0 else -1)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom = min(max(self.zoom * (1.25 ** steps), 0.1), 20.0)
            self.update()
        elif event.angleDelta().y():
            self.slice_step.emit(-steps)
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        steps = {Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1,
                 Qt.Key.Key_PageDown: 10, Qt.Key.Key_PageUp: -10}
        if key in steps:
            self.slice_step.emit(steps[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom = min(self.zoom * 1.25, 20.0)
            self.update()
        elif key == Qt.Key.Key_Minus:
            self.zoom = max(self.zoom / 1.25, 0.1)
            self.update()
        elif key == Qt.Key.Key_0:
            self.reset_view()
        else:
            super().keyPressEvent(event)
