"""Column widths a person can read: from the font, the header text and a typical value, with the
free text columns taking what is left. Fixed modes: the view never measures every row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableView


def size_columns(view: QTableView, samples: dict[str, str], stretch: tuple[str, ...]) -> None:
    """``samples`` maps a header title to a typical value; titles in ``stretch`` share the
    remaining width. Every other column is as wide as its title or sample, whichever is wider."""
    model, header = view.model(), view.horizontalHeader()
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
