"""Store tab: send files, folders or a generated test study; per-file status, images/s and MB/s plotted."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.widgets.live_plot import LivePlot


def _generated(modality: str, images: int, compression: str | None) -> list:
    from pacs_console.core.dicom.synth.studies import generate_study

    return generate_study(modality, images=images, compression=compression)


class StoreTab(QWidget):
    run_saved = Signal(object)

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.panel = ctx, panel
        self.sources = QListWidget()
        self.sources.setMaximumHeight(90)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self._add_files)
        add_folder = QPushButton("Add folder…")
        add_folder.clicked.connect(self._add_folder)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.sources.clear)
        self.generate = QSpinBox()
        self.generate.setObjectName("store-generate")
        self.generate.setRange(0, 5000)
        self.generate.setSpecialValueText("none")
        self.modality = QComboBox()
        self.modality.setObjectName("store-modality")
        self.modality.addItems(["CT", "MR", "CR", "US"])
        self.compression = QComboBox()
        for label, value in (("uncompressed", None), ("RLE", "rle"), ("JPEG 2000", "jpeg2000"),
                             ("JPEG-LS", "jpegls")):
            self.compression.addItem(label, value)
        self.parallel = QSpinBox()
        self.parallel.setRange(1, 8)
        form = QHBoxLayout()
        for label, widget in (("Generated test study", self.generate), ("images of", self.modality),
                              ("", self.compression), ("Parallel associations", self.parallel)):
            if label:
                form.addWidget(QLabel(label))
            form.addWidget(widget)
        form.addStretch(1)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        for button in (add_files, add_folder, clear, self.send_button, self.cancel_button):
            row.addWidget(button)
        row.addStretch(1)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setObjectName("store-status")
        self.status.setWordWrap(True)
        self.plot = LivePlot("C-STORE throughput", ("images/s", "MB/s"), "Rate (images/s, MB/s)",
                             "Time (s)")
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Files and folders to send"))
        layout.addWidget(self.sources)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.log.setPlaceholderText("Add files or a folder, or ask for a generated test study, "
                                    "then Send.")
        self.output = QSplitter(Qt.Orientation.Vertical)
        self.output.addWidget(self.plot)
        self.output.addWidget(self.log)
        self.output.setStretchFactor(0, 3)
        self.output.setStretchFactor(1, 1)
        self.output.setChildrenCollapsible(False)
        layout.addWidget(self.output, 1)
        self.worker: workers.Worker | None = None
        self._last_x, self._bytes = -1.0, 0

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "DICOM files to send")
        self.sources.addItems(files)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to send (recursively)")
        if folder:
            self.sources.addItem(folder)

    def add_source(self, path: str) -> None:
        self.sources.addItem(path)

    def start(self) -> None:
        node = self.panel.selected_node()
        if node is None or self.worker is not None:
            self.status.setText("Select a node in the address book first.")
            return
        paths = [self.sources.item(i).text() for i in range(self.sources.count())]
        if not paths and not self.generate.value():
            self.status.setText("Add files or a folder, or ask for a generated test study.")
            return
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self.plot.clear()
        self._last_x, self._bytes = -1.0, 0
        self.progress.setRange(0, 0)
        self.status.setText(f"Sending to {target.label}…")
        self.worker = workers.start(self._send, node.id, target, paths, self.generate.value(),
                                    self.modality.currentText(), self.compression.currentData(),
                                    self.parallel.value(), on_progress=self.on_progress,
                                    on_result=self.on_done, on_error=self.on_error,
                                    on_finished=self._finished)
        self.send_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def _send(self, node_id, target, paths, generate, modality, compression, parallel):
        """Worker thread: generating a study takes seconds, so it happens here too."""
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.ops.store import store

        sources = list(paths)
        if generate:
            sources += _generated(modality, generate, compression)
        return (yield from run_recorded(self.ctx.db, node_id, store(target, sources,
                                                                    parallel=parallel)))

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling…")

    def on_progress(self, p) -> None:
        self.progress.setRange(0, p.images_total)
        self.progress.setValue(p.images_done)
        self._bytes += p.bytes  # StoreProgress.bytes is the size of this one instance
        if p.status != 0:
            state = f"0x{p.status:04X} {p.meaning}" if p.status is not None else "FAILED"
            self.log.appendPlainText(f"{state}: {p.path}")
        if p.elapsed_s > 0 and p.elapsed_s - self._last_x >= 0.1:
            self._last_x = p.elapsed_s
            self.plot.append("images/s", p.elapsed_s, p.images_done / p.elapsed_s)
            self.plot.append("MB/s", p.elapsed_s, self._bytes / 1e6 / p.elapsed_s)
        self.status.setText(f"{p.images_done} of {p.images_total} sent")

    def on_done(self, outcome) -> None:
        result, run = outcome
        text = result.summary()
        for skipped in result.skipped[:20]:
            self.log.appendPlainText(f"skipped {skipped['path']}: {skipped['reason']}")
        if result.diagnosis is not None:
            text += "\n" + result.diagnosis.text()
        self.status.setText(text)
        if run is not None:
            self.run_saved.emit(run)

    def on_error(self, exc: Exception) -> None:
        self.status.setText(f"Sending stopped on an unexpected error: {exc}")

    def _finished(self) -> None:
        if self.worker is not None and self.worker.cancelled:
            # No result comes after a cancel: say so rather than leave "Sending…" on screen.
            self.status.setText(f"Cancelled after {max(self.progress.value(), 0)} of "
                                f"{self.progress.maximum()} sent.")
        self.worker = None
        self.send_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
