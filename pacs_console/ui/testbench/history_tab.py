"""History tab: the saved test runs of the selected node, newest first, with their details."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.widgets.columns import size_columns

COLUMNS = ("When (UTC)", "Kind", "Outcome", "Duration", "Summary")


def _load(ctx: Context, node_id: int | None) -> list:
    from pacs_console.core.db.testruns import list_test_runs

    return list_test_runs(ctx.db, node_id=node_id, limit=500)


class HistoryTab(QWidget):
    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.panel = ctx, panel
        self.runs: list = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        size_columns(self.table, {"When (UTC)": "2026-12-05 01:15:00", "Kind": "echo-series",
                                  "Outcome": "failed", "Duration": "99999 ms"}, ("Summary",))
        self.table.itemSelectionChanged.connect(self.show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Every echo, query, retrieve, store and probe of the node "
                                        "above is kept here. Select one to see its parameters, "
                                        "figures and any diagnosis.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def refresh(self) -> None:
        node = self.panel.selected_node()
        workers.start(_load, self.ctx, node.id if node else None, on_result=self.populate)

    def populate(self, runs: list) -> None:
        if runs == self.runs and self.table.rowCount() == len(runs):
            return  # unchanged: keep the selection and the details shown
        self.runs = runs
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            values = (run.started_at.strftime("%Y-%m-%d %H:%M:%S"), run.kind, run.outcome,
                      f"{run.duration_ms:.0f} ms", run.summary)
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))

    def show_details(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        run = self.runs[rows[0].row()]
        data = {"id": run.id, "uuid": run.uuid, "node": run.node_label, "kind": run.kind,
                "outcome": run.outcome, "summary": run.summary, "parameters": run.parameters,
                "metrics": run.metrics, "diagnosis": run.diagnosis, "association": run.association}
        from pacs_console.core.dicom.names import as_text

        self.details.setPlainText(as_text(data))
