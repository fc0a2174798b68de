"""Scheduled maintenance windows: list, add (site-wide or one node) and delete; all audited."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.ui.widgets.incident_detail import actor_of, diagnosis_text

COLUMNS = ("#", "Start", "End", "Applies to", "Reason")


def _edit(value: QDateTime) -> QDateTimeEdit:
    edit = QDateTimeEdit(value)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm")
    return edit


def _aware(edit: QDateTimeEdit) -> datetime:
    """What the edit shows, to the minute: "08:00" is 08:00:00, not the seconds it was
    opened at (hidden seconds once left a failure outside a window that looked right)."""
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC).replace(second=0)


class MaintenanceDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        from pacs_console.core.db.nodes import list_nodes
        from pacs_console.core.incidents.sites import list_sites

        super().__init__(parent)
        self.setWindowTitle("Maintenance windows")
        self.resize(720, 460)
        self.ctx = ctx
        self.windows: list = []
        self.site = QComboBox()
        for site in list_sites(ctx.db):
            self.site.addItem(site.name, site.id)
        self.node = QComboBox()
        self.node.addItem("(every node at the site)", None)
        for node in list_nodes(ctx.db):
            self.node.addItem(f"{node.name} ({node.label})", node.id)
        now = QDateTime.currentDateTime()
        self.start, self.end = _edit(now), _edit(now.addSecs(2 * 3600))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. archive firmware upgrade, UPS replacement")
        self.add_button = QPushButton("Add window")
        self.add_button.clicked.connect(self.add_window)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.clicked.connect(self.delete_selected)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.message = QLabel("" if self.site.count() else "Add a site first (Sites…).")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Site", self.site)
        form.addRow("Node", self.node)
        form.addRow("Starts (local)", self.start)
        form.addRow("Ends (local)", self.end)
        form.addRow("Reason", self.reason)
        actions = QHBoxLayout()
        actions.addWidget(self.add_button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.reload()

    def reload(self) -> None:
        from pacs_console.core.incidents.sites import list_maintenance

        self.windows = list_maintenance(self.ctx.db)
        self.table.setRowCount(len(self.windows))
        for row, window in enumerate(self.windows):
            cells = (str(window.id), f"{window.starts_at.astimezone():%Y-%m-%d %H:%M}",
                     f"{window.ends_at.astimezone():%Y-%m-%d %H:%M}", window.scope,
                     window.reason)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, window.id)
                self.table.setItem(row, column, item)
        self.delete_button.setEnabled(bool(self.windows))

    def add_window(self) -> int | None:
        from pacs_console.core.incidents.sites import add_maintenance_window

        if self.site.currentData() is None:
            self.message.setText("Add a site first (Sites…).")
            return None
        if not self.reason.text().strip():
            self.message.setText("Say why the node or site will be down (the reason is kept "
                                 "with the uptime figures).")
            return None
        try:
            window_id = add_maintenance_window(
                self.ctx.db, starts_at=_aware(self.start), ends_at=_aware(self.end),
                node_id=self.node.currentData(), site=self.site.currentData(),
                reason=self.reason.text(), actor=actor_of(self.ctx))
        except ConsoleError as exc:
            self.message.setText(diagnosis_text(exc))
            return None
        self.reason.clear()
        self.reload()
        self.message.setText(f"Maintenance window {window_id} added.")
        return window_id

    def delete_selected(self) -> None:
        from pacs_console.core.incidents.sites import delete_maintenance_window

        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select a window to delete.")
            return
        window = self.windows[rows[0].row()]
        try:
            delete_maintenance_window(self.ctx.db, window.id, actor=actor_of(self.ctx))
        except ConsoleError as exc:
            self.message.setText(diagnosis_text(exc))
            return
        self.reload()
        self.message.setText(f"Maintenance window {window.id} deleted.")
