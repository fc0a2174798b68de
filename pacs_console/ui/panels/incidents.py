"""Incidents panel: filtered lazy list with SLA badges, detail with timeline and quick actions."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.core.incidents.model import STATUS_LABELS, next_step
from pacs_console.ui import workers
from pacs_console.ui.models.incidents import IncidentTableModel
from pacs_console.ui.widgets.incident_filters import IncidentFilterBar


def _load_ids(ctx: Context, flt, sort: str, descending: bool) -> list[int]:
    from pacs_console.core.incidents.queries import incident_ids

    return incident_ids(ctx.db, flt, sort=sort, descending=descending)


def _load_sites(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db)


class IncidentsPanel(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-incidents")
        self.ctx = ctx
        self.sort, self.descending = "reported", True
        self.loaded = False
        self.current = None  # IncidentRecord shown in the detail pane
        self.worker: workers.Worker | None = None
        self.sites: list = []
        self._generation = 0
        self.model = IncidentTableModel(self._fetch, self)
        self.model.sortRequested.connect(self._sort)
        self._build_filters()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(6, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights and column modes: the view never asks every row for its size.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _: self.show_row(cur.row()))
        self.count_label = QLabel("")
        self._build_detail()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(self.filter_bar)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Incidents</h2>"))
        layout.addWidget(splitter, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.model.tick)
        self._shortcuts()

    # building ------------------------------------------------------------------------------

    def _build_filters(self) -> None:
        self.filters = IncidentFilterBar(self)
        self.filters.changed.connect(self._filters_changed)
        f = self.filters  # the panel's tests and shortcuts reach the editors directly
        self.search, self.status_filter, self.severity_filter = f.search, f.status, f.severity
        self.site_filter, self.use_dates = f.site, f.use_dates
        self.new_button = QPushButton("New…")
        self.new_button.setToolTip("New incident (Ctrl+N)")
        self.new_button.clicked.connect(self.new_incident)
        self.from_run_button = QPushButton("From failed test…")
        self.from_run_button.setToolTip("New incident pre-filled from the latest failed test run")
        self.from_run_button.clicked.connect(self.new_from_failed_run)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(self.export_csv)
        self.verify_button = QPushButton("Verify audit")
        self.verify_button.setToolTip("Check the audit trail for edits made outside the app")
        self.verify_button.clicked.connect(self.verify_audit)
        bar = QHBoxLayout()
        bar.addWidget(self.filters, 1)
        for widget in (self.new_button, self.from_run_button, self.export_button,
                       self.verify_button):
            bar.addWidget(widget)
        self.filter_bar = bar

    def _build_detail(self) -> None:
        self.detail = QWidget()
        self.heading = QLabel("Select an incident.")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.timeline_view = QPlainTextEdit()
        self.timeline_view.setReadOnly(True)
        self.next_button = QPushButton("Next step")
        self.next_button.setToolTip("Move to the next step of the process (Ctrl+Return)")
        self.next_button.clicked.connect(self.advance)
        self.hold_button = QPushButton("On hold…")
        self.hold_button.clicked.connect(self.put_on_hold)
        self.resolve_button = QPushButton("Resolved")
        self.resolve_button.clicked.connect(lambda: self.change_status("resolved"))
        self.attach_run_button = QPushButton("Attach latest test run")
        self.attach_run_button.setToolTip("Ctrl+T")
        self.attach_run_button.clicked.connect(self.attach_latest_run)
        self.attach_file_button = QPushButton("Attach file…")
        self.attach_file_button.clicked.connect(self.attach_file)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Add a note and press Enter (Ctrl+M)")
        self.note_edit.returnPressed.connect(self.add_note)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.next_button, self.hold_button, self.resolve_button):
            buttons.addWidget(button)
        evidence = QHBoxLayout()
        evidence.addWidget(self.attach_run_button)
        evidence.addWidget(self.attach_file_button)
        layout = QVBoxLayout(self.detail)
        layout.addWidget(self.heading)
        layout.addLayout(buttons)
        layout.addWidget(self.timeline_view, 1)
        layout.addWidget(self.note_edit)
        layout.addLayout(evidence)
        layout.addWidget(self.message)
        self._enable_actions()

    def _shortcuts(self) -> None:
        for keys, slot in (("Ctrl+N", self.new_incident), ("Ctrl+F", self.search.setFocus),
                           ("Ctrl+Return", self.advance), ("Ctrl+T", self.attach_latest_run),
                           ("Ctrl+M", self.note_edit.setFocus),
                           ("Ctrl+Shift+E", self.export_csv)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # loading -------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.clock.start()
        if not self.loaded:
            self.loaded = True
            self.refresh()
            workers.start(_load_sites, self.ctx, on_result=self._fill_sites,
                          on_error=self.show_error)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.clock.stop()
        super().hideEvent(event)

    def _fill_sites(self, sites: list) -> None:
        self.sites = sites
        self.filters.set_sites(sites)

    def current_filter(self):
        return self.filters.value()

    def _filters_changed(self, *_):
        if self.loaded:  # before the first show the initial load picks the filters up
            self.refresh()

    def refresh(self) -> None:
        """Re-run the query off the GUI thread; only ids come back, records load as shown."""
        self._generation += 1
        generation = self._generation

        def ready(ids: list[int]) -> None:
            # Drop results of superseded queries, and any arriving after the panel was destroyed.
            if generation == self._generation and shiboken6.isValid(self.model):
                self.populate(ids)

        self.worker = workers.start(_load_ids, self.ctx, self.current_filter(), self.sort,
                                    self.descending, on_error=self.show_error, on_result=ready)

    def populate(self, ids: list[int]) -> None:
        selected = self.current.id if self.current else None
        self.model.set_ids(ids)
        self.count_label.setText(f"{len(ids):,} incident(s)")
        row = self.model.row_of(selected) if selected else -1
        if row >= 0:
            self.table.selectRow(row)
        elif ids:
            self.table.selectRow(0)
        else:
            self.show_row(-1)

    def _fetch(self, ids):
        from pacs_console.core.incidents.queries import incidents_by_id

        return incidents_by_id(self.ctx.db, ids)

    def _sort(self, key: str, descending: bool) -> None:
        # Qt asks the model to sort when sorting is switched on and when the indicator is set:
        # only a real change re-runs the query.
        if (key, descending) == (self.sort, self.descending):
            return
        self.sort, self.descending = key, descending
        if self.loaded:
            self.refresh()

    # detail --------------------------------------------------------------------------------

    def show_row(self, row: int) -> None:
        self.current = self.model.record(row) if row >= 0 else None
        self._show_current()

    def _show_current(self) -> None:
        from pacs_console.core.incidents.service import timeline

        record = self.current
        self._enable_actions()
        if record is None:
            self.heading.setText("Select an incident.")
            self.timeline_view.clear()
            return
        sla = record.sla()
        nodes = ", ".join(label for _, label in record.nodes) or "-"
        hold = f" — on hold: {record.hold_reason}" if record.hold_reason else ""
        self.heading.setText(
            f"<h3>#{record.id} {record.title}</h3>"
            f"{record.severity.capitalize()} · {record.category} · "
            f"<b>{STATUS_LABELS[record.status]}</b>{hold}<br>Site: {record.site_name or '-'}; "
            f"nodes: {nodes}<br>Reported {record.reported_at:%Y-%m-%d %H:%M} UTC; response due "
            f"{sla.due_at:%Y-%m-%d %H:%M} UTC: <b>{sla.state}</b> {sla.countdown()}"
            f"<br><small>{record.uuid}</small>")
        lines = [f"{e.at:%Y-%m-%d %H:%M}  {e.kind:<10} {e.author}: {e.text}"
                 for e in timeline(self.ctx.db, record.id)]
        self.timeline_view.setPlainText("\n".join(lines))
        following = next_step(record.status)
        self.next_button.setText(f"→ {STATUS_LABELS[following]}" if following else "Closed")

    def _enable_actions(self) -> None:
        record = self.current
        has = record is not None
        for button in (self.hold_button, self.resolve_button, self.attach_run_button,
                       self.attach_file_button):
            button.setEnabled(has)
        self.note_edit.setEnabled(has)
        self.next_button.setEnabled(has and next_step(record.status) is not None)
        if has and record.status in ("resolved", "closed"):
            self.hold_button.setEnabled(False)
            self.resolve_button.setEnabled(False)

    def _run(self, action, success: str = "") -> bool:
        """Run a core change for the shown incident; a Diagnosis becomes the panel message."""
        try:
            action()
        except ConsoleError as exc:
            self.show_error(exc)
            return False
        from pacs_console.core.incidents.service import get_incident

        self.current = get_incident(self.ctx.db, self.current.id)
        self.model.invalidate()
        self._show_current()
        self.message.setText(success)
        return True

    def _actor(self) -> str:
        import getpass

        return self.ctx.settings.engineer_name or getpass.getuser()

    def _offset(self) -> float:
        return float(self.ctx.settings.extra.get("clock_offset_s", 0.0) or 0.0)

    def change_status(self, status: str, reason: str = "") -> bool:
        from pacs_console.core.incidents.service import set_status

        if self.current is None:
            return False
        return self._run(lambda: set_status(self.ctx.db, self.current.id, status,
                                            actor=self._actor(), hold_reason=reason,
                                            clock_offset_s=self._offset()),
                         f"Now {STATUS_LABELS[status]}")

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

        text = self.note_edit.text()
        if self.current and self._run(lambda: add_note(self.ctx.db, self.current.id, text,
                                                       actor=self._actor(),
                                                       clock_offset_s=self._offset()),
                                      "Note added"):
            self.note_edit.clear()

    def attach_latest_run(self) -> None:
        from pacs_console.core.incidents.service import attach_test_run

        if self.current:
            self._run(lambda: attach_test_run(self.ctx.db, self.current.id, actor=self._actor()),
                      "Latest test run attached")

    def attach_file(self, path: str | None = None) -> None:
        from pathlib import Path

        from pacs_console.core.incidents.evidence import attach_file

        if self.current is None:
            return
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Attach file")
        if path:
            self._run(lambda: attach_file(self.ctx.db, self.ctx.paths.data / "attachments",
                                          self.current.id, Path(path), actor=self._actor()),
                      f"Attached {Path(path).name}")

    # creating and exporting ----------------------------------------------------------------

    def new_incident(self, draft=None, *, exec_dialog: bool = True):
        """Open the dialog (tests pass exec_dialog=False and accept it themselves)."""
        from pacs_console.core.db.nodes import list_nodes
        from pacs_console.ui.widgets.incident_dialog import IncidentDialog

        dialog = IncidentDialog(self.sites, list_nodes(self.ctx.db), draft, self)
        dialog.accepted.connect(lambda: self.create_from(dialog.value()))
        if exec_dialog:
            dialog.open()
        return dialog

    def new_from_failed_run(self, *, exec_dialog: bool = True):
        from pacs_console.core.db.testruns import list_test_runs
        from pacs_console.core.incidents.evidence import draft_from_test_run

        failed = next((r for r in list_test_runs(self.ctx.db, limit=500)
                       if r.outcome != "ok"), None)
        if failed is None:
            self.message.setText("No failed test run to start from.")
            return None
        return self.new_incident(draft_from_test_run(self.ctx.db, failed.id),
                                 exec_dialog=exec_dialog)

    def create_from(self, values: dict) -> None:
        from pacs_console.core.incidents.service import create_incident

        try:
            record = create_incident(self.ctx.db, actor=self._actor(),
                                     clock_offset_s=self._offset(), **values)
        except ConsoleError as exc:
            self.show_error(exc)
            return
        self.current = record
        self.message.setText(f"Incident #{record.id} created")
        self.refresh()

    def export_csv(self, path: str | None = None) -> None:
        from pathlib import Path

        from pacs_console.core.incidents.queries import export_incidents

        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export incidents", "incidents.csv",
                                                  "CSV (*.csv)")
        if path:
            text = export_incidents(self.ctx.db, "csv", self.current_filter(),
                                    actor=self._actor(), destination=path)
            Path(path).write_text(text, encoding="utf-8", newline="")
            self.message.setText(f"Exported to {path}")

    def verify_audit(self) -> None:
        from pacs_console.core.incidents.audit import verify

        self.verify_button.setEnabled(False)
        self.message.setText("Verifying the audit trail…")
        workers.start(verify, self.ctx.db, on_result=self.show_audit, on_error=self.show_error,
                      on_finished=lambda: self.verify_button.setEnabled(True))

    def show_audit(self, report) -> None:
        if report.ok:
            self.message.setText(f"Audit trail intact: {report.entries} entries, "
                                 f"{report.checked_rows} records checked.")
        else:
            lines = [f"TAMPERING FOUND ({len(report.problems)} problem(s)):"]
            lines += [p.message for p in report.problems[:10]]
            self.message.setText("\n".join(lines))

    def show_error(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.message.setText(diagnosis.text() if diagnosis else f"Unexpected error: {exc}")
