"""An article changed here and on the helpdesk: both versions side by side, Keep mine / Take theirs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.widgets import panel_parts as parts


class ArticleConflict(QWidget):
    """Hidden unless the shown article is in conflict. ``resolved`` carries a line to show."""

    resolved = Signal(int, str)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("kb-conflict")
        self.ctx, self.article_id = ctx, None
        self.title = QLabel("Changed here and on the helpdesk since the last sync: choose "
                            "which version to keep.")
        self.title.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("kb-conflict-table")
        self.table.setHorizontalHeaderLabels(["Field", "Here (mine)", "On the helpdesk"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.keep_button = parts.button("Keep mine", lambda: self._resolve("mine"),
                                        "Send this laptop's version to the helpdesk at the next sync")
        self.take_button = parts.button("Take theirs", lambda: self._resolve("theirs"),
                                        "Replace this laptop's version with the helpdesk's")
        layout = parts.column(self, self.title, self.table,
                              parts.row(1, self.keep_button, self.take_button))
        layout.setContentsMargins(0, 0, 0, 0)
        self.hide()

    def show_for(self, article, rows: list | None = None) -> None:
        """``rows``: the two versions side by side, as read_side_by_side() reads them on a
        worker (none: no conflict to answer)."""
        rows = rows or []
        self.article_id = article.id if rows else None
        self.table.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeRowsToContents()
        self.setVisible(bool(rows))

    def _resolve(self, choice: str) -> None:
        if self.article_id is None:
            return
        workers.start(_resolve, self.ctx, self.article_id, choice,
                      on_result=self._answered, on_error=self._refused)

    def _answered(self, answered: tuple) -> None:
        article_id, choice = answered
        self.hide()
        self.resolved.emit(article_id, (
            f"Article #{article_id}: your version is kept; it goes to the helpdesk at the "
            "next sync" if choice == "mine" else
            f"Article #{article_id}: the helpdesk's version replaced yours"))

    def _refused(self, exc: Exception) -> None:
        if self.article_id is not None:
            self.resolved.emit(self.article_id, str(exc))


def read_side_by_side(db, article) -> list:
    """Worker thread: the conflict's rows (mine, theirs), or none when there is no conflict."""
    from pacs_console.core.sync.articles import side_by_side

    return side_by_side(db, article) if article.sync_state == "conflict" else []


def _resolve(ctx: Context, article_id: int, choice: str) -> tuple:
    from pacs_console.core.sync.articles import resolve

    resolve(ctx.db, article_id, choice)
    return article_id, choice
