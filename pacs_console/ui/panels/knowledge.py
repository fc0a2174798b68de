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
from pacs_console.ui import workers
from pacs_console.ui.widgets.article_conflict import ArticleConflict
from pacs_console.ui.widgets.article_files import ArticleFiles
from pacs_console.ui.widgets.panel_parts import empty_state, pane, panel_heading

RECENT = 200


def _find(ctx: Context, text: str, asked: int) -> tuple:
    """Worker thread: (asked, text, [(article, snippet)], problem with the search or "")."""
    from pacs_console.core.kb.model import ArticleProblem
    from pacs_console.core.kb.store import list_articles, search

    try:
        if text:
            rows = [(h.article, h.snippet) for h in search(ctx.db, text, limit=100)]
        else:
            rows = [(a, "") for a in list_articles(ctx.db, limit=RECENT)]
    except ArticleProblem as exc:
        return asked, text, [], str(exc)
    return asked, text, rows, ""


def _read_article(ctx: Context, article_id: int) -> tuple:
    """Worker thread: the article, its description and the conflict's rows (if any)."""
    from pacs_console.core.kb.store import get_article
    from pacs_console.core.sync.articles import describe
    from pacs_console.ui.widgets.article_conflict import read_side_by_side

    article = get_article(ctx.db, article_id)
    return (article, describe(ctx.db, article, reference=False),
            read_side_by_side(ctx.db, article))


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
        self._asked = 0  # the latest search asked for
        self._shown: int | None = None  # the article asked for last

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.refresh()

    def refresh(self, select_id: int | None = None, said: str = "") -> None:
        """Search results best first, or the most recently updated articles without a search:
        read on a worker (the latest search wins); then ``select_id`` is shown (else the first)
        and ``said`` replaces the count. It reads the search box as it is now, so a search
        still waiting for typing to pause is not needed (it would replace ``said``)."""
        self._debounce.stop()
        text = self.search_edit.text().strip()
        self._asked += 1
        workers.start(_find, self.ctx, text, self._asked,
                      on_result=lambda found: self._found(found, select_id, said),
                      on_error=lambda exc: self.status.setText(str(exc)))

    def _found(self, found: tuple, select_id: int | None = None, said: str = "") -> None:
        asked, text, rows, problem = found
        if asked != self._asked:
            return  # a later search is on its way
        self.results.clear()
        if problem:
            self.status.setText(problem)
            return
        for article, snippet in rows:
            label = f"#{article.id} {article.title}"
            if article.codes:
                label += f"  [{', '.join(article.codes)}]"
            item = QListWidgetItem(label, self.results)
            item.setData(Qt.ItemDataRole.UserRole, article.id)
            item.setToolTip(snippet or article.symptoms[:200])
        self.empty.setVisible(not rows and not text)
        found_text = f"{len(rows)} article{'s' * (len(rows) != 1)}"
        self.status.setText(said or (f"{found_text} match “{text}”" if text
                                     else f"{found_text}, newest first"))
        ids = [article.id for article, _ in rows]
        if select_id is not None and select_id not in ids:
            self.show_article(select_id)  # saved, though the search does not find it
        elif rows:
            self.results.setCurrentRow(ids.index(select_id) if select_id in ids else 0)
        else:
            self.article_view.clear()
            self.conflict.hide()
            self.files.show_for(None)

    def _selected(self, item, _previous) -> None:
        if item is not None:
            self.show_article(item.data(Qt.ItemDataRole.UserRole))

    def show_article(self, article_id: int, said: str = "") -> None:
        """The article, its sync state and any conflict, read on a worker."""
        self._shown = article_id
        workers.start(_read_article, self.ctx, article_id,
                      on_result=lambda read: self._show(read, said),
                      on_error=lambda exc: self.status.setText(str(exc)))

    def _show(self, read: tuple, said: str) -> None:
        article, description, conflict = read
        if article.id != self._shown:
            return  # another article was picked meanwhile
        self.article_view.setPlainText(description)
        self.conflict.show_for(article, conflict)
        self.files.show_for(article)
        if said:
            self.status.setText(said)

    def _resolved(self, article_id: int, text: str) -> None:
        self.status.setText(text)  # the worker confirmed it: said at once, the article follows
        self.show_article(article_id)

    def new_article(self) -> None:
        from pacs_console.ui.widgets.article_dialog import ArticleDialog
        from pacs_console.ui.widgets.incident_detail import actor_of

        self.dialog = ArticleDialog(self.ctx, author=actor_of(self.ctx), parent=self)
        self.dialog.saved.connect(self._saved)
        self.dialog.open()

    def _saved(self, article) -> None:
        self.refresh(article.id, f"Article #{article.id} saved")
