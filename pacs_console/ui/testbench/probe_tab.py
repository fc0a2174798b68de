"""Capabilities tab: probe what a node accepts (SOP classes x transfer syntaxes) and the association."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers

COLUMNS = ("Service", "SOP class", "Accepted transfer syntaxes", "Role")


def _probe_and_save(ctx: Context, node_id: int, target, storage: bool):
    from pacs_console.core.db.nodes import set_capabilities
    from pacs_console.core.db.testruns import run_recorded
    from pacs_console.core.dicom.ops.probe import probe

    matrix, run = yield from run_recorded(ctx.db, node_id, probe(target, storage=storage))
    if matrix.accepted:
        set_capabilities(ctx.db, node_id, matrix.to_dict())
    return matrix, run


class ProbeTab(QWidget):
    run_saved = Signal(object)

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.panel = ctx, panel
        self.storage = QCheckBox("Include every storage SOP class (slower)")
        self.storage.setChecked(True)
        self.start_button = QPushButton("Probe capabilities")
        self.start_button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setObjectName("probe-status")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        for table in (self.table,):
            table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(True)
        self.table.setObjectName("capability-table")
        # The association report as labelled rows (names, not UIDs or JSON).
        self.association = QTableWidget(0, 3)
        self.association.setObjectName("association-report")
        self.association.setHorizontalHeaderLabels(("Section", "Item", "Value"))
        self.association.verticalHeader().setVisible(False)
        self.association.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.association.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents)
        self.association.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Interactive)
        self.association.setColumnWidth(1, 320)
        self.association.horizontalHeader().setStretchLastSection(True)
        self.association.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.status.setText("Pick a node above and press Probe capabilities: it proposes every "
                            "SOP class and transfer syntax and lists what the node accepts.")
        row = QHBoxLayout()
        row.addWidget(self.storage)
        row.addWidget(self.start_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        report = QWidget()
        report_layout = QVBoxLayout(report)
        report_layout.setContentsMargins(0, 0, 0, 0)
        report_layout.addWidget(QLabel("Association report"))
        report_layout.addWidget(self.association)
        self.output = QSplitter(Qt.Orientation.Vertical)
        self.output.addWidget(self.table)
        self.output.addWidget(report)
        self.output.setStretchFactor(0, 3)
        self.output.setStretchFactor(1, 2)
        self.output.setChildrenCollapsible(False)
        layout.addWidget(self.output, 1)
        self.worker: workers.Worker | None = None

    def start(self) -> None:
        node = self.panel.selected_node()
        if node is None or self.worker is not None:
            self.status.setText("Select a node in the address book first.")
            return
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self.status.setText(f"Probing {target.label}…")
        self.progress.setRange(0, 0)
        self.worker = workers.start(_probe_and_save, self.ctx, node.id, target,
                                    self.storage.isChecked(), on_progress=self.on_progress,
                                    on_result=self.on_done, on_error=self.on_error,
                                    on_finished=self._finished)
        self.start_button.setEnabled(False)

    def on_progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.status.setText(p.message or "Probing…")

    def show_matrix(self, entries: dict) -> None:
        accepted = [(e["service"], e["name"], e["transfer_syntaxes"], e.get("role", ""))
                    for e in entries.values() if e["transfer_syntaxes"]]
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(accepted))
        from pacs_console.core.dicom.names import uid_name

        uids = {e["name"]: uid for uid, e in entries.items()}
        for row, (service, name, syntaxes, role) in enumerate(sorted(accepted)):
            names = ", ".join(uid_name(ts) for ts in syntaxes)
            for col, value in enumerate((service, uid_name(name), names, role)):
                item = QTableWidgetItem(str(value))
                if col == 1:
                    item.setToolTip(uids.get(name, ""))
                elif col == 2:
                    item.setToolTip("\n".join(f"{uid_name(ts)}: {ts}" for ts in syntaxes))
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)

    def on_done(self, outcome) -> None:
        matrix, run = outcome
        self.show_matrix(matrix.entries)
        text = matrix.summary()
        if matrix.diagnosis is not None:
            text += "\n" + matrix.diagnosis.text()
        self.status.setText(text)
        if matrix.association:
            self.show_association(matrix.association)
        if run is not None:
            self.run_saved.emit(run)
        self.panel.refresh()

    def show_association(self, report: dict) -> None:
        from pacs_console.core.dicom.names import association_rows

        rows = association_rows(report)
        self.association.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.association.setItem(row, col, item)

    def on_error(self, exc: Exception) -> None:
        self.status.setText(f"The probe stopped on an unexpected error: {exc}")

    def _finished(self) -> None:
        self.worker = None
        self.start_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
