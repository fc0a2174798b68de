"""A flat table model over the core's tag rows, indented by sequence depth, filterable."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from pacs_console.core.imaging.tags import TagRow, search

COLUMNS = ("Tag", "Name", "VR", "Value")


class TagTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.all_rows: list[TagRow] = []
        self.rows: list[TagRow] = []
        self.query = ""

    def set_rows(self, rows: list[TagRow]) -> None:
        self.beginResetModel()
        self.all_rows = rows
        self.rows = search(rows, self.query)
        self.endResetModel()

    def set_query(self, text: str) -> None:
        self.beginResetModel()
        self.query = text
        self.rows = search(self.all_rows, text)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            indent = "    " * row.depth
            value = row.value
            if row.vr == "UI" and index.column() == 3:
                from pacs_console.core.dicom.names import uid_name

                named = uid_name(value)  # SOP classes and transfer syntaxes by name
                value = f"{named} · {value}" if named != value else value
            return (row.tag, indent + (row.name or row.keyword), row.vr, value)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.path}\n{row.value}" if index.column() == 3 else row.path
        return None
