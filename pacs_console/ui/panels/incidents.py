"""Incidents panel: a container for the Log tab (list and detail), the Visits and Uptime tabs,
and the action row beside its heading (widgets/incident_log.py, incident_actions.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from pacs_console.core.context import Context
from pacs_console.ui.db_watch import follow
from pacs_console.ui.widgets.incident_actions import IncidentActions
from pacs_console.ui.widgets.incident_log import IncidentLog
from pacs_console.ui.widgets.panel_parts import panel_heading


class IncidentsPanel(QWidget):
    # Emitted (by the main window) when anyone changed the data: the list and tabs reload.
    data_changed = Signal()

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-incidents")
        self.ctx = ctx
        self.log = IncidentLog(ctx)
        self.actions = IncidentActions(ctx, self.log)
        self.actions.sites_changed.connect(self._sites_changed)
        self._expose_parts()
        self._build_tabs()
        actions = QHBoxLayout()
        # Actions share the title row so the filter row fits a 1366-pixel laptop screen.
        actions.addWidget(self.actions)
        layout = QVBoxLayout(self)
        layout.addWidget(panel_heading(
            "Incidents", "Log what went wrong at a site, follow it to resolution against its SLA, "
            "and keep visits and uptime.", actions))
        layout.addWidget(self.tabs, 1)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self.model.tick)
        self._shortcuts()
        follow(self.data_changed, self, self.log.reload)

    def _expose_parts(self) -> None:
        """The parts a person (and a test) reaches, under the names the panel always had."""
        log, f, d, a = self.log, self.log.filters, self.log.detail, self.actions
        self.model, self.table, self.count_label, self.filters = (log.model, log.table,
                                                                  log.count_label, f)
        self.search, self.status_filter, self.severity_filter = f.search, f.status, f.severity
        self.site_filter, self.use_dates = f.site, f.use_dates
        self.detail, self.heading, self.timeline_view, self.message = (d, d.heading,
                                                                       d.timeline_view, d.message)
        self.next_button, self.hold_button = d.next_button, d.hold_button
        self.resolve_button, self.note_edit = d.resolve_button, d.note_edit
        self.attach_run_button, self.attach_file_button = d.attach_run_button, d.attach_file_button
        self.new_button, self.from_run_button = a.new_button, a.from_run_button
        self.export_button, self.verify_button = a.export_button, a.verify_button
        self.sites_button, self.maintenance_button = a.sites_button, a.maintenance_button

    def _build_tabs(self) -> None:
        # The visits and uptime views are built when first wanted: opening the panel on a
        # large log must not pay for them.
        self._views: dict[str, QWidget] = {}
        self._slots: dict[str, QVBoxLayout] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(self.log, "Log")
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

    def _shortcuts(self) -> None:
        detail = self.detail
        for keys, slot in (("Ctrl+N", self.actions.new_incident),
                           ("Ctrl+F", self.search.setFocus),
                           ("Ctrl+Return", detail.advance), ("Ctrl+T", detail.attach_latest_run),
                           ("Ctrl+M", self.note_edit.setFocus),
                           ("Ctrl+Shift+E", self.actions.export_csv)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.clock.start()
        if not self.log.loaded:
            self.log.refresh()
            self.log.load_sites()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.clock.stop()
        super().hideEvent(event)

    def _sites_changed(self) -> None:
        self.log.load_sites()  # the editor just saved: read on a worker
        for view in self._views.values():
            view.reload_sites()
        if self.log.loaded:
            self.log.refresh()  # a renamed site shows in the list

    def _visit_linked(self, _visit) -> None:
        if self.current is not None:
            self.detail.show_record(self.current)

    # what the panel offers (the parts do the work) ------------------------------------------

    @property
    def current(self):
        """The IncidentRecord shown in the detail pane."""
        return self.detail.current

    def refresh(self) -> None:
        self.log.refresh()

    def show_row(self, row: int) -> None:
        self.log.show_row(row)

    def change_status(self, status: str, reason: str = "") -> bool:
        return self.detail.change_status(status, reason)

    def attach_file(self, path: str | None = None) -> None:
        self.detail.attach_file(path)

    def new_incident(self, draft=None, *, exec_dialog: bool = True):
        return self.actions.new_incident(draft, exec_dialog=exec_dialog)

    def new_from_failed_run(self, *, exec_dialog: bool = True):
        return self.actions.new_from_failed_run(exec_dialog=exec_dialog)

    def export_csv(self, path: str | None = None):
        return self.actions.export_csv(path)

    def verify_audit(self) -> None:
        self.actions.verify_audit()

    def edit_sites(self, *, exec_dialog: bool = True):
        return self.actions.edit_sites(exec_dialog=exec_dialog)

    def edit_maintenance(self, *, exec_dialog: bool = True):
        return self.actions.edit_maintenance(exec_dialog=exec_dialog)
