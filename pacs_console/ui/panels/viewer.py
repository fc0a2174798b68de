"""Viewer panel: open folders, DICOMDIRs, zips, files and received studies; browse and export.

A container: the study tree (widgets/study_tree.py), the series viewer and the tag browser do
their own work; the panel opens sources, indexes arrivals and exports."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.imaging.render import FrameLoader
from pacs_console.core.imaging.thumbs import ThumbCache, warm_pool
from pacs_console.ui import workers
from pacs_console.ui.widgets.panel_parts import button, column, empty_state, panel_heading, split
from pacs_console.ui.widgets.series_viewer import SeriesViewer, thumbnail_threads
from pacs_console.ui.widgets.study_tree import StudyTree
from pacs_console.ui.widgets.tag_browser import TagBrowser

ARRIVAL_DELAY_MS = 1000  # gather a second of arrivals before indexing them


class ViewerPanel(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-viewer")
        self.setAcceptDrops(True)
        self.ctx = ctx
        self._index = None
        self.thumbs = ThumbCache(ctx.paths.cache / "thumbs")
        self.loader = FrameLoader()
        self.sources: list[str] = []
        self._busy = 0
        self._warming = False
        # Arrivals during a retrieve come every few milliseconds; indexing them and rebuilding
        # the tree each time would stall the GUI, so they are gathered and handled in one go.
        self._arrived: list[Path] = []
        self._arrival_timer = QTimer(self)
        self._arrival_timer.setSingleShot(True)
        self._arrival_timer.setInterval(ARRIVAL_DELAY_MS)
        self._arrival_timer.timeout.connect(self._index_arrivals)
        self._build()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_folder_button = button("Open folder…", self.choose_folder)
        self.open_file_button = button("Open file…", self.choose_file,
                                       "A DICOMDIR, a zip or a single DICOM file")
        self.received_button = button("Received files", self.open_received,
                                      "What the console's Storage SCP received (C-MOVE, C-GET)")
        self.export_button = button("Export de-identified…", self.choose_export)
        self.status = QLabel("Drop a folder, DICOMDIR, zip or file here.")
        bar = QHBoxLayout()
        for widget in (self.open_folder_button, self.open_file_button, self.received_button,
                       self.export_button):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        self.tree = StudyTree(self.thumbs)
        self.tree.series_chosen.connect(self.open_series)
        self.tree.failed.connect(self._failed)
        self.series_items, self.series_tiles = self.tree.series_items, self.tree.series_tiles
        self.series = SeriesViewer(self.thumbs, self.loader)
        self.view = self.series.view
        self.tags = TagBrowser()
        self.tags.failed.connect(self._failed)
        self.series.instance_shown.connect(self.tags.show_file)
        self.series.failed.connect(self._failed)
        # Until something is open the image area says what to do first.
        self.image_area = QStackedWidget()
        self.image_area.addWidget(empty_state(
            "No study open. Open a folder (a CD or USB drive), a DICOMDIR, a zip or a file, "
            "drop one here, or press Received files after a retrieve in Tests."))
        self.image_area.addWidget(self.series)
        model = self.tree.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._show_image_area)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tree)
        splitter.addWidget(self.image_area)
        splitter.addWidget(self.tags)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 540, 400])
        # Notes and warnings only take room when there are some (no empty box under the image).
        self.log = QPlainTextEdit()
        self.log.setObjectName("viewer-log")
        self.log.setReadOnly(True)
        self.log.setVisible(False)
        self.log.textChanged.connect(lambda: self.log.setVisible(bool(self.log.toPlainText())))
        body = split(splitter, self.log, vertical=True, stretch=(1,), sizes=(600, 80))
        column(self, panel_heading(
            "Viewer", "Open studies from a CD, USB drive, zip or what the console received; "
            "browse images and tags, and export de-identified copies."), bar, (body, 1))

    def _show_image_area(self, *_args) -> None:
        self.image_area.setCurrentIndex(1 if self.tree.topLevelItemCount() else 0)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Start the decoder processes while the engineer picks a folder, not after.
        if not self._warming:
            self._warming = True
            workers.start(warm_pool, pool=thumbnail_threads(), on_error=lambda _exc: None)
        super().showEvent(event)

    @property
    def busy(self) -> int:
        """Work still running: indexing, exporting, reading the tree or a series."""
        return self._busy + self.tree.busy + self.series.reading

    @property
    def index(self):
        if self._index is None:
            from pacs_console.core.imaging.index import ImageIndex

            self._index = ImageIndex.for_cache(self.ctx.paths.cache)
        return self._index

    # -- opening -------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder, CD or USB drive")
        if folder:
            self.open_source(folder)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a DICOMDIR, zip or DICOM file")
        if path:
            self.open_source(path)

    def open_received(self) -> None:
        self.open_source(str(self.ctx.paths.store))

    def open_source(self, path: str) -> workers.Worker:
        from pacs_console.core.imaging.index import index_source

        self._busy += 1
        self.status.setText(f"Indexing {path}…")
        return workers.start(index_source, self.index, path, self.ctx.paths.cache,
                             on_progress=self._index_progress, on_result=self._indexed,
                             on_error=self._failed, on_finished=self._done)

    def on_arrivals(self, batch: list) -> None:
        """Slot for the bridge: files the Storage SCP received, indexed a moment later in bulk."""
        paths = [Path(item.path) for item in batch if hasattr(item, "sop_instance_uid")]
        if paths:
            self._arrived.extend(paths)
            if not self._arrival_timer.isActive():
                self._arrival_timer.start()

    def _index_arrivals(self) -> None:
        from pacs_console.core.imaging.index import index_files

        paths, self._arrived = self._arrived, []
        if not paths:
            return
        self._busy += 1
        store = str(Path(self.ctx.paths.store).resolve())
        workers.start(index_files, self.index, store, paths, prune=False, kind="received",
                      on_result=self._indexed, on_error=self._failed, on_finished=self._done)

    def _done(self) -> None:
        self._busy -= 1

    def _index_progress(self, progress) -> None:
        self.status.setText(progress.message)
        source = progress.item
        if isinstance(source, str) and source not in self.sources:
            # The first batch is in the index: show it so thumbnails start while the rest is read.
            self.sources.append(source)
            self.refresh_tree()

    def _indexed(self, result) -> None:
        if result.source not in self.sources:
            self.sources.append(result.source)
        for note in result.notes:
            self.log.appendPlainText(note)
        if result.kind != "received":
            self.status.setText(f"{result.total} files: {result.ok} ok, {result.refused} "
                                f"refused ({result.seconds:.1f} s)")
        self.refresh_tree()

    def _failed(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        text = diagnosis.text() if diagnosis else f"{type(exc).__name__}: {exc}"
        self.status.setText(text.splitlines()[0])
        self.log.appendPlainText(text)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_source(url.toLocalFile())
        event.acceptProposedAction()

    # -- tree and series ---------------------------------------------------------------------------
    def refresh_tree(self) -> None:
        self.tree.refresh(self.index, self.sources)

    def open_series(self, series_uid: str) -> None:
        # 2,000 rows of SQLite are read on a worker: the click never waits for them.
        self.series.read_series(self.index.instances, series_uid, list(self.sources))

    def cancel_work(self) -> None:
        """Stop thumbnail generation (the panel is going away or the app quits)."""
        self.series.cancel_work()
        self.tree.cancel_work()

    # -- export ------------------------------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        key = self.tree.selected_study()  # a series exports its whole study by default
        if key is None:
            return []
        return [inst.path for series in self.index.series(key, self.sources)
                for inst in self.index.instances(series.series_uid, self.sources)]

    def choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the selected study de-identified to")
        if folder:
            self.export_selected(folder)

    def export_selected(self, folder: str) -> workers.Worker | None:
        from pacs_console.core.imaging.deid import export_deid

        paths = self.selected_paths()
        if not paths:
            self.status.setText("Select a study or series to export.")
            return None
        self._busy += 1
        return workers.start(export_deid, paths, folder, on_result=self._exported,
                             on_progress=self._index_progress, on_error=self._failed,
                             on_finished=self._done)

    def _exported(self, report) -> None:
        self.status.setText(f"De-identified {len(report.written)} instances into {report.out_dir}")
        for warning in report.warnings:
            self.log.appendPlainText("WARNING: " + warning)
        for path, reason in report.failed:
            self.log.appendPlainText(f"Not exported: {path}: {reason}")
