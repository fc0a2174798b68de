"""Capabilities tab: probe what a node accepts (SOP classes x transfer syntaxes) and the association."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QProgressBar, QWidget

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, status_line
from pacs_console.ui.widgets.capability_tables import AssociationTable, CapabilityTable
from pacs_console.ui.widgets.panel_parts import column, pane, resizable, row


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
    busy_text = "Probing…"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.storage = QCheckBox("Include every storage SOP class (slower)")
        self.storage.setChecked(True)
        self.start_button = self.start_button_for("Probe capabilities", self.start)
        self.progress = QProgressBar()
        self.status = status_line("probe-status")
        self.table = CapabilityTable()
        self.association = AssociationTable()
        self.status.setText("Pick a node above and press Probe capabilities: it proposes every "
                            "SOP class and transfer syntax and lists what the node accepts.")
        report = pane(QLabel("Association report"), self.association)
        self.output = resizable(self.table, report, stretch=(3, 2))
        column(self, row(self.storage, self.start_button, 1), self.progress, self.status,
               (self.output, 1))

    def start(self) -> None:
        node = self.node_to_test()
        if node is None:
            return
        from pacs_console.core.dicom.wire.target import Target

        target = Target.from_node(node, self.ctx.settings)
        self.launch(_probe_and_save, self.ctx, node.id, target, self.storage.isChecked())
        self.status.setText(f"Probing {target.label}…")

    def show_matrix(self, entries: dict) -> None:
        self.table.show_matrix(entries)

    def on_done(self, outcome) -> None:
        matrix, run = outcome
        self.show_matrix(matrix.entries)
        if matrix.association:
            self.association.show_report(matrix.association)
        self.report(matrix, run)
        self.panel.refresh()

    def after_run(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
