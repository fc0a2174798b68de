"""The Sync panel's "Changed on both sides" list, with Keep mine / Take theirs for site nodes.

Rows come from the panel's snapshot worker as (text, node id or None); a ticket conflict has
no node and is only shown. The answer runs on a worker (core ``inventory_conflicts.resolve``);
the panel hears the outcome through ``resolved`` and refreshes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pacs_console.ui import workers

NODE = Qt.ItemDataRole.UserRole


class NodeConflicts(QWidget):
    resolved = Signal(str)  # what happened, in words (or why nothing did)

    def __init__(self, ctx, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setObjectName("sync-conflicts")
        self.list.setWordWrap(True)
        column.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.keep = QPushButton("Keep mine")
        self.keep.setToolTip("Send this laptop's version of the node over the helpdesk's at "
                             "the next sync")
        self.take = QPushButton("Take theirs")
        self.take.setToolTip("Replace this laptop's version of the node with the helpdesk's")
        for button, choice in ((self.keep, "mine"), (self.take, "theirs")):
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, c=choice: self._answer(c))
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        self.list.currentItemChanged.connect(lambda *_: self._enable())

    def show_conflicts(self, conflicts: list[tuple[str, int | None]]) -> None:
        rows = conflicts or [("(none)", None)]
        shown = [(self.list.item(i).text(), self.list.item(i).data(NODE))
                 for i in range(self.list.count())]
        if rows == shown:
            return
        selected = self.list.currentItem().data(NODE) if self.list.currentItem() else None
        self.list.clear()
        for text, node_id in rows:
            item = QListWidgetItem(text)
            item.setData(NODE, node_id)
            item.setToolTip(text)
            self.list.addItem(item)
            if node_id is not None and node_id == selected:
                self.list.setCurrentItem(item)
        self._enable()

    def _node(self) -> int | None:
        item = self.list.currentItem()
        return item.data(NODE) if item is not None else None

    def _enable(self) -> None:
        for button in (self.keep, self.take):
            button.setEnabled(self._node() is not None)

    def _answer(self, choice: str) -> None:
        from pacs_console.core.sync.inventory_conflicts import resolve

        node_id = self._node()
        if node_id is None:
            return
        self.keep.setEnabled(False)
        self.take.setEnabled(False)

        def done(node) -> None:
            self.resolved.emit(
                f"{node.name}: your version is kept; it goes to the helpdesk at the next sync"
                if choice == "mine" else
                f"{node.name}: the helpdesk's version ({node.label}) replaced yours")

        workers.start(resolve, self.ctx.db, node_id, choice, on_result=done,
                      on_error=lambda exc: self.resolved.emit(f"Not resolved: {exc}"))
