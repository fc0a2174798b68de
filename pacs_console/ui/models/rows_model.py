"""A table model that rows stream into in batches (C-FIND matches, transfer logs), sortable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


def append_streamed(model: QAbstractTableModel, rows: list, new) -> None:
    """Add the batch ``new`` at the end of ``rows``, the list behind ``model``, telling its views."""
    new = list(new)
    if not new:
        return
    start = len(rows)
    model.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
    rows.extend(new)
    model.endInsertRows()


class RowsModel(QAbstractTableModel):
    """Rows are dicts; ``columns`` picks and orders the keys shown, ``titles`` (optional) names
    them for a person (the key itself is the header's tooltip)."""

    def __init__(self, columns: tuple[str, ...] = (), parent=None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.titles: list[str] = []
        self.rows: list[dict[str, Any]] = []

    def set_columns(self, columns, titles=None) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        self.titles = list(titles or [])
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.endResetModel()

    def append_rows(self, rows: list[dict[str, Any]]) -> None:
        append_streamed(self, self.rows, rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole) and index.isValid():
            return str(self.rows[index.row()].get(self.columns[index.column()], ""))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (self.titles[section] if section < len(self.titles)
                    else self.columns[section])
        if role == Qt.ItemDataRole.ToolTipRole and self.titles:
            return self.columns[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return  # the view sorts once when sorting is switched on, before any column exists
        key = self.columns[column]
        self.layoutAboutToBeChanged.emit()
        self.rows.sort(key=lambda r: str(r.get(key, "")),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()
