"""Incidents panel: lazy list with SLA badges and detail; visits, uptime, sites, maintenance."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.ui import workers
from pacs_console.ui.db_watch import follow
from pacs_console.ui.models.incidents import IncidentTableModel
from pacs_console.ui.widgets.columns import size_columns
from pacs_console.ui.widgets.incident_detail import (
    IncidentDetail,
    actor_of,
    clock_offset_of,
    diagnosis_text,
)
from pacs_console.ui.widgets.incident_filters import IncidentFilterBar
from pacs_console.ui.widgets.panel_parts import panel_heading


def _load_ids(ctx: Context, flt, sort: str, descending: bool,
              generation: int) -> tuple[int, list[int]]:
    from pacs_console.core.incidents.queries import incident_ids

    return generation, incident_ids(ctx.db, flt, sort=sort, descending=descending)


def _marker(ctx: Context) -> tuple:
    from pacs_console.core.incidents.queries import change_marker

    return change_marker(ctx.db)


def _load_sites(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db)


class IncidentsPanel(QWidget):
    # Emitted (by the main window) when anyone changed the data: the list and tabs reload.
    data_changed = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-incidents")
        self.ctx = ctx
        self.sort, self.descending = "reported", True
        self.loaded = False
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
        size_columns(self.table, {"#": "99999", "Severity": "Critical", "Status": "acknowledged",
                                  "SLA": "running 62:36:11", "Site": "Korle Bu", "Reported (UTC)":
                                  "2026-12-05 01:15", "Response due": "2026-12-05 01:15"}, ("Title",))
        self.table.selectionModel().currentRowChanged.connect(self._current_row_changed)
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
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([820, 340])
        self._build_tabs(splitter)
        layout = QVBoxLayout(self)
        layout.addLayout(self._header())
        layout.addWidget(self.tabs, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.model.tick)
        self._shortcuts()
        follow(self.data_changed, self, self._reload)

    # building ------------------------------------------------------------------------------

    def _build_filters(self) -> None:
        self.filters = IncidentFilterBar(self)
        self.filters.changed.connect(self._filters_changed)
        f = self.filters  # the panel's tests and shortcuts reach the editors directly
        self.search, self.status_filter, self.severity_filter = f.search, f.status, f.severity
        self.site_filter, self.use_dates = f.site, f.use_dates
        self.new_button = QPushButton("New…")
        self.new_button.setToolTip("New incident (Ctrl+N)")
        self.new_button.clicked.connect(lambda: self.new_incident())
        self.from_run_button = QPushButton("From failed test…")
        self.from_run_button.setToolTip("New incident pre-filled from the latest failed test run")
        self.from_run_button.clicked.connect(lambda: self.new_from_failed_run())
        self.export_button = QPushButton("Export CSV…")
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.verify_button = QPushButton("Verify audit")
        self.verify_button.setToolTip("Check the audit trail for edits made outside the app")
        self.verify_button.clicked.connect(self.verify_audit)
        bar = QHBoxLayout()
        bar.addWidget(self.filters, 1)
        self.filter_bar = bar

    def _header(self) -> QHBoxLayout:
        self.sites_button = QPushButton("Sites…")
        self.sites_button.setToolTip("Add or edit sites and their business calendars")
        self.sites_button.clicked.connect(lambda: self.edit_sites())
        self.maintenance_button = QPushButton("Maintenance…")
        self.maintenance_button.setToolTip("Scheduled maintenance windows, excluded from uptime")
        self.maintenance_button.clicked.connect(lambda: self.edit_maintenance())
        actions = QHBoxLayout()
        # Actions share the title row so the filter row fits a 1366-pixel laptop screen.
        for widget in (self.new_button, self.from_run_button, self.export_button,
                       self.verify_button, self.sites_button, self.maintenance_button):
            actions.addWidget(widget)
        header = QHBoxLayout()
        header.addWidget(panel_heading(
            "Incidents", "Log what went wrong at a site, follow it to resolution against its SLA, "
            "and keep visits and uptime.", actions))
        return header

    def _build_tabs(self, log: QWidget) -> None:
        # The visits and uptime views are built when first wanted: opening the panel on a
        # large log must not pay for them.
        self._views: dict[str, QWidget] = {}
        self._slots: dict[str, QVBoxLayout] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(log, "Log")
        for name, title in (("visits", "Visits"), ("uptime", "Uptime")):
            holder = QWidget()
            self._slots[name] = QVBoxLayout(holder)
            self._slots[name].setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(holder, title)
        self.tabs.currentChanged.connect(self._tab_changed)

    def _tab_changed(self, index: int) -> None:
        if index > 0:
            self._view(("visits", "uptime")[index - 1])

    def _view(self, name: str) -> QWidget:
        view = self._views.get(name)
        if view is None:
            if name == "visits":
                from pacs_console.ui.widgets.visits_view import VisitsView

                view = VisitsView(self.ctx, lambda: self.current)
                view.linked.connect(self._visit_linked)
            else:
                from pacs_console.ui.widgets.uptime_view import UptimeView

                view = UptimeView(self.ctx)
            self._views[name] = view
            follow(self.data_changed, view, view.refresh)
            self._slots[name].addWidget(view)
        return view

    visits = property(lambda self: self._view("visits"), doc="The Visits tab's VisitsView")
    uptime = property(lambda self: self._view("uptime"), doc="The Uptime tab's UptimeView")

    def _build_detail(self) -> None:
        self.detail = IncidentDetail(self.ctx)
        self.detail.changed.connect(self._detail_changed)
        d = self.detail  # the panel's tests and shortcuts reach the parts directly
        self.heading, self.timeline_view, self.message = d.heading, d.timeline_view, d.message
        self.next_button, self.hold_button = d.next_button, d.hold_button
        self.resolve_button, self.note_edit = d.resolve_button, d.note_edit
        self.attach_run_button, self.attach_file_button = d.attach_run_button, d.attach_file_button

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

    def _reload(self) -> None:
        """The database changed: re-read the list only if incidents, timelines or sites did."""
        if self.loaded:
            workers.start(_marker, self.ctx, on_result=self._marker_read,
                          on_error=self.show_error)

    def _marker_read(self, marker: tuple) -> None:
        if marker == getattr(self, "_seen_marker", None):
            return  # the change was elsewhere (an echo, the outbox): nothing to redo here
        self._seen_marker = marker
        if self.worker is not None and not self.worker.done.is_set():
            self._reload_again = True  # one reload after the running query, not a pile-up
            return
        self.refresh()
        workers.start(_load_sites, self.ctx, on_result=self._fill_sites,
                      on_error=self.show_error)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.clock.stop()
        super().hideEvent(event)

    def _fill_sites(self, sites: list) -> None:
        if sites == self.sites:
            return
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
        # Bound methods only: workers drops their results once the panel is destroyed.
        self.worker = workers.start(_load_ids, self.ctx, self.current_filter(), self.sort,
                                    self.descending, self._generation,
                                    on_error=self.show_error, on_result=self._ids_loaded)

    def _ids_loaded(self, result: tuple[int, list[int]]) -> None:
        generation, ids = result
        if generation == self._generation:  # a superseded query's answer is dropped
            self.populate(ids)
            if getattr(self, "_reload_again", False):
                self._reload_again = False
                self.refresh()

    def populate(self, ids: list[int]) -> None:
        selected = self.current.id if self.current else None
        if ids and ids == self.model.ids():
            # Same rows: records may have changed (status, notes) but scroll and selection stay.
            self.model.invalidate()
            row = self.model.row_of(selected) if selected else -1
            if row >= 0:
                self.show_row(row)
            return
        self.model.set_ids(ids)
        self.count_label.setText(f"{len(ids):,} incident(s)" if ids else
                                 "0 incident(s) match. To log one press New… (Ctrl+N), or "
                                 "From failed test… to start from a failed test run.")
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

    @property
    def current(self):
        """The IncidentRecord shown in the detail pane."""
        return self.detail.current

    @current.setter
    def current(self, record) -> None:
        self.detail.current = record

    def _current_row_changed(self, current, _previous) -> None:
        self.show_row(current.row())

    def show_row(self, row: int) -> None:
        self.detail.show_record(self.model.record(row) if row >= 0 else None)

    def _detail_changed(self, _record) -> None:
        self.model.invalidate()

    def change_status(self, status: str, reason: str = "") -> bool:
        return self.detail.change_status(status, reason)

    def advance(self) -> None:
        self.detail.advance()

    def add_note(self) -> None:
        self.detail.add_note()

    def attach_latest_run(self) -> None:
        self.detail.attach_latest_run()

    def attach_file(self, path: str | None = None) -> None:
        self.detail.attach_file(path)

    def _visit_linked(self, _visit) -> None:
        if self.current is not None:
            self.detail.show_record(self.current)

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
            record = create_incident(self.ctx.db, actor=actor_of(self.ctx),
                                     clock_offset_s=clock_offset_of(self.ctx), **values)
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
                                    actor=actor_of(self.ctx), destination=path)
            Path(path).write_text(text, encoding="utf-8", newline="")
            self.message.setText(f"Exported to {path}")

    def verify_audit(self) -> None:
        from pacs_console.core.incidents.audit import verify

        self.verify_button.setEnabled(False)
        self.message.setText("Verifying the audit trail…")
        workers.start(verify, self.ctx.db, on_result=self.show_audit, on_error=self.show_error,
                      on_finished=self._verified)

    def _verified(self) -> None:
        self.verify_button.setEnabled(True)

    def show_audit(self, report) -> None:
        if report.ok:
            self.message.setText(f"Audit trail intact: {report.entries} entries, "
                                 f"{report.checked_rows} records checked.")
        else:
            lines = [f"TAMPERING FOUND ({len(report.problems)} problem(s)):"]
            lines += [p.message for p in report.problems[:10]]
            self.message.setText("\n".join(lines))

    def show_error(self, exc: Exception) -> None:
        self.message.setText(diagnosis_text(exc))

    # sites and maintenance -----------------------------------------------------------------

    def edit_sites(self, *, exec_dialog: bool = True):
        """The site editor (tests pass exec_dialog=False and drive it themselves)."""
        from pacs_console.ui.widgets.site_dialog import SiteDialog

        dialog = SiteDialog(self.ctx, self)
        dialog.saved.connect(self._site_saved)
        if exec_dialog:
            dialog.open()
        return dialog

    def _site_saved(self, _site) -> None:
        from pacs_console.core.incidents.sites import list_sites

        self._fill_sites(list_sites(self.ctx.db))
        for view in self._views.values():
            view.reload_sites()
        self.model.invalidate()  # a renamed site shows in the list

    def edit_maintenance(self, *, exec_dialog: bool = True):
        from pacs_console.ui.widgets.maintenance_dialog import MaintenanceDialog

        dialog = MaintenanceDialog(self.ctx, self)
        if exec_dialog:
            dialog.open()
        return dialog
