"""'Known fixes' beside a diagnosis: matching knowledge articles, best first, where and when."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from pacs_console.core.context import Context


def _suggest(ctx: Context, codes: list, vendor: str | None, asked: int) -> tuple:
    from pacs_console.core.kb.store import suggest

    return asked, suggest(ctx.db, codes, vendor)


class KnownFixes(QLabel):
    """Hidden until a run with a diagnosis code has matching articles. A click on an article
    emits ``article_requested(id)``."""

    article_requested = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("known-fixes")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.linkActivated.connect(lambda link: self.article_requested.emit(int(link)))
        self.suggestions: list = []
        self._asked = 0
        self.hide()

    def show_for_run(self, run) -> None:
        """A saved test run (or any result carrying a diagnosis)."""
        from pacs_console.core.kb.draft import association_vendor, diagnosis_codes

        diagnosis = getattr(run, "diagnosis", None)
        if diagnosis is not None and not isinstance(diagnosis, dict):
            diagnosis = diagnosis.to_dict()
        vendor, _model = association_vendor(getattr(run, "association", None))
        self.show_for_codes(diagnosis_codes(diagnosis), vendor)

    def show_for_codes(self, codes, vendor: str = "") -> None:
        """The articles matching ``codes`` are looked up on a worker (the latest ask wins)."""
        from pacs_console.ui import workers

        self._asked += 1
        if not codes:
            self.show_suggestions([])
            return
        workers.start(_suggest, self.ctx, list(codes), vendor or None, self._asked,
                      on_result=self._suggested)

    def _suggested(self, found: tuple) -> None:
        asked, suggestions = found
        if asked == self._asked:
            self.show_suggestions(suggestions)

    def show_suggestions(self, suggestions: list) -> None:
        self.suggestions = suggestions
        if not self.suggestions:
            self.clear()
            self.hide()
            return
        items = [f'<a href="{s.article.id}">#{s.article.id} {html.escape(s.article.title)}</a>'
                 f" ({html.escape(s.where_and_when())})" for s in self.suggestions]
        self.setText("<b>Known fixes:</b> " + "; ".join(items))
        self.show()
