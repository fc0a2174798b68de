"""Lazy incident table model: holds only the ordered ids; a page of records not yet read shows
as "Loading…" rows and is asked for (``pageWanted``), to be read on a worker and handed back
with add_pages(). The model itself never reads the database."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

COLUMNS = ("#", "Severity", "Status", "SLA", "Title", "Site", "Reported (UTC)", "Response due")
SORT_KEYS = ("id", "severity", "status", "due", "title", "site", "reported", "due")
SLA_COLUMN = 3
TITLE_COLUMN = 4
LOADING = "Loading…"
PAGE = 100
MAX_PAGES = 40  # ~4,000 records cached: a few screens either side of where the user scrolled
SLA_COLOURS = {"breached": "#c62828", "due-soon": "#ef6c00", "running": "#1565c0",
               "met": "#2e7d32"}
_DISPLAY, _FOREGROUND = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole
_USER, _TOOLTIP = Qt.ItemDataRole.UserRole, Qt.ItemDataRole.ToolTipRole
_ROLES = frozenset((_DISPLAY, _FOREGROUND, _USER, _TOOLTIP))
SEVERITY_COLOURS = {"critical": "#b71c1c", "high": "#e65100", "medium": "#f9a825",
                    "low": "#546e7a"}


def _brush(colour: str) -> QBrush:
    return QBrush(QColor(colour))


class IncidentTableModel(QAbstractTableModel):
    """Rows are incident ids; records arrive a page (PAGE ids) at a time through add_pages()."""

    sortRequested = Signal(str, bool)  # sort key, descending
    pageWanted = Signal(int)  # a page in view has no records yet: read it, then add_pages()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._ids: list[int] = []
        self._pages: OrderedDict[int, list] = OrderedDict()
        self._pending: set[int] = set()  # pages asked for and not yet added
        self.epoch = 0  # counts resets and invalidations: a page read before one is stale
        self._now = datetime.now(UTC)
        self._rows: dict[int, tuple] = {}

    def set_ids(self, ids: list[int], pages: dict[int, list] | None = None) -> None:
        """New rows; ``pages`` (page number to records) read on a worker spare the GUI a fetch."""
        self.beginResetModel()
        self._ids = ids
        self._pages.clear()
        self._pages.update(pages or {})
        self._pending.clear()
        self._rows.clear()
        self.epoch += 1
        self.endResetModel()

    def ids(self) -> list[int]:
        return self._ids

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def record(self, row: int):
        if not 0 <= row < len(self._ids):
            return None
        page = row // PAGE
        records = self._pages.get(page)
        if records is None:  # not read yet: ask once, show "Loading…" until it arrives
            if page not in self._pending:
                self._pending.add(page)
                self.pageWanted.emit(page)
            return None
        self._pages.move_to_end(page)
        offset = row - page * PAGE
        return records[offset] if offset < len(records) else None

    def page_ids(self, page: int) -> list[int]:
        return self._ids[page * PAGE:(page + 1) * PAGE]

    def add_pages(self, epoch: int, pages: dict[int, list]) -> None:
        """Records read on a worker when the model was at ``epoch`` (dropped if the rows or
        the records changed since: the reload that said so brings its own)."""
        if epoch != self.epoch:
            return
        for page, records in pages.items():
            self._pending.discard(page)
            self._pages[page] = records
            self._pages.move_to_end(page)
            first, last = page * PAGE, min((page + 1) * PAGE, len(self._ids)) - 1
            for row in range(first, last + 1):
                self._rows.pop(row, None)
            if first <= last:
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)

    def forget_pending(self, pages) -> None:
        """Pages asked for but no longer in view: asked again when next shown."""
        self._pending.difference_update(pages)

    def is_pending(self, page: int) -> bool:
        return page in self._pending

    def row_of(self, incident_id: int) -> int:
        try:
            return self._ids.index(incident_id)
        except ValueError:
            return -1

    def _cells(self, row: int):
        """Display texts and colours of one row, computed once per clock tick."""
        cached = self._rows.get(row)
        if cached is not None:
            return cached
        record = self.record(row)
        if record is None:
            return None
        sla = record.sla(self._now)
        badge = (f"met ({int(sla.response.total_seconds() // 60)} min)" if sla.state == "met"
                 else f"{sla.state} {sla.countdown()}")
        texts = (record.id, record.severity.capitalize(),
                 record.status.replace("_", " ") + (" ⏸" if record.hold_reason else ""), badge,
                 record.title, record.site_name, f"{record.reported_at:%Y-%m-%d %H:%M}",
                 f"{record.response_due_at:%Y-%m-%d %H:%M}")
        colours = {SLA_COLUMN: _brush(SLA_COLOURS[sla.state]),
                   1: _brush(SEVERITY_COLOURS.get(record.severity, "#000000"))}
        cached = (record, texts, colours)
        self._rows[row] = cached
        if len(self._rows) > PAGE * 4:
            self._rows.pop(next(iter(self._rows)))
        return cached

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES or not index.isValid():
            return None
        cells = self._cells(index.row())
        if cells is None:
            return LOADING if role == _DISPLAY and index.column() == TITLE_COLUMN else None
        record, texts, colours = cells
        column = index.column()
        if role == _DISPLAY:
            return texts[column]
        if role == _FOREGROUND:
            return colours.get(column)
        if role == _USER:
            return record.id
        return f"{record.uuid}\n{record.description[:300]}" if column == 4 else None

    def tick(self, now: datetime | None = None) -> None:
        """Advance the live countdown; only visible cells are repainted by the view."""
        self._now = now or datetime.now(UTC)
        self._rows.clear()
        if self._ids:
            self.dataChanged.emit(self.index(0, SLA_COLUMN),
                                  self.index(len(self._ids) - 1, SLA_COLUMN))

    def invalidate(self, pages: dict[int, list] | None = None) -> None:
        """Records changed (not the order): drop the cache (keeping fresh ``pages``), repaint."""
        self._pages.clear()
        self._pages.update(pages or {})
        self._pending.clear()
        self._rows.clear()
        self.epoch += 1
        if self._ids:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._ids) - 1, len(COLUMNS) - 1))

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.sortRequested.emit(SORT_KEYS[column], order == Qt.SortOrder.DescendingOrder)
