"""The Incidents panel's Log tab: filters, the lazy list with SLA badges, and the detail pane.

Every (re)load runs on a worker: the ids, the records of the pages in view and the selected
incident's timeline come back together, and the GUI thread only applies them. A page scrolled
into view later shows "Loading…" rows while a worker reads it (one read at a time; when it
ends, only the pages then in view are read next: the latest scroll wins)."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.models.incidents import PAGE, IncidentTableModel
from pacs_console.ui.widgets.columns import size_columns
from pacs_console.ui.widgets.incident_detail import IncidentDetail, diagnosis_text
from pacs_console.ui.widgets.incident_filters import IncidentFilterBar

SIDE_BY_SIDE = 1400  # px: narrower (a 1366×768 laptop), the detail goes under the list
COLUMN_SAMPLES = {"#": "99999", "Severity": "Critical", "Status": "acknowledged",
                  "SLA": "running 62:36:11", "Site": "Korle Bu",
                  "Reported (UTC)": "2026-12-05 01:15", "Response due": "2026-12-05 01:15"}


@dataclass
class LogSnapshot:
    """What one reload read on the worker: the ids in order, the pages in view, the selection."""

    generation: int
    ids: list[int]
    pages: dict[int, list] = field(default_factory=dict)
    row: int = -1  # the row to select (the incident selected before, else the first)
    kept: bool = False  # the incident selected before is still listed (at ``row``)
    selected_id: int | None = None  # the incident selected when the reload started
    events: list | None = None  # the selected incident's timeline
    fixes: list | None = None  # knowledge articles matching it


def load_snapshot(ctx: Context, flt, sort: str, descending: bool, generation: int,
                  rows: tuple[int, int], selected_id: int | None) -> LogSnapshot:
    """Worker thread: everything a reload shows, so the GUI thread runs no query."""
    from pacs_console.core.incidents.queries import incident_ids, incidents_by_id
    from pacs_console.core.incidents.service import timeline
    from pacs_console.core.kb.draft import suggest_for_incident

    ids = incident_ids(ctx.db, flt, sort=sort, descending=descending)
    snapshot = LogSnapshot(generation, ids, selected_id=selected_id)
    if not ids:
        return snapshot
    try:
        snapshot.row, snapshot.kept = ids.index(selected_id), True
    except ValueError:
        snapshot.row = 0
    top, bottom = rows
    wanted = set(range(top // PAGE, min(bottom, len(ids) - 1) // PAGE + 1))
    wanted.add(snapshot.row // PAGE)
    snapshot.pages = {page: incidents_by_id(ctx.db, ids[page * PAGE:(page + 1) * PAGE])
                      for page in sorted(wanted)}
    chosen = ids[snapshot.row]
    snapshot.events = timeline(ctx.db, chosen)
    snapshot.fixes = suggest_for_incident(ctx.db, chosen)
    return snapshot


def read_pages(ctx: Context, epoch: int, wanted: dict[int, list[int]]) -> tuple:
    """Worker thread: the records of the pages ``wanted`` (page number to its ids)."""
    from pacs_console.core.incidents.queries import incidents_by_id

    return epoch, {page: incidents_by_id(ctx.db, page_ids) for page, page_ids in wanted.items()}


def _load_sites(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db)


def _marker(ctx: Context) -> tuple:
    from pacs_console.core.incidents.queries import change_marker

    return change_marker(ctx.db)


class IncidentLog(QWidget):
    """The list on the left, the detail of the selected incident on the right."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.sort, self.descending = "reported", True
        self.loaded = False
        self.worker: workers.Worker | None = None
        self._generation = 0
        self._seen_marker: tuple | None = None
        self._reload_again = False
        self._holding = False  # the detail keeps an incident the list no longer holds
        self._prefetched: tuple | None = None  # (incident id, timeline, fixes) from a reload
        self.sites: list = []
        self.filters = IncidentFilterBar(self)
        self.filters.changed.connect(self._filters_changed)
        self.model = IncidentTableModel(self)
        self.model.sortRequested.connect(self._sort)
        self.model.pageWanted.connect(lambda _page: self._page_timer.start())
        self.page_worker: workers.Worker | None = None
        self._pages_failed = False
        self._page_timer = QTimer(self)  # the pages a paint asked for, read in one go
        self._page_timer.setSingleShot(True)
        self._page_timer.setInterval(0)
        self._page_timer.timeout.connect(self._read_pages)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(6, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights and column modes: the view never asks every row for its size.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        size_columns(self.table, COLUMN_SAMPLES, ("Title",))
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_row(current.row()))
        self.count_label = QLabel("")
        self.detail = IncidentDetail(ctx)
        self.detail.changed.connect(self._detail_changed)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filters)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([820, 340])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Beside the list on a wide screen; under it on a laptop, so the list has the whole
        width and a title reads whole ("Slow retrieves from the archive after 16:00")."""
        super().resizeEvent(event)
        wanted = (Qt.Orientation.Horizontal if self.width() >= SIDE_BY_SIDE
                  else Qt.Orientation.Vertical)
        if self.splitter.orientation() != wanted:
            self.splitter.setOrientation(wanted)
            QTimer.singleShot(0, self._share)  # once the layout has its final size

    def _share(self) -> None:
        """The list about half the height under each other, two thirds side by side."""
        vertical = self.splitter.orientation() == Qt.Orientation.Vertical
        whole = self.splitter.height() if vertical else self.splitter.width()
        self.splitter.setSizes([whole // 2, whole - whole // 2] if vertical
                               else [whole * 2 // 3, whole - whole * 2 // 3])

    # loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """The database changed: re-read the list only if incidents, timelines or sites did."""
        if self.loaded:
            workers.start(_marker, self.ctx, on_result=self._marker_read,
                          on_error=self.show_error)

    def _marker_read(self, marker: tuple) -> None:
        if marker == self._seen_marker:
            return  # the change was elsewhere (an echo, the outbox): nothing to redo here
        self._seen_marker = marker
        if self.worker is not None and not self.worker.done.is_set():
            self._reload_again = True  # one reload after the running query, not a pile-up
        else:
            self.refresh()
        self.load_sites()

    def load_sites(self) -> None:
        workers.start(_load_sites, self.ctx, on_result=self.show_sites, on_error=self.show_error)

    def show_sites(self, sites: list) -> None:
        if sites != self.sites:
            self.sites = sites
            self.filters.set_sites(sites)

    def _detail_changed(self, _record) -> None:
        """The detail changed its incident: the list is read again (a reload read before the
        change is dropped by its generation, a page read before it by the model's epoch)."""
        if self.loaded:
            self.refresh()

    def _filters_changed(self, *_) -> None:
        if self.loaded:  # before the first show the initial load picks the filters up
            self.refresh()

    def _rows_in_view(self) -> tuple[int, int]:
        top = max(self.table.rowAt(0), 0)
        bottom = self.table.rowAt(self.table.viewport().height() - 1)
        return top, top + 60 if bottom < 0 else bottom

    def refresh(self) -> None:
        """Re-run the query off the GUI thread, with the records in view and the selection."""
        self.loaded = True
        self._generation += 1
        top, bottom = self._rows_in_view()
        selected = self.detail.current.id if self.detail.current else None
        # Bound methods only: workers drops their results once the panel is destroyed.
        self.worker = workers.start(load_snapshot, self.ctx, self.filters.value(), self.sort,
                                    self.descending, self._generation, (top, bottom), selected,
                                    on_error=self.show_error, on_result=self._loaded)

    def _loaded(self, snapshot: LogSnapshot) -> None:
        if snapshot.generation != self._generation:
            return  # a superseded query's answer is dropped
        self.populate(snapshot)
        if self._reload_again:
            self._reload_again = False
            self.refresh()

    def populate(self, snapshot: LogSnapshot) -> None:
        ids, row, kept = snapshot.ids, snapshot.row, snapshot.kept
        shown = self.detail.current.id if self.detail.current else None
        if shown != snapshot.selected_id and shown in ids:
            # Another incident was picked while the worker read: keep that one (read here).
            row, kept = ids.index(shown), True
        elif ids:
            self._prefetched = (ids[row], snapshot.events, snapshot.fixes)
        if ids and ids == self.model.ids():
            # Same rows: records may have changed (status, notes) but scroll and selection stay.
            self.model.invalidate(snapshot.pages)
            if kept:
                self.show_row(row)
        else:
            # The incident a person is working on left the list (resolved under an "Open"
            # filter, say): its detail stays on screen until they pick another.
            self._holding = (not kept and shown is not None and shown == snapshot.selected_id)
            self.model.set_ids(ids, snapshot.pages)
            self.count_label.setText(
                f"{len(ids):,} incident(s)" if ids else
                "0 incident(s) match. To log one press New… (Ctrl+N), or "
                "From failed test… to start from a failed test run.")
            if self._holding:
                self.count_label.setText(self.count_label.text().split(". ")[0] + f"; #{shown} "
                                         "is still shown but no longer matches the filters.")
            elif ids:
                self.table.selectRow(row)
            else:
                self.show_row(-1)
        self._prefetched = None

    def _read_pages(self) -> None:
        """Pages scrolled into view (the person's own scrolling; reloads bring theirs along):
        read those still in view on a worker, one read at a time."""
        if self.page_worker is not None:
            return  # asked again when it finishes, for what is in view then
        model = self.model
        top, bottom = self._rows_in_view()
        in_view = set(range(top // PAGE, bottom // PAGE + 1))
        current = self.table.currentIndex().row()
        if current >= 0:
            in_view.add(current // PAGE)
        wanted = {page: model.page_ids(page) for page in sorted(in_view)
                  if model.is_pending(page)}
        model.forget_pending(set(range(len(model.ids()) // PAGE + 1)) - set(wanted))
        if wanted:
            self._pages_failed = False
            self.page_worker = workers.start(read_pages, self.ctx, model.epoch, wanted,
                                             on_result=self._pages_read,
                                             on_error=self._page_error,
                                             on_finished=self._pages_finished)

    def _page_error(self, exc: Exception) -> None:
        self._pages_failed = True  # said once; the next scroll asks again
        self.model.forget_pending(set(range(len(self.model.ids()) // PAGE + 1)))
        self.show_error(exc)

    def _pages_read(self, read: tuple) -> None:
        epoch, pages = read
        self.model.add_pages(epoch, pages)
        current = self.table.currentIndex().row()
        if current >= 0 and self.detail.current is None and current // PAGE in pages:
            self.show_row(current)  # picked while its page was loading

    def _pages_finished(self) -> None:
        self.page_worker = None
        if not self._pages_failed:
            self._read_pages()

    def _sort(self, key: str, descending: bool) -> None:
        # Qt asks the model to sort when sorting is switched on and when the indicator is set:
        # only a real change re-runs the query.
        if (key, descending) == (self.sort, self.descending):
            return
        self.sort, self.descending = key, descending
        if self.loaded:
            self.refresh()

    # the detail ------------------------------------------------------------------------------

    def show_row(self, row: int) -> None:
        if row < 0 and self._holding:
            return  # the list lost its rows, not the person their incident
        self._holding = False
        record = self.model.record(row) if row >= 0 else None
        if record is None and row >= 0:  # its page is being read: shown when it arrives
            self.detail.show_record(None)
            self.detail.heading.setText("Loading…")
            return
        prefetched = self._prefetched
        if record is not None and prefetched is not None and prefetched[0] == record.id:
            self.detail.show_record(record, events=prefetched[1], fixes=prefetched[2])
        else:
            self.detail.show_record(record)

    def show_error(self, exc: Exception) -> None:
        self.detail.message.setText(diagnosis_text(exc))
