"""Scheduled maintenance windows: list, add (site-wide or one node) and delete; all audited."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.ui.widgets import panel_parts as parts
from pacs_console.ui.widgets.incident_detail import actor_of, diagnosis_text

COLUMNS = ("#", "Start", "End", "Applies to", "Reason")


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
        self.start = parts.datetime_edit(now)
        self.end = parts.datetime_edit(now.addSecs(2 * 3600))
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. archive firmware upgrade, UPS replacement")
        self.add_button = QPushButton("Add window")
        self.add_button.clicked.connect(self.add_window)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.clicked.connect(self.delete_selected)
        self.table = parts.record_table(COLUMNS)
        self.message = QLabel("" if self.site.count() else "Add a site first (Sites…).")
        self.message.setWordWrap(True)
        form = parts.form_rows((("Site", self.site), ("Node", self.node),
                                ("Starts (local)", self.start), ("Ends (local)", self.end),
                                ("Reason", self.reason)))
        close = parts.dialog_buttons(QDialogButtonBox.StandardButton.Close, self.accept,
                                     self.reject)
        parts.column(self, (self.table, 1), form,
                     parts.row(self.add_button, 1, self.delete_button), self.message, close)
        self.reload()

    def reload(self) -> None:
        from pacs_console.core.incidents.sites import list_maintenance

        self.windows = list_maintenance(self.ctx.db)
        parts.fill_table(self.table, (
            (w.id, (str(w.id), f"{w.starts_at.astimezone():%Y-%m-%d %H:%M}",
                    f"{w.ends_at.astimezone():%Y-%m-%d %H:%M}", w.scope, w.reason))
            for w in self.windows))
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
