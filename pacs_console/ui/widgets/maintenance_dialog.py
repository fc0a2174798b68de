"""Scheduled maintenance windows: list, add (site-wide or one node) and delete; all audited.

The dialog opens at once; its sites, nodes and windows are read, and every add or delete saved,
on a worker (ui/workers.py). A change is said once the worker confirms it."""

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
from pacs_console.ui import workers
from pacs_console.ui.widgets import panel_parts as parts
from pacs_console.ui.widgets.incident_detail import actor_of, diagnosis_text

COLUMNS = ("#", "Start", "End", "Applies to", "Reason")


def _aware(edit: QDateTimeEdit) -> datetime:
    """What the edit shows, to the minute: "08:00" is 08:00:00, not the seconds it was
    opened at (hidden seconds once left a failure outside a window that looked right)."""
    return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC).replace(second=0)


def _choices(ctx: Context) -> tuple[list, list]:
    """Worker thread: the sites and nodes a window can apply to."""
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db), list_nodes(ctx.db)


def _windows(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_maintenance

    return list_maintenance(ctx.db)


def _add(ctx: Context, **values) -> tuple[int, list]:
    """Worker thread: the new window's id and the windows as saved."""
    from pacs_console.core.incidents.sites import add_maintenance_window

    return add_maintenance_window(ctx.db, **values), _windows(ctx)


def _delete(ctx: Context, window_id: int, actor: str) -> tuple[int, list]:
    from pacs_console.core.incidents.sites import delete_maintenance_window

    delete_maintenance_window(ctx.db, window_id, actor=actor)
    return window_id, _windows(ctx)


class MaintenanceDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Maintenance windows")
        self.resize(720, 460)
        self.ctx = ctx
        self.windows: list = []
        self.site = QComboBox()  # filled when the worker has read the sites
        self.node = QComboBox()
        self.node.addItem("(every node at the site)", None)
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
        self.message = QLabel("Reading the sites and nodes…")
        self.message.setWordWrap(True)
        form = parts.form_rows((("Site", self.site), ("Node", self.node),
                                ("Starts (local)", self.start), ("Ends (local)", self.end),
                                ("Reason", self.reason)))
        close = parts.dialog_buttons(QDialogButtonBox.StandardButton.Close, self.accept,
                                     self.reject)
        parts.column(self, (self.table, 1), form,
                     parts.row(self.add_button, 1, self.delete_button), self.message, close)
        self.delete_button.setEnabled(False)
        self.add_button.setEnabled(False)  # until the sites and nodes are read
        workers.start(_choices, ctx, on_result=self._show_choices, on_error=self._failed)
        self.reload()

    def _show_choices(self, choices: tuple[list, list]) -> None:
        sites, nodes = choices
        self.add_button.setEnabled(True)
        for site in sites:
            self.site.addItem(site.name, site.id)
        for node in nodes:
            self.node.addItem(f"{node.name} ({node.label})", node.id)
        self.message.setText("" if sites else "Add a site first (Sites…).")

    def _failed(self, exc: Exception) -> None:
        self.message.setText(diagnosis_text(exc))

    def reload(self) -> None:
        """Read the windows on a worker; the table shows them when they arrive."""
        workers.start(_windows, self.ctx, on_result=self._show_windows, on_error=self._failed)

    def _show_windows(self, windows: list) -> None:
        self.windows = windows
        parts.fill_table(self.table, (
            (w.id, (str(w.id), f"{w.starts_at.astimezone():%Y-%m-%d %H:%M}",
                    f"{w.ends_at.astimezone():%Y-%m-%d %H:%M}", w.scope, w.reason))
            for w in self.windows))
        self.delete_button.setEnabled(bool(self.windows))

    def add_window(self) -> workers.Worker | None:
        if self.site.currentData() is None:
            self.message.setText("Add a site first (Sites…).")
            return None
        if not self.reason.text().strip():
            self.message.setText("Say why the node or site will be down (the reason is kept "
                                 "with the uptime figures).")
            return None
        self.add_button.setEnabled(False)
        self.message.setText("Saving…")
        return workers.start(_add, self.ctx, starts_at=_aware(self.start), ends_at=_aware(self.end),
                             node_id=self.node.currentData(), site=self.site.currentData(),
                             reason=self.reason.text(), actor=actor_of(self.ctx),
                             on_result=self._added, on_error=self._failed,
                             on_finished=lambda: self.add_button.setEnabled(True))

    def _added(self, added: tuple[int, list]) -> None:
        window_id, windows = added
        self.reason.clear()
        self._show_windows(windows)
        self.message.setText(f"Maintenance window {window_id} added.")

    def delete_selected(self) -> workers.Worker | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select a window to delete.")
            return None
        window = self.windows[rows[0].row()]
        self.delete_button.setEnabled(False)
        self.message.setText("Deleting…")
        return workers.start(_delete, self.ctx, window.id, actor_of(self.ctx),
                             on_result=self._deleted, on_error=self._failed,
                             on_finished=lambda: self.delete_button.setEnabled(
                                 bool(self.windows)))

    def _deleted(self, deleted: tuple[int, list]) -> None:
        window_id, windows = deleted
        self._show_windows(windows)
        self.message.setText(f"Maintenance window {window_id} deleted.")
