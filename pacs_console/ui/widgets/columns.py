"""Column widths a person can read: from the font, the header text and a typical value, with the
free text columns taking what is left. Fixed modes: the view never measures every row. A value
cut short ("Tamale Teach…") shows in full in its tooltip."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolTip

CELL_PADDING = 8  # the style's margins around a cell's text, at least


class ElidedTips(QObject):
    """On a view's viewport: hovering a cell whose text is cut short shows all of it (unless the
    model has a tooltip of its own for the cell)."""

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self.view = view
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.ToolTip:
            return False
        index = self.view.indexAt(event.pos())
        if not index.isValid() or index.data(Qt.ItemDataRole.ToolTipRole):
            return False  # the model's own tooltip, if any, as usual
        text = str(index.data() or "")
        shown = self.view.visualRect(index).width() - CELL_PADDING
        if text and self.view.fontMetrics().horizontalAdvance(text) > shown:
            QToolTip.showText(event.globalPos(), text, self.view.viewport())
        else:
            QToolTip.hideText()
        return True


def size_columns(view: QTableView, samples: dict[str, str], stretch: tuple[str, ...]) -> None:
    """``samples`` maps a header title to a typical value; titles in ``stretch`` share the
    remaining width. Every other column is as wide as its title or sample, whichever is wider;
    what does not fit is elided, whole in the cell's tooltip."""
    model, header = view.model(), view.horizontalHeader()
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    if view.findChild(ElidedTips) is None:
        ElidedTips(view)
    metrics = view.fontMetrics()
    header.setStretchLastSection(False)
    for column in range(model.columnCount()):
        title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        if title in stretch:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            continue
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        width = max(metrics.horizontalAdvance(title), metrics.horizontalAdvance(
            samples.get(title, title)))
        view.setColumnWidth(column, width + 22)  # padding and the sort arrow
