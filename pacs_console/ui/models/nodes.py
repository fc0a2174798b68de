"""The address book as models: a table of nodes and the node picker's one-line list, both over
one list of NodeRecords read on a worker. A new list is a model reset (no item per cell), so a
10,000-node book shows without a GUI-thread stall."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

COLUMNS = ("Name", "AE title", "Host", "Port", "Tags")
Index = QModelIndex | QPersistentModelIndex
_DISPLAY, _USER = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.UserRole


def _cells(node) -> tuple[str, ...]:
    return node.name, node.ae_title, node.host, str(node.port), node.tags


class NodeTableModel(QAbstractTableModel):
    """One row per node; UserRole is the node's id."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.nodes: list = []

    def set_nodes(self, nodes: list) -> None:
        self.beginResetModel()
        self.nodes = nodes
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.nodes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY):
        if not index.isValid() or role not in (_DISPLAY, _USER):
            return None
        node = self.nodes[index.row()]
        return _cells(node)[index.column()] if role == _DISPLAY else node.id

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = _DISPLAY):
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY:
            return COLUMNS[section]
        return None


class NodePickerModel(QAbstractListModel):
    """The node picker's lines ("name — AE@host:port") over the table model's nodes."""

    def __init__(self, table: NodeTableModel, parent=None) -> None:
        super().__init__(parent)
        self.table = table
        table.modelAboutToBeReset.connect(self.beginResetModel)
        table.modelReset.connect(self.endResetModel)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.table.nodes)

    def data(self, index: Index, role: int = _DISPLAY):
        if not index.isValid() or role != _DISPLAY:
            return None
        node = self.table.nodes[index.row()]
        return f"{node.name} — {node.ae_title}@{node.host}:{node.port}"
