"""One incident in detail: SLA heading, timeline, quick process buttons, notes and evidence.

Every read and change runs on a worker (ui/workers.py): a change shows once the worker says it
was saved, with the record, timeline and known fixes read back after it; a refusal or failure
is said in the message line, and nothing else changes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.incidents.model import STATUS_LABELS, next_step
from pacs_console.ui import workers
from pacs_console.ui.widgets.panel_parts import button


def actor_of(ctx: Context) -> str:
    """Who the audit trail names: the engineer from Settings, else the login name."""
    from pacs_console.core.settings import actor

    return actor(ctx.settings)


def clock_offset_of(ctx: Context) -> float:
    return float(ctx.settings.extra.get("clock_offset_s", 0.0) or 0.0)


def diagnosis_text(exc: Exception) -> str:
    diagnosis = getattr(exc, "diagnosis", None)
    return diagnosis.text() if diagnosis else f"Unexpected error: {exc}"


def read_detail(ctx: Context, incident_id: int, token: int = 0) -> tuple:
    """Worker thread: an incident's timeline and the knowledge articles matching it (with the
    ``token`` of the request, so only the latest is shown)."""
    from pacs_console.core.incidents.service import timeline
    from pacs_console.core.kb.draft import suggest_for_incident

    return token, timeline(ctx.db, incident_id), suggest_for_incident(ctx.db, incident_id)


def apply_change(ctx: Context, incident_id: int, change, *args, **kwargs) -> tuple:
    """Worker thread: ``change(db, incident_id, *args, **kwargs)`` (a core call), then the
    incident as saved, its timeline and known fixes."""
    from pacs_console.core.incidents.service import get_incident

    change(ctx.db, incident_id, *args, **kwargs)
    return (get_incident(ctx.db, incident_id), *read_detail(ctx, incident_id)[1:])


class IncidentDetail(QWidget):
    """Emits ``changed(record)`` after a successful change so the list can repaint."""

    changed = Signal(object)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current = None  # the IncidentRecord shown
        self.heading = QLabel("Select an incident.")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.timeline_view = QPlainTextEdit()
        self.timeline_view.setReadOnly(True)
        self.next_button = button("Next step", self.advance,
                                  "Move to the next step of the process (Ctrl+Return)")
        self.hold_button = button("On hold…", self.put_on_hold)
        self.resolve_button = button("Resolved", lambda: self.change_status("resolved"))
        self.article_button = QPushButton("Save as article…")
        self.article_button.setToolTip("Save this incident's resolution in the knowledge base")
        self.article_button.clicked.connect(self.save_as_article)
        self.article_dialog = None
        self.busy: workers.Worker | None = None  # a change being saved
        self._detail_read = 0  # the latest timeline read: earlier answers are dropped
        self.attach_run_button = QPushButton("Attach latest test run")
        self.attach_run_button.setToolTip("Ctrl+T")
        self.attach_run_button.clicked.connect(self.attach_latest_run)
        self.attach_file_button = QPushButton("Attach file…")
        self.attach_file_button.clicked.connect(lambda: self.attach_file())
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Add a note and press Enter (Ctrl+M)")
        self.note_edit.returnPressed.connect(self.add_note)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        from pacs_console.ui.widgets.known_fixes import KnownFixes

        self.known_fixes = KnownFixes(ctx)  # articles matching its runs' codes and vendor
        buttons = QHBoxLayout()
        for widget in (self.next_button, self.hold_button, self.resolve_button,
                       self.article_button):
            buttons.addWidget(widget)
        evidence = QHBoxLayout()
        evidence.addWidget(self.attach_run_button)
        evidence.addWidget(self.attach_file_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.known_fixes)
        layout.addLayout(buttons)
        layout.addWidget(self.timeline_view, 1)
        layout.addWidget(self.note_edit)
        layout.addLayout(evidence)
        layout.addWidget(self.message)
        self._enable_actions()

    def show_record(self, record, *, events: list | None = None,
                    fixes: list | None = None) -> None:
        """Show ``record``; its timeline and known fixes are read on a worker unless one
        already did (``events``, ``fixes``)."""
        previous = self.current
        self.current = record
        self._detail_read += 1
        self._enable_actions()
        if record is None:
            self.known_fixes.show_suggestions([])
            self.heading.setText("Select an incident.")
            self.timeline_view.clear()
            return
        if events is None or fixes is None:
            if previous is None or previous.id != record.id:
                self.timeline_view.setPlainText("Loading the timeline…")
                self.known_fixes.show_suggestions([])
            workers.start(read_detail, self.ctx, record.id, self._detail_read,
                          on_result=self._detail_arrived, on_error=self.show_error)
        else:
            self.known_fixes.show_suggestions(fixes)
        sla = record.sla()
        nodes = ", ".join(label for _, label in record.nodes) or "-"
        hold = f" — on hold: {record.hold_reason}" if record.hold_reason else ""
        self.heading.setText(
            f"<h3>#{record.id} {record.title}</h3>"
            f"{record.severity.capitalize()} · {record.category} · "
            f"<b>{STATUS_LABELS[record.status]}</b>{hold}<br>Site: {record.site_name or '-'}; "
            f"nodes: {nodes}<br>Reported {record.reported_at:%Y-%m-%d %H:%M} UTC; response due "
            f"{sla.due_at:%Y-%m-%d %H:%M} UTC: <b>{sla.state}</b> {sla.countdown()}")
        # The UUID names the incident on every console and the helpdesk: on hover, not in the text.
        self.heading.setToolTip(f"Reference {record.uuid}")
        if events is not None:
            self._show_timeline(events)
        following = next_step(record.status)
        self.next_button.setText(f"→ {STATUS_LABELS[following]}" if following else "Closed")

    def _show_timeline(self, events: list) -> None:
        text = "\n".join(f"{e.at:%Y-%m-%d %H:%M}  {e.kind:<10} {e.author}: {e.text}"
                         for e in events)
        if text != self.timeline_view.toPlainText():  # a reload keeps the reader's place
            self.timeline_view.setPlainText(text)

    def _detail_arrived(self, read: tuple) -> None:
        token, events, fixes = read
        if token != self._detail_read:
            return  # another incident (or a newer state of this one) was shown meanwhile
        self._show_timeline(events)
        self.known_fixes.show_suggestions(fixes)

    def _enable_actions(self) -> None:
        record = self.current
        has = record is not None and self.busy is None
        for widget in (self.hold_button, self.resolve_button, self.attach_run_button,
                       self.attach_file_button):
            widget.setEnabled(has)
        self.note_edit.setEnabled(record is not None)  # typing may go on while a change saves
        self.next_button.setEnabled(has and next_step(record.status) is not None)
        self.article_button.setEnabled(has and record.status in ("resolved", "closed"))
        if has and record.status in ("resolved", "closed"):
            self.hold_button.setEnabled(False)
            self.resolve_button.setEnabled(False)

    def _run(self, change, *args, success: str = "", on_saved=None,
             **kwargs) -> workers.Worker | None:
        """Save a core change to the shown incident on a worker (one at a time); it shows,
        with ``success`` in the message line, only once saved; a Diagnosis becomes the message."""
        if self.current is None:
            return None
        if self.busy is not None:
            self.message.setText("Still saving the last change: try again in a moment.")
            return None
        self.message.setText("Saving…")
        self.busy = workers.start(apply_change, self.ctx, self.current.id, change, *args,
                                  on_result=lambda saved: self._saved(saved, success, on_saved),
                                  on_error=self._save_failed, on_finished=self._save_finished,
                                  **kwargs)
        self._enable_actions()
        return self.busy

    def _saved(self, saved: tuple, success: str, on_saved) -> None:
        record, events, fixes = saved
        self.busy = None  # the buttons answer as soon as the change shows
        if self.current is not None and self.current.id == record.id:
            self.show_record(record, events=events, fixes=fixes)
        self.message.setText(success)
        if on_saved is not None:
            on_saved()
        self.changed.emit(record)

    def _save_failed(self, exc: Exception) -> None:
        self._save_finished()
        self.show_error(exc)

    def _save_finished(self) -> None:
        self.busy = None
        self._enable_actions()

    def change_status(self, status: str, reason: str = "") -> workers.Worker | None:
        from pacs_console.core.incidents.service import set_status

        return self._run(set_status, status, actor=actor_of(self.ctx), hold_reason=reason,
                         clock_offset_s=clock_offset_of(self.ctx),
                         success=f"Now {STATUS_LABELS[status]}" + (
                             ". Save the fix as a knowledge article? (Save as article…)"
                             if status in ("resolved", "closed") else ""))

    def advance(self) -> None:
        following = next_step(self.current.status) if self.current else None
        if following:
            self.change_status(following)

    def put_on_hold(self) -> None:
        reason, ok = QInputDialog.getText(self, "On hold", "What is it waiting for?")
        if ok:
            self.change_status("on_hold", reason)

    def add_note(self) -> None:
        from pacs_console.core.incidents.service import add_note

        self._run(add_note, self.note_edit.text(), actor=actor_of(self.ctx),
                  clock_offset_s=clock_offset_of(self.ctx), success="Note added",
                  on_saved=self.note_edit.clear)

    def attach_latest_run(self) -> None:
        from pacs_console.core.incidents.service import attach_test_run

        self._run(attach_test_run, actor=actor_of(self.ctx), success="Latest test run attached")

    def attach_file(self, path: str | None = None) -> None:
        from pathlib import Path

        if self.current is None:
            return
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Attach file")
        if path:
            self._run(_attach, self.ctx.paths.data / "attachments", Path(path),
                      actor=actor_of(self.ctx), success=f"Attached {Path(path).name}")

    def save_as_article(self) -> None:
        """The close flow's offer: the resolution as a pre-filled, editable article."""
        from pacs_console.ui.widgets.article_dialog import ArticleDialog

        if self.current is None:
            return
        self.article_dialog = ArticleDialog(self.ctx, incident_ref=self.current.id,
                                            author=actor_of(self.ctx), parent=self)
        self.article_dialog.saved.connect(
            lambda article: self.message.setText(f"Saved as knowledge article #{article.id}"))
        self.article_dialog.open()

    def show_error(self, exc: Exception) -> None:
        self.message.setText(diagnosis_text(exc))


def _attach(db, incident_id: int, attachments_dir, path, *, actor: str):
    """Worker thread: copy ``path`` into the attachment store and attach it (core's order of
    arguments, with the incident first as apply_change passes it)."""
    from pacs_console.core.incidents.evidence import attach_file

    return attach_file(db, attachments_dir, incident_id, path, actor=actor)
