"""numpy uint8 images from core to QImage/QPixmap, and the placeholder tile that says why."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap


def to_qimage(image: np.ndarray) -> QImage:
    """Grey (HxW) or RGB (HxWx3) uint8 to a QImage that owns its memory."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    if image.ndim == 3:
        qimage = QImage(image.data, width, height, width * 3, QImage.Format.Format_RGB888)
    else:
        qimage = QImage(image.data, width, height, width, QImage.Format.Format_Grayscale8)
    return qimage.copy()


def tile(image: np.ndarray | None, reason: str, size: int) -> QPixmap:
    """A square tile: the thumbnail centred on black, or a placeholder with the reason."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(24, 24, 24))
    painter = QPainter(pixmap)
    if image is not None:
        scaled = QPixmap.fromImage(to_qimage(image)).scaled(
            size, size, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation)
        painter.drawPixmap((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    else:
        painter.setPen(QColor(230, 160, 60))
        font = QFont()
        font.setPixelSize(max(9, size // 11))
        painter.setFont(font)
        painter.drawText(QRect(4, 4, size - 8, size - 8),
                         int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap),
                         reason or "no image")
    painter.end()
    return pixmap
