"""Retrieve tab: C-MOVE to this console (with pre-flight) or C-GET, with progress and throughput plot."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.testbench.run_tab import RunTab, log_box, status_line
from pacs_console.ui.widgets.live_plot import LivePlot
from pacs_console.ui.widgets.panel_parts import column, resizable, row

KEYS = (("StudyInstanceUID", "Study UID"), ("SeriesInstanceUID", "Series UID"),
        ("PatientID", "Patient ID"), ("AccessionNumber", "Accession"))


class RetrieveTab(RunTab):
    error_text = "The retrieve stopped on an unexpected error"
    cancelling_text = "Cancelling (C-CANCEL sent)…"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.method = QComboBox()
        self.method.setObjectName("retrieve-method")
        self.method.addItem("C-MOVE to this console", "move")
        self.method.addItem("C-GET (no move destination needed)", "get")
        self.level = QComboBox()
        self.level.addItems(["STUDY", "SERIES", "PATIENT", "IMAGE"])
        self.inputs: dict[str, QLineEdit] = {}
        form = QGridLayout()  # two columns: the chart below keeps its height on a laptop
        form.addWidget(QLabel("Method"), 0, 0)
        form.addWidget(self.method, 0, 1)
        form.addWidget(QLabel("Level"), 0, 2)
        form.addWidget(self.level, 0, 3)
        for index, (keyword, label) in enumerate(KEYS):
            self.inputs[keyword] = QLineEdit()
            line, col = 1 + index // 2, (index % 2) * 2
            form.addWidget(QLabel(label), line, col)
            form.addWidget(self.inputs[keyword], line, col + 1)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)
        self.preflight_button = QPushButton("Pre-flight check")
        self.preflight_button.setToolTip("Is this console reachable for a C-MOVE? What must the PACS know?")
        self.preflight_button.clicked.connect(self.preflight)
        self.start_button, self.cancel_button = self.run_buttons("Retrieve", self.start)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m")
        self.status = status_line("retrieve-status")
        self.plot = LivePlot("Retrieve throughput", ("MB/s",), "Throughput (MB/s)", "Time (s)")
        self.log = log_box("Fill the keys (or pick a match in Query and press Retrieve "
                           "selected), run the pre-flight check, then Retrieve.")
        self.output = resizable(self.plot, self.log, stretch=(3, 1))
        column(self, form, row(self.preflight_button, self.start_button, self.cancel_button, 1),
               self.progress, self.status, (self.output, 1))

    def fill(self, match: dict) -> None:
        """Take the identifying keys of a query match (the Query tab's 'Retrieve selected')."""
        for keyword, edit in self.inputs.items():
            edit.setText(match.get(keyword, ""))
        if match.get("SeriesInstanceUID"):
            self.level.setCurrentText("SERIES")
        elif match.get("StudyInstanceUID"):
            self.level.setCurrentText("STUDY")

    def _keys(self) -> dict[str, str]:
        return {k: e.text().strip() for k, e in self.inputs.items() if e.text().strip()}

    def _target(self):
        from pacs_console.core.dicom.wire.target import Target

        node = self.panel.selected_node()
        if node is None:
            self.status.setText("Select a node in the address book first.")
            return None, None
        return node, Target.from_node(node, self.ctx.settings)

    def _ensure_scp(self) -> bool:
        scp = self.ctx.storage_scp()
        if scp.running:
            return True
        try:
            scp.start()
        except OSError as exc:
            self.status.setText(f"This console's Storage SCP cannot listen on port {scp.port}: "
                                f"{exc.strerror or exc}. Change the port in Settings, or use C-GET.")
            return False
        self.log.appendPlainText(f"Storage SCP {scp.ae_title} started on port {scp.port}.")
        return True

    def preflight(self) -> None:
        node, target = self._target()
        if target is None:
            return
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.ops.preflight import preflight_move

        running = self._ensure_scp()
        scp = self.ctx.scp
        self.status.setText("Running the C-MOVE pre-flight…")
        operation = preflight_move(target, running, self.ctx.settings.ae_title, scp.port, scp=scp)
        workers.start(run_recorded, self.ctx.db, node.id, operation, on_result=self.on_preflight,
                      on_error=self.on_error)

    def on_preflight(self, outcome) -> None:
        report, run = outcome
        lines = [report.summary()]
        for check in report.checks:
            mark = "skipped" if check.ok is None else "OK" if check.ok else "FAILED"
            lines.append(f"  [{mark}] {check.name}: {check.detail}")
        if report.required:
            lines.append(f"The PACS must know: {report.required}")
        self.log.appendPlainText("\n".join(lines))
        self.status.setText(lines[0])
        if run is not None:
            self.run_saved.emit(run)

    def start(self) -> None:
        node, target = self._target()
        keys = self._keys()
        if target is None or self.worker is not None:
            return
        if not keys:
            self.status.setText("Enter at least one identifying key (e.g. the Study UID), or pick "
                                "a match in the Query tab and press 'Retrieve selected'.")
            return
        from pacs_console.core.db.testruns import run_recorded
        from pacs_console.core.dicom.ops.retrieve import get, move

        level = self.level.currentText()
        if self.method.currentData() == "move":
            if not self._ensure_scp():
                return
            scp = self.ctx.scp
            operation = move(target, self.ctx.settings.ae_title, level, keys, scp=scp,
                             local_port=scp.port)
        else:
            operation = get(target, level, keys, self.ctx.paths.store)
        self.plot.clear()
        self.status.setText(f"{self.method.currentText()}: {level} from {target.label}…")
        self.launch(run_recorded, self.ctx.db, node.id, operation, on_progress=self.on_progress)

    def on_progress(self, p) -> None:
        done = p.completed + p.failed + p.warning
        if p.remaining is not None:
            self.progress.setRange(0, done + p.remaining)
            self.progress.setValue(done)
        self.plot.append("MB/s", p.elapsed_s, p.mb_per_s)
        self.status.setText(f"{p.completed} completed, {p.failed} failed, {p.warning} warnings, "
                            f"{p.bytes_received / 1e6:.1f} MB at {p.mb_per_s:.1f} MB/s")

    def on_done(self, outcome) -> None:
        result, run = outcome
        self.progress.setRange(0, max(1, result.completed + result.failed + result.warning))
        self.progress.setValue(result.completed + result.failed + result.warning)
        self.log.appendPlainText(self.report(result, run))

    def cancelled_text(self) -> str:
        # No result comes after a cancel: say so rather than leave "Retrieving…" on screen.
        return (f"Cancelled after {self.progress.value()} images; what arrived before the "
                "cancel is kept.")
