"""Store tab: send files, folders or a generated test study; per-file status, images/s and MB/s plotted."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, log_box, status_line
from pacs_console.ui.widgets.live_plot import LivePlot
from pacs_console.ui.widgets.panel_parts import column, resizable, row


def _generated(modality: str, images: int, compression: str | None) -> list:
    from pacs_console.core.dicom.synth.studies import generate_study

    return generate_study(modality, images=images, compression=compression)


class StoreTab(RunTab):
    error_text = "Sending stopped on an unexpected error"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
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
        self.send_button, self.cancel_button = self.run_buttons("Send", self.start)
        self.progress = QProgressBar()
        self.status = status_line("store-status")
        self.plot = LivePlot("C-STORE throughput", ("images/s", "MB/s"), "Rate (images/s, MB/s)",
                             "Time (s)")
        self.log = log_box("Add files or a folder, or ask for a generated test study, then Send.",
                           5000)
        self.output = resizable(self.plot, self.log, stretch=(3, 1))
        buttons = row(add_files, add_folder, clear, self.send_button, self.cancel_button, 1)
        column(self, QLabel("Files and folders to send"), self.sources, form, buttons,
               self.progress, self.status, (self.output, 1))
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
        node = self.node_to_test()
        if node is None:
            return
        paths = [self.sources.item(i).text() for i in range(self.sources.count())]
        if not paths and not self.generate.value():
            self.status.setText("Add files or a folder, or ask for a generated test study.")
            return
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self.plot.clear()
        self._last_x, self._bytes = -1.0, 0
        self.status.setText(f"Sending to {target.label}…")
        self.launch(self._send, node.id, target, paths, self.generate.value(),
                    self.modality.currentText(), self.compression.currentData(),
                    self.parallel.value(), on_progress=self.on_progress)

    def _send(self, node_id, target, paths, generate, modality, compression, parallel):
        """Worker thread: generating a study takes seconds, so it happens here too."""
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.ops.store import store

        sources = list(paths)
        if generate:
            sources += _generated(modality, generate, compression)
        return (yield from run_recorded(self.ctx.db, node_id, store(target, sources,
                                                                    parallel=parallel)))

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
        result, _run = outcome
        for skipped in result.skipped[:20]:
            self.log.appendPlainText(f"skipped {skipped['path']}: {skipped['reason']}")
        super().on_done(outcome)

    def cancelled_text(self) -> str:
        # No result comes after a cancel: say so rather than leave "Sending…" on screen.
        return (f"Cancelled after {max(self.progress.value(), 0)} of "
                f"{self.progress.maximum()} sent.")
