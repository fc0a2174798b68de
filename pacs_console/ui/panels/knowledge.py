"""Knowledge panel: search the team's articles (FTS5, best first), read one, write a new one,
answer a conflict with the helpdesk's version (side by side: Keep mine / Take theirs), and the
article's files (attach, save a copy)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.widgets.article_conflict import ArticleConflict
from pacs_console.ui.widgets.article_files import ArticleFiles
from pacs_console.ui.widgets.panel_parts import empty_state, pane, panel_heading

RECENT = 200


class KnowledgePanel(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("kb-search")
        self.search_edit.setPlaceholderText("Search symptoms, codes, vendors, fixes…")
        self.search_edit.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=150)
        self._debounce.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(lambda _t: self._debounce.start())
        self.search_edit.returnPressed.connect(self.refresh)
        self.new_button = QPushButton("New article…")
        self.new_button.clicked.connect(self.new_article)
        self.results = QListWidget()
        self.results.setObjectName("kb-results")
        self.results.currentItemChanged.connect(self._selected)
        # Titles are long sentences: wrapped in the list, never a sideways scroll.
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.article_view = QPlainTextEdit()
        self.article_view.setObjectName("kb-article")
        self.article_view.setReadOnly(True)
        self.conflict = ArticleConflict(ctx)
        self.conflict.resolved.connect(self._resolved)
        self.files = ArticleFiles(ctx)
        self.files.changed.connect(self._resolved)
        self.status = QLabel("")
        self.status.setObjectName("kb-status")
        self.files.said.connect(self.status.setText)
        self.empty = empty_state("No articles yet. Write one with New article…, save an "
                                 "incident's fix from the Incidents panel, or sync to get "
                                 "the team's articles from the helpdesk.")
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.new_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.results)
        splitter.addWidget(pane(self.conflict, (self.article_view, 1), self.files))
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([400, 600])  # in proportion: the list gets 2/5 of the width
        layout = QVBoxLayout(self)
        layout.addWidget(panel_heading(
            "Knowledge", "What the team has learnt: fixes, SOPs and checklists, searched by "
            "symptom, diagnosis code or vendor, shared through the helpdesk."))
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self.dialog = None

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Search results best first, or the most recently updated articles without a search."""
        from pacs_console.core.kb.model import ArticleProblem
        from pacs_console.core.kb.store import list_articles, search

        text = self.search_edit.text().strip()
        try:
            if text:
                rows = [(h.article, h.snippet) for h in search(self.ctx.db, text, limit=100)]
            else:
                rows = [(a, "") for a in list_articles(self.ctx.db, limit=RECENT)]
        except ArticleProblem as exc:
            self.results.clear()
            self.status.setText(str(exc))
            return
        self.results.clear()
        for article, snippet in rows:
            label = f"#{article.id} {article.title}"
            if article.codes:
                label += f"  [{', '.join(article.codes)}]"
            item = QListWidgetItem(label, self.results)
            item.setData(Qt.ItemDataRole.UserRole, article.id)
            item.setToolTip(snippet or article.symptoms[:200])
        self.empty.setVisible(not rows and not text)
        found = f"{len(rows)} article{'s' * (len(rows) != 1)}"
        self.status.setText(f"{found} match “{text}”" if text else f"{found}, newest first")
        if rows:
            self.results.setCurrentRow(0)
        else:
            self.article_view.clear()
            self.conflict.hide()
            self.files.show_for(None)

    def _selected(self, item, _previous) -> None:
        if item is not None:
            self.show_article(item.data(Qt.ItemDataRole.UserRole))

    def show_article(self, article_id: int) -> None:
        from pacs_console.core.kb.store import ArticleNotFound, get_article
        from pacs_console.core.sync.articles import describe

        try:
            article = get_article(self.ctx.db, article_id)
        except ArticleNotFound as exc:
            self.status.setText(str(exc))
            return
        self.article_view.setPlainText(describe(self.ctx.db, article, reference=False))
        self.conflict.show_for(article)
        self.files.show_for(article)

    def _resolved(self, article_id: int, text: str) -> None:
        self.show_article(article_id)
        self.status.setText(text)

    def new_article(self) -> None:
        from pacs_console.ui.widgets.article_dialog import ArticleDialog
        from pacs_console.ui.widgets.incident_detail import actor_of

        self.dialog = ArticleDialog(self.ctx, author=actor_of(self.ctx), parent=self)
        self.dialog.saved.connect(self._saved)
        self.dialog.open()

    def _saved(self, article) -> None:
        self.refresh()
        self.show_article(article.id)
        self.status.setText(f"Article #{article.id} saved")
