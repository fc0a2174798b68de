"""Tests panel: the address book and C-ECHO against any node (more DIMSE tests to come)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers

COLUMNS = ("Name", "AE title", "Host", "Port", "Tags")


def _load_nodes(ctx: Context) -> list:
    from pacs_console.core.db.nodes import list_nodes

    return list_nodes(ctx.db)


class TestsPanel(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-tests")
        self.ctx = ctx
        self.nodes: list = []  # NodeRecord
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.echo_button = QPushButton("C-ECHO")
        self.echo_button.setToolTip("Verify the selected node (Ctrl+E)")
        self.echo_button.setShortcut("Ctrl+E")
        self.echo_button.clicked.connect(self.echo_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("Select a node and press C-ECHO.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.echo_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<h2>Tests</h2>Address book"))
        layout.addWidget(self.table, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.output, 1)
        self.worker: workers.Worker | None = None

    def refresh(self) -> None:
        """Load the address book off the GUI thread (the first call also opens the database)."""
        workers.start(_load_nodes, self.ctx, on_result=self.populate,
                      on_error=self.show_error)

    def populate(self, nodes: list) -> None:
        self.nodes = nodes
        self.table.setRowCount(len(self.nodes))
        for row, node in enumerate(self.nodes):
            for col, value in enumerate((node.name, node.ae_title, node.host, str(node.port), node.tags)):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, node.id)
                self.table.setItem(row, col, item)
        if self.nodes and not self.table.selectedItems():
            self.table.selectRow(0)

    def selected_node(self):
        rows = self.table.selectionModel().selectedRows()
        return self.nodes[rows[0].row()] if rows else None

    def echo_selected(self) -> None:
        node = self.selected_node()
        if node is None:
            self.output.appendPlainText("Select a node first.")
            return
        self.echo_button.setEnabled(False)
        self.output.appendPlainText(f"C-ECHO {node.ae_title}@{node.host}:{node.port} ...")
        from pacs_console.core.dicom.echo import echo  # pynetdicom loads on first use

        settings = self.ctx.settings
        self.worker = workers.start(
            echo, node.host, node.port, node.ae_title, settings.ae_title, settings.timeouts(),
            on_result=self.show_result, on_error=self.show_error,
            on_finished=lambda: self.echo_button.setEnabled(True))

    def show_result(self, result) -> None:
        if result.ok:
            self.output.appendPlainText(
                f"Success: connect {result.connect_ms:.1f} ms, associate {result.associate_ms:.1f} ms, "
                f"echo {result.echo_ms:.1f} ms; peer {result.peer.get('implementation_version_name')}")
        elif result.diagnosis:
            self.output.appendPlainText("FAILED: " + result.diagnosis.text())

    def show_error(self, exc: Exception) -> None:
        self.output.appendPlainText(f"Unexpected error: {exc}")
