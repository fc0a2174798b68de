"""'Known fixes' beside a diagnosis: matching knowledge articles, best first, where and when."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from pacs_console.core.context import Context


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
        from pacs_console.core.kb.store import suggest

        self.show_suggestions(suggest(self.ctx.db, codes, vendor or None) if codes else [])

    def show_for_incident(self, record) -> None:
        from pacs_console.core.kb.draft import suggest_for_incident

        self.show_suggestions(suggest_for_incident(self.ctx.db, record.id) if record else [])

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
