"""Tag browser: search over tags, names, keywords and values (nested too), and copy."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.imaging.tags import TagRow
from pacs_console.ui import workers
from pacs_console.ui.models.tags import TagTableModel


def _read_tags(path: str) -> tuple[str, list]:
    from pacs_console.core.imaging.tags import read_tags

    return path, read_tags(path)


class TagBrowser(QWidget):
    """``show_file(path)`` reads a file's tags on a worker; ``failed(exc)`` when it cannot."""

    failed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = ""
        self.model = TagTableModel(self)
        self.search = QLineEdit()
        self.search.setObjectName("tag-search")
        self.search.setPlaceholderText("Search tags, names, keywords, values…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.model.set_query)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the selected rows, or all shown rows (Ctrl+C)")
        self.copy_button.clicked.connect(self.copy)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        # Columns share the width (no horizontal scrolling); long text elides, and the full
        # row is in the tooltip and copied with Ctrl+C.
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(28)
        header.setStretchLastSection(False)
        for column, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch,
                                       QHeaderView.ResizeMode.ResizeToContents,
                                       QHeaderView.ResizeMode.Stretch)):
            if column < self.model.columnCount():
                header.setSectionResizeMode(column, mode)
        QShortcut(QKeySequence.StandardKey.Copy, self.table, self.copy)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_rows(self, rows: list[TagRow]) -> None:
        self.model.set_rows(rows)

    def show_file(self, path: str) -> None:
        self.path = path
        workers.start(_read_tags, path, on_result=self._file_read, on_error=self._failed)

    def _file_read(self, answer) -> None:
        path, rows = answer
        if path == self.path:  # a later file's tags are on their way: this answer is stale
            self.set_rows(rows)

    def _failed(self, exc: Exception) -> None:
        self.failed.emit(exc)

    def copy(self) -> str:
        selected = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        rows = [self.model.rows[i] for i in selected] or self.model.rows
        text = "\n".join(row.text() for row in rows)
        QGuiApplication.clipboard().setText(text)
        return text
