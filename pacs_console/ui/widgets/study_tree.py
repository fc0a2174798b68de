"""The Viewer's study tree: studies, their series with thumbnail tiles, and refused files.

The index is read on a worker and the items built on the GUI thread; thumbnails come from
the thumbnail pool as they are made."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from pacs_console.core.imaging.thumbs import ThumbCache, ThumbJob, generate_thumbnails
from pacs_console.ui import workers
from pacs_console.ui.widgets.qimages import tile
from pacs_console.ui.widgets.series_viewer import thumbnail_threads

SERIES_ICON = 72
ROLE = Qt.ItemDataRole.UserRole


def tree_data(index, sources: list, generation: int):
    """Worker thread: everything the study tree shows, read from the index in one go."""
    studies = [(study, index.series(study.study_uid, sources)) for study in index.studies(sources)]
    refused = [f for f in index.files(sources) if f.status == "refused"]
    return generation, studies, refused


def _study_label(study) -> str:
    label = " · ".join(filter(None, [study.patient_name.replace("^", " "), study.study_date,
                                      study.description or study.modalities]))
    return f"{label} ({study.series_count} series)"


def _series_label(series) -> str:
    return (f"Se {series.number if series.number is not None else '?'} "
            f"{series.description} · {series.modality} · {series.instance_count} "
            f"image{'s' if series.instance_count != 1 else ''}")


class StudyTree(QTreeWidget):
    """Emits ``series_chosen(uid)`` when a series is picked, ``failed(exc)`` on a read error."""

    series_chosen = Signal(str)
    failed = Signal(object)

    def __init__(self, thumbs: ThumbCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("study-tree")
        self.setHeaderHidden(True)
        self.setIconSize(QSize(SERIES_ICON, SERIES_ICON))
        self.thumbs = thumbs
        self.series_items: dict[str, QTreeWidgetItem] = {}
        self.series_tiles: set[str] = set()  # series whose tile (or placeholder) is shown
        self.busy = 0
        self._generation = 0
        self.thumb_worker: workers.Worker | None = None
        self.currentItemChanged.connect(self._selected)

    def refresh(self, index, sources: list) -> None:
        """Reload from the index; the queries run on a worker, the items are built here."""
        self._generation += 1
        self.busy += 1
        workers.start(tree_data, index, list(sources), self._generation,
                      on_result=self._build, on_error=self._failed,
                      on_finished=self._done)

    def _done(self) -> None:
        self.busy -= 1

    def _failed(self, exc: Exception) -> None:
        self.failed.emit(exc)

    def _build(self, data) -> None:
        generation, studies, refused = data
        if generation != self._generation:
            return  # a newer refresh is on its way; this snapshot is already stale
        current = self.currentItem()
        selected = current.data(0, ROLE) if current else None
        selected_text = current.text(0) if current else ""
        self.blockSignals(True)
        self.clear()
        self.series_items.clear()
        self.series_tiles.clear()
        jobs = []
        for study, series_list in studies:
            top = QTreeWidgetItem(self, [_study_label(study)])
            top.setData(0, ROLE, ("study", study.study_uid))
            top.setExpanded(True)
            for series in series_list:
                item = QTreeWidgetItem(top, [_series_label(series)])
                item.setData(0, ROLE, ("series", series.series_uid))
                self.series_items[series.series_uid] = item
                rep = series.representative
                if rep is not None and rep.has_pixels:
                    jobs.append(ThumbJob(series.series_uid, rep.path, rep.sop_uid, rep.mtime_ns))
                else:
                    item.setIcon(0, QIcon(tile(None, "no image", SERIES_ICON)))
                    self.series_tiles.add(series.series_uid)
        if refused:
            self._add_refused(refused)
        self.blockSignals(False)
        if jobs:  # before the series opens: its frame and tag loads would queue ahead of these
            self.cancel_work()
            self.thumb_worker = workers.start(
                generate_thumbnails, jobs, self.thumbs, pool=thumbnail_threads(),
                on_progress=self._series_icon, on_error=self._failed)
        self._reselect(selected, selected_text)

    def _add_refused(self, refused: list) -> None:
        from pacs_console.core.imaging.header import REASONS

        node = QTreeWidgetItem(self, [f"Refused files ({len(refused)})"])
        node.setData(0, ROLE, ("refused", ""))
        for row in refused:
            child = QTreeWidgetItem(node, [f"{Path(row.path).name}: "
                                           f"{REASONS.get(row.reason, row.reason)}"])
            child.setToolTip(0, f"{row.path}\n{row.detail}")
            child.setData(0, ROLE, ("file", row.path))

    def _reselect(self, selected, text: str = "") -> None:
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            for item in [top] + [top.child(j) for j in range(top.childCount())]:
                if item.data(0, ROLE) == selected:
                    # The same series, unchanged, stays as the engineer left it (slice, window,
                    # zoom): a refresh (arrivals, another source) must not reopen it at slice 1.
                    unchanged = item.text(0) == text and selected and selected[0] == "series"
                    self.blockSignals(bool(unchanged))
                    self.setCurrentItem(item)
                    self.blockSignals(False)
                    return
        if selected is None and self.series_items:
            self.setCurrentItem(next(iter(self.series_items.values())))

    def _series_icon(self, progress) -> None:
        result = progress.item
        item = self.series_items.get(result.key)
        if item is not None:
            item.setIcon(0, QIcon(tile(result.image, result.reason, SERIES_ICON)))
            self.series_tiles.add(result.key)
            if result.reason:
                item.setToolTip(0, result.reason)

    def _selected(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        kind, key = item.data(0, ROLE) or ("", "")
        if kind == "study" and item.childCount():
            self.setCurrentItem(item.child(0))
        elif kind == "series":
            self.series_chosen.emit(key)

    def selected_study(self) -> str | None:
        """The study of the current item (a series stands for its whole study)."""
        item = self.currentItem()
        if item is None:
            return None
        kind, key = item.data(0, ROLE) or ("", "")
        if kind == "series" and item.parent() is not None:
            kind, key = item.parent().data(0, ROLE)
        return key if kind == "study" else None

    def cancel_work(self) -> None:
        if self.thumb_worker is not None:
            self.thumb_worker.cancel()
