"""The instance strip under the image: one tile per instance, 2,000 of them without a stall.

A list model over the series' rows (no item objects to build), tiles of one size, and
thumbnails made on a worker and delivered in batches; a tile's pixmap is drawn only when it
is first painted."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListView, QWidget

from pacs_console.core.imaging.thumbs import ThumbCache, ThumbJob, generate_thumbnails
from pacs_console.core.streams import batched
from pacs_console.ui import workers
from pacs_console.ui.widgets.qimages import tile

STRIP_ICON = 64
ROLE = Qt.ItemDataRole.UserRole
_TILE_SIZE = QSize(STRIP_ICON + 12, STRIP_ICON + 26)


class StripModel(QAbstractListModel):
    """Rows are InstanceRows; ``results`` maps a SOP Instance UID to (image, reason)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list = []
        self.row_of: dict[str, int] = {}
        self.results: dict[str, tuple] = {}
        self._icons: dict[str, QIcon] = {}

    def reset(self, instances: list) -> None:
        self.beginResetModel()
        self.rows = list(instances)
        self.row_of = {inst.sop_uid: row for row, inst in enumerate(self.rows)}
        self.results = {inst.sop_uid: (None, "no image") for inst in self.rows
                        if not inst.has_pixels}
        self._icons = {}
        self.endResetModel()

    def add_results(self, results: list) -> None:
        rows = []
        for result in results:
            row = self.row_of.get(result.key)
            if row is not None:
                self.results[result.key] = (result.image, result.reason)
                self._icons.pop(result.key, None)
                rows.append(row)
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)),
                                  [Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole])

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        inst = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            number = inst.instance_number if inst.instance_number is not None else ""
            return f"{number}" + (f" ({inst.frames} fr)" if inst.frames > 1 else "")
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(inst.sop_uid)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.results.get(inst.sop_uid, (None, ""))[1] or None
        if role == ROLE:
            return inst.sop_uid
        if role == Qt.ItemDataRole.SizeHintRole:
            return _TILE_SIZE
        return None

    def _icon(self, uid: str) -> QIcon | None:
        icon = self._icons.get(uid)
        if icon is None and uid in self.results:
            image, reason = self.results[uid]
            icon = self._icons[uid] = QIcon(tile(image, reason, STRIP_ICON))
        return icon


def _thumbnail_batches(jobs: list, thumbs: ThumbCache):
    """The thumbnails of a series, a few batches a second (one signal each, not one a tile)."""
    return (yield from batched(generate_thumbnails(jobs, thumbs), max_items=200, max_seconds=0.1))


class InstanceStrip(QListView):
    """Emits ``row_chosen(row)`` when a person picks a tile (not when set_current_row is)."""

    row_chosen = Signal(int)
    failed = Signal(object)

    def __init__(self, thumbs: ThumbCache, pool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("instance-strip")
        self.thumbs, self._pool = thumbs, pool
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(QSize(STRIP_ICON, STRIP_ICON))
        self.setFixedHeight(STRIP_ICON + 34)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.strip_model = StripModel(self)
        self.setModel(self.strip_model)
        self._quiet = False
        self._worker: workers.Worker | None = None
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def show_instances(self, instances: list) -> None:
        """Show the tiles of these instances and start making their thumbnails."""
        self.cancel_work()
        self._quiet = True
        self.strip_model.reset(instances)
        self._quiet = False
        jobs = [ThumbJob(inst.sop_uid, inst.path, inst.sop_uid, inst.mtime_ns)
                for inst in instances if inst.has_pixels]
        self._worker = workers.start(
            _thumbnail_batches, jobs, self.thumbs, pool=self._pool,
            on_progress=self._tiles_made, on_error=self.failed.emit) if jobs else None

    def _tiles_made(self, batch: list) -> None:
        self.strip_model.add_results([progress.item for progress in batch])

    def cancel_work(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def current_row(self) -> int:
        return self.currentIndex().row()

    def set_current_row(self, row: int) -> None:
        self._quiet = True
        self.setCurrentIndex(self.strip_model.index(row))
        self._quiet = False

    def sop_uid(self, row: int) -> str | None:
        return self.strip_model.data(self.strip_model.index(row), ROLE)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._quiet and current.isValid():
            self.row_chosen.emit(current.row())
