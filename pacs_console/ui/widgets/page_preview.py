"""Rendered report pages in a scroll area, fitted to its width by default, with zoom."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


class PagePreview(QWidget):
    """Pages rendered at print-like resolution, shown fit-to-width or at a chosen zoom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images: list[QPixmap] = []
        self.zoom: float | None = None  # None: fit the width
        self.fit_button = QPushButton("Fit width")
        self.fit_button.setObjectName("preview-fit-width")
        self.out_button = QPushButton("−")
        self.out_button.setObjectName("preview-zoom-out")
        self.in_button = QPushButton("+")
        self.in_button.setObjectName("preview-zoom-in")
        self.zoom_label = QLabel("")  # the scale shown, e.g. "62%" (the button says "Fit width")
        self.zoom_label.setObjectName("preview-zoom")
        for button in (self.out_button, self.in_button):
            button.setFixedWidth(32)
        self.fit_button.clicked.connect(lambda: self.set_zoom(None))
        self.out_button.clicked.connect(lambda: self.step(-1))
        self.in_button.clicked.connect(lambda: self.step(1))
        inner = QWidget()
        self.pages = QVBoxLayout(inner)
        self.pages.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(inner)
        self.scroll.viewport().installEventFilter(self)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Preview"))
        bar.addStretch(1)
        for widget in (self.fit_button, self.out_button, self.zoom_label, self.in_button):
            bar.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)

    def set_pages(self, paths: list[Path]) -> None:
        while self.pages.count() > 1:
            item = self.pages.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.images = [QPixmap(str(path)) for path in paths]
        for n in range(len(self.images)):
            label = QLabel()
            label.setObjectName(f"preview-page-{n + 1}")
            label.setFrameShape(QFrame.Shape.Box)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.pages.insertWidget(n, label)
        self._scale()

    def step(self, direction: int) -> None:
        current = self.zoom if self.zoom is not None else self._fit_factor()
        larger = [z for z in ZOOMS if z > current + 0.01]
        smaller = [z for z in ZOOMS if z < current - 0.01]
        if direction > 0 and larger:
            self.set_zoom(larger[0])
        elif direction < 0 and smaller:
            self.set_zoom(smaller[-1])

    def set_zoom(self, zoom: float | None) -> None:
        self.zoom = zoom
        self._scale()

    def _fit_factor(self) -> float:
        if not self.images or self.images[0].width() == 0:
            return 1.0
        room = self.scroll.viewport().width() - 24
        return max(0.2, room / self.images[0].width())

    def _scale(self) -> None:
        factor = self.zoom if self.zoom is not None else self._fit_factor()
        self.zoom_label.setText(f"{factor:.0%}" if self.images else "")
        for n, image in enumerate(self.images):
            label = self.pages.itemAt(n).widget()
            if label is not None and not image.isNull():
                label.setPixmap(image.scaledToWidth(max(50, int(image.width() * factor)),
                                                    Qt.TransformationMode.SmoothTransformation))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Resize and self.zoom is None and self.images:
            self._scale()
        return super().eventFilter(watched, event)
