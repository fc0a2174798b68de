"""Capabilities tab: probe what a node accepts (SOP classes x transfer syntaxes) and the association."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, status_line
from pacs_console.ui.widgets.panel_parts import resizable

COLUMNS = ("Service", "SOP class", "Accepted transfer syntaxes", "Role")


def _probe_and_save(ctx: Context, node_id: int, target, storage: bool):
    from pacs_console.core.db.nodes import set_capabilities
    from pacs_console.core.db.testruns import run_recorded
    from pacs_console.core.dicom.ops.probe import probe

    matrix, run = yield from run_recorded(ctx.db, node_id, probe(target, storage=storage))
    if matrix.accepted:
        set_capabilities(ctx.db, node_id, matrix.to_dict())
    return matrix, run


class ProbeTab(RunTab):
    error_text = "The probe stopped on an unexpected error"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.storage = QCheckBox("Include every storage SOP class (slower)")
        self.storage.setChecked(True)
        self.start_button = QPushButton("Probe capabilities")
        self.start_button.clicked.connect(self.start)
        self.start_buttons = (self.start_button,)
        self.progress = QProgressBar()
        self.status = status_line("probe-status")
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
        self.output = resizable(self.table, report, stretch=(3, 2))
        layout.addWidget(self.output, 1)

    def start(self) -> None:
        node = self.node_to_test()
        if node is None:
            return
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self.status.setText(f"Probing {target.label}…")
        self.progress.setRange(0, 0)
        self.launch(_probe_and_save, self.ctx, node.id, target, self.storage.isChecked(),
                    on_progress=self.on_progress)

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
        if matrix.association:
            self.show_association(matrix.association)
        self.report(matrix, run)
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

    def after_run(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
