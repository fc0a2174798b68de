"""Site visits: arrive (site, engineer from Settings, purpose), leave, link incidents, list."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QWidget

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.widgets.incident_detail import actor_of, diagnosis_text
from pacs_console.ui.widgets.panel_parts import column, fill_table, record_table, row

NO_SITE = "Add a site first (Sites…)."
COLUMNS = ("#", "Site", "Engineer", "Arrived", "Left", "Purpose", "Incidents")


def _change(ctx: Context, change, *args, **kwargs) -> tuple:
    """Worker thread: ``change(db, *args, **kwargs)`` (a core call), then the visits as saved."""
    from pacs_console.core.incidents.sites import list_visits

    return change(ctx.db, *args, **kwargs), list_visits(ctx.db)


def _load(ctx: Context) -> tuple[list, list]:
    from pacs_console.core.incidents.sites import list_sites, list_visits

    return list_sites(ctx.db), list_visits(ctx.db)


def _local(value) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "on site"


class VisitsView(QWidget):
    """``current_incident()`` gives the incident shown in the log, offered for linking."""

    linked = Signal(object)  # the VisitRecord an incident was linked to

    def __init__(self, ctx: Context, current_incident: Callable[[], object],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.current_incident = current_incident
        self.visits: list = []
        self.loaded = False
        self._sites_shown = False  # the first read fills the sites (or says to add one)
        self.site = QComboBox()
        self.site.setMinimumContentsLength(18)
        self.purpose = QLineEdit()
        self.purpose.setPlaceholderText("Purpose, e.g. preventive maintenance, CT cannot send")
        self.engineer = QLabel()
        self.start_button = QPushButton("Arrive (start visit)")
        self.start_button.clicked.connect(self.start_visit)
        self.end_button = QPushButton("Leave (end visit)")
        self.end_button.setToolTip("End the selected visit, or the one still open")
        self.end_button.clicked.connect(self.end_visit)
        self.incident_ref = QLineEdit()
        self.incident_ref.setPlaceholderText("Incident number or UUID")
        self.link_button = QPushButton("Link incident to selected visit")
        self.link_button.clicked.connect(self.link_incident)
        self.table = record_table(COLUMNS)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        start = row(QLabel("Site"), self.site, (self.purpose, 1), self.start_button,
                    self.end_button)
        column(self, start, self.engineer, (self.table, 1),
               row((self.incident_ref, 1), self.link_button), self.message)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        name = actor_of(self.ctx)
        source = "from Settings" if self.ctx.settings.profile.name else "login name; set your " \
            "name in Settings"
        self.engineer.setText(f"Engineer: <b>{name}</b> ({source})")
        current = self.current_incident()
        if current is not None and not self.incident_ref.text():
            self.incident_ref.setText(str(current.id))
        if not self.loaded:
            self.loaded = True
            self.refresh()

    def refresh(self) -> None:
        """Sites and visits again, read off the GUI thread (someone else changed them)."""
        workers.start(_load, self.ctx, on_result=self._loaded,
                      on_error=lambda exc: self.message.setText(diagnosis_text(exc)))

    def _loaded(self, loaded: tuple[list, list]) -> None:
        sites, visits = loaded
        if not self._sites_shown or [(s.id, s.name) for s in sites] != [
                (self.site.itemData(i), self.site.itemText(i)) for i in range(self.site.count())]:
            self._sites_shown = True
            self._fill_sites(sites)
        if visits != self.visits:
            self._fill_visits(visits)

    def reload_sites(self) -> None:
        self.refresh()  # read on a worker; the sites are refilled only if they changed

    def _fill_sites(self, sites: list) -> None:
        chosen = self.site.currentData()
        self.site.clear()
        for site in sites:
            self.site.addItem(site.name, site.id)
        default = self.ctx.settings.default_site
        index = self.site.findData(chosen) if chosen is not None else self.site.findText(default)
        if index >= 0:
            self.site.setCurrentIndex(index)
        self.start_button.setEnabled(self.site.count() > 0)
        if not self.site.count():
            self.message.setText(NO_SITE)
        elif self.message.text() == NO_SITE:
            self.message.clear()

    def reload(self) -> None:
        self.refresh()

    def _fill_visits(self, visits: list) -> None:
        selected = self.selected_visit()
        self.visits = visits
        fill_table(self.table, ((v.id, (str(v.id), v.site_name, v.engineer, _local(v.arrived_at),
                                        _local(v.departed_at), v.purpose,
                                        ", ".join(f"#{i}" for i in v.incident_ids)))
                                for v in visits))
        ids = [v.id for v in visits]
        if selected is not None and selected.id in ids:
            self.table.selectRow(ids.index(selected.id))
        elif selected is None and self.visits:
            self.table.selectRow(0)

    def selected_visit(self):
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self.visits):
            return None
        return self.visits[rows[0].row()]

    def _do(self, change, *args, success: Callable[[object], str], then=None,
            **kwargs) -> workers.Worker:
        """Save a core change on a worker; the visits are shown again, with ``success``, once
        saved; its Diagnosis, if any, becomes the message."""
        def done(outcome: tuple) -> None:
            result, visits = outcome
            self._fill_visits(visits)
            self.message.setText(success(result))
            if then is not None:
                then(result)

        return workers.start(_change, self.ctx, change, *args, on_result=done,
                             on_error=lambda exc: self.message.setText(diagnosis_text(exc)),
                             **kwargs)

    def start_visit(self) -> None:
        from pacs_console.core.incidents.sites import start_visit

        site = self.site.currentData()
        if site is None:
            self.message.setText(NO_SITE)
            return
        actor = actor_of(self.ctx)

        def started(_visit) -> None:
            self.purpose.clear()
            self.table.selectRow(0)  # newest first: the visit just started

        self._do(start_visit, site, engineer=actor, purpose=self.purpose.text().strip(),
                 actor=actor, success=lambda v: f"Visit {v.id} started at {v.site_name}",
                 then=started)

    def end_visit(self) -> None:
        from pacs_console.core.incidents.sites import end_visit

        selected = self.selected_visit()
        visit_id = selected.id if selected and selected.departed_at is None else None
        self._do(end_visit, visit_id, actor=actor_of(self.ctx),
                 success=lambda v: f"Visit {v.id} at {v.site_name} ended")

    def link_incident(self) -> None:
        from pacs_console.core.incidents.service import link_visit

        visit = self.selected_visit()
        ref = self.incident_ref.text().strip()
        if visit is None:
            self.message.setText("Select a visit first.")
            return
        if not ref:
            self.message.setText("Type the incident's number or UUID.")
            return
        self._do(link_visit, visit.id, ref, actor=actor_of(self.ctx),
                 success=lambda _: f"Incident {ref} linked to visit {visit.id}",
                 then=lambda _: self.linked.emit(visit))
