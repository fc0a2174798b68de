"""Write or edit a knowledge article: a new one from scratch, or an incident's resolution."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers

_TEXT_FIELDS = (("symptoms", "Symptoms"), ("cause", "Cause"), ("fix", "Fix"),
                ("body", "Steps / text"))


class ArticleDialog(QDialog):
    """Non-blocking (``open()``); emits ``saved(article)`` after the core saved it. With an
    ``incident_ref`` it is pre-filled from that incident and saving never makes a duplicate."""

    saved = Signal(object)

    def __init__(self, ctx: Context, incident_ref: int | None = None, *, author: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.incident_ref, self.author = ctx, incident_ref, author
        self.setObjectName("article-dialog")
        self.setWindowTitle("Save the fix as an article" if incident_ref else "New article")
        self.title = QLineEdit()
        self.title.setObjectName("article-title")
        self.codes = QLineEdit()
        self.codes.setObjectName("article-codes")
        self.codes.setPlaceholderText("diagnosis codes, e.g. called-ae-rejected 0xA801")
        self.vendor = QLineEdit()
        self.model = QLineEdit()
        self.texts = {name: QPlainTextEdit() for name, _ in _TEXT_FIELDS}
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Diagnosis codes", self.codes)
        form.addRow("Vendor", self.vendor)
        form.addRow("Model", self.model)
        for name, label in _TEXT_FIELDS:
            self.texts[name].setObjectName(f"article-{name}")
            self.texts[name].setMaximumHeight(80)
            form.addRow(label, self.texts[name])
        self.message = QLabel("")
        self.message.setObjectName("article-message")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("<small>Patient names and IDs are removed before saving; "
                                "articles are shared with the team through the helpdesk."
                                "</small>"))
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        if incident_ref is not None:
            self._prefill()

    def _prefill(self) -> None:
        """The incident's draft is read on a worker; the fields fill when it arrives."""
        self.message.setText("Reading the incident…")
        self.buttons.setEnabled(False)  # saving waits for the draft
        workers.start(_draft, self.ctx, self.incident_ref, on_result=self._drafted,
                      on_error=lambda exc: self.message.setText(str(exc)),
                      on_finished=lambda: self.buttons.setEnabled(True))

    def _drafted(self, draft) -> None:
        self.message.setText("")
        self.title.setText(draft.title)
        self.codes.setText(" ".join(draft.codes))
        self.vendor.setText(draft.vendor)
        self.model.setText(draft.model)
        for name, _ in _TEXT_FIELDS:
            self.texts[name].setPlainText(getattr(draft, name))

    def values(self) -> dict:
        data = {name: edit.toPlainText() for name, edit in self.texts.items()}
        data.update(title=self.title.text(), codes=tuple(self.codes.text().split()),
                    vendor=self.vendor.text(), model=self.model.text())
        return data

    def save(self) -> None:
        """Save on a worker; the dialog closes (and ``saved`` is emitted) once saved, else the
        problem is said and the dialog stays."""
        self.buttons.setEnabled(False)
        self.message.setText("Saving…")
        workers.start(_save, self.ctx, self.incident_ref, self.author, self.values(),
                      on_result=self._saved, on_error=lambda exc: self.message.setText(str(exc)),
                      on_finished=lambda: self.buttons.setEnabled(True))

    def _saved(self, article) -> None:
        self.saved.emit(article)
        self.accept()


def _draft(ctx: Context, incident_ref: int):
    from pacs_console.core.kb.draft import draft_from_incident

    return draft_from_incident(ctx.db, incident_ref)


def _save(ctx: Context, incident_ref: int | None, author: str, values: dict):
    """Worker thread: the article saved (from its incident, never twice, or new)."""
    from pacs_console.core.kb.model import Article

    if incident_ref is not None:
        from pacs_console.core.kb.draft import save_from_incident

        return save_from_incident(ctx.db, incident_ref, author=author, **values)
    from pacs_console.core.kb.store import create_article

    return create_article(ctx.db, Article(author=author, **values))
