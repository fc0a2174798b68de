"""Handwritten signature pad (mouse, pen, touch) with printed name, role and time; vector out."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.reports.model import HandSignature, Strokes

INK = QColor("#14286e")


class SignaturePad(QWidget):
    """Strokes in widget coordinates; ``strokes()`` hands them to the report as vectors."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signature-pad")
        self.setMinimumSize(320, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._strokes: list[list[QPointF]] = []
        self._undone: list[list[QPointF]] = []
        self._drawing = False

    # -- input: every source ends in _begin/_extend/_end ---------------------------------
    def _begin(self, point: QPointF) -> None:
        self._strokes.append([QPointF(point)])
        self._undone.clear()
        self._drawing = True
        self.update()

    def _extend(self, point: QPointF) -> None:
        if self._drawing and self._strokes:
            last = self._strokes[-1][-1]
            if (point - last).manhattanLength() >= 0.75:  # drop jitter below a pixel
                self._strokes[-1].append(QPointF(point))
                self.update()

    def _end(self) -> None:
        if self._drawing:
            self._drawing = False
            self.changed.emit()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._extend(event.position())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._end()

    def tabletEvent(self, event) -> None:  # noqa: N802 - Qt override
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def event(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            points = event.points()
            if points:
                position = points[0].position()
                if kind == QEvent.Type.TouchBegin:
                    self._begin(position)
                elif kind == QEvent.Type.TouchUpdate:
                    self._extend(position)
                else:
                    self._extend(position)
                    self._end()
            event.accept()
            return True
        return super().event(event)

    # -- editing ---------------------------------------------------------------------------
    def clear(self) -> None:
        self._strokes.clear()
        self._undone.clear()
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self._strokes:
            self._undone.append(self._strokes.pop())
            self.update()
            self.changed.emit()

    def redo(self) -> None:
        if self._undone:
            self._strokes.append(self._undone.pop())
            self.update()
            self.changed.emit()

    @property
    def is_empty(self) -> bool:
        return not self._strokes

    # -- output ----------------------------------------------------------------------------
    def strokes(self) -> Strokes:
        return Strokes(float(self.width()), float(self.height()), tuple(
            tuple((round(p.x(), 1), round(p.y(), 1)) for p in stroke)
            for stroke in self._strokes))

    def set_strokes(self, strokes: Strokes) -> None:
        sx = self.width() / strokes.width if strokes.width else 1.0
        sy = self.height() / strokes.height if strokes.height else 1.0
        scale = min(sx, sy)
        self._strokes = [[QPointF(x * scale, y * scale) for x, y in s] for s in strokes.strokes]
        self._undone.clear()
        self.update()

    def to_png(self, scale: float = 2.0) -> bytes:
        """The ink alone on a transparent background, for previews and other documents."""
        image = QImage(int(self.width() * scale), int(self.height() * scale),
                       QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.scale(scale, scale)
        self._paint_ink(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QBuffer.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data.data())

    def _paint_ink(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(INK, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        for stroke in self._strokes:
            if len(stroke) == 1:
                painter.drawPoint(stroke[0])
                continue
            path = QPainterPath(stroke[0])
            for point in stroke[1:]:
                path.lineTo(point)
            painter.drawPath(path)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        painter.setPen(QPen(QColor("#9aa5b1"), 1, Qt.PenStyle.DashLine))
        baseline = int(self.height() * 0.78)
        painter.drawLine(12, baseline, self.width() - 12, baseline)
        if self.is_empty:
            painter.setPen(QColor("#9aa5b1"))
            painter.drawText(self.rect().adjusted(12, 8, -12, -8),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                             "Sign here with the mouse, a pen or a finger")
        self._paint_ink(painter)
        painter.end()


class SignatureCapture(QWidget):
    """Pad plus printed name and role; Accept stamps the time, any new ink clears it."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.signed_at: datetime | None = None
        self.pad = SignaturePad()
        self.name = QLineEdit()
        self.role = QLineEdit()
        self.status = QLabel("Not signed")
        self.clear_button = QPushButton("Clear")
        self.undo_button = QPushButton("Undo stroke")
        self.redo_button = QPushButton("Redo stroke")
        self.accept_button = QPushButton("Accept")
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button.clicked.connect(self.pad.undo)
        self.redo_button.clicked.connect(self.pad.redo)
        self.accept_button.clicked.connect(self.accept)
        self.pad.changed.connect(self._ink_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        layout.addWidget(self.pad)
        buttons = QHBoxLayout()
        for button in (self.clear_button, self.undo_button, self.redo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.status)
        buttons.addWidget(self.accept_button)
        layout.addLayout(buttons)
        form = QFormLayout()
        form.addRow("Printed name", self.name)
        form.addRow("Role", self.role)
        layout.addLayout(form)

    def _ink_changed(self) -> None:
        self.signed_at = None
        self.status.setText("Not signed" if self.pad.is_empty else "Drawn — press Accept")

    def accept(self) -> bool:
        if self.pad.is_empty or not self.name.text().strip():
            self.status.setText("Needs a signature and a printed name")
            return False
        self.signed_at = datetime.now(UTC)
        self.status.setText(f"Accepted {self.signed_at:%H:%M} UTC")
        return True

    def value(self) -> HandSignature:
        if self.signed_at is None:
            return HandSignature(self.name.text().strip(), self.role.text().strip())
        return HandSignature(self.name.text().strip(), self.role.text().strip(), self.signed_at,
                             self.pad.strokes())

    def set_value(self, signature: HandSignature) -> None:
        self.name.setText(signature.name)
        self.role.setText(signature.role)
        self.pad.set_strokes(signature.strokes)
        self.signed_at = signature.signed_at if not signature.strokes.empty else None
        self.status.setText(f"Accepted {self.signed_at:%H:%M} UTC" if self.signed_at
                            else "Not signed")
