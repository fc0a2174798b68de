"""New-incident dialog: severity with its SLA definition shown, category, site, nodes, evidence.

It opens at once; the nodes to pick from are read on a worker and arrive through set_nodes()
(``nodes=None`` shows "Loading nodes…" until then)."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QWidget,
)

from pacs_console.core.incidents.model import CATEGORIES
from pacs_console.core.incidents.sla import SEVERITY_LEVELS
from pacs_console.ui.widgets.panel_parts import datetime_edit, dialog_buttons, form_rows


def _target_text(level) -> str:
    minutes = int(level.response.total_seconds() // 60)
    amount = f"{minutes} minutes" if minutes < 60 else f"{minutes // 60} hour(s)"
    kind = "business hours at the site" if level.business_hours else "around the clock"
    return f"<b>Response within {amount}</b> ({kind}).<br>{level.definition}"


class IncidentDialog(QDialog):
    def __init__(self, sites: list, nodes: list | None, draft=None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New incident")
        self.setMinimumWidth(580)  # long values and hints stay readable
        self.title = QLineEdit()
        self.severity = QComboBox()
        for key, level in SEVERITY_LEVELS.items():
            self.severity.addItem(level.label, key)
        self.definition = QLabel()
        self.definition.setWordWrap(True)
        self.definition.setObjectName("severity-definition")
        self.severity.currentIndexChanged.connect(self._show_definition)
        self.category = QComboBox()
        for key, label in CATEGORIES.items():
            self.category.addItem(label, key)
        self.site = QComboBox()
        self.site.addItem("(no site)", None)
        for site in sites:
            self.site.addItem(site.name, site.id)
        self.nodes = QListWidget()
        self.nodes.setMaximumHeight(90)
        self._draft_nodes: list = []
        self.reported = datetime_edit(QDateTime.currentDateTime())
        self.reporter, self.contact = QLineEdit(), QLineEdit()
        self.description = QPlainTextEdit()
        self.test_run_id = None
        self.buttons = dialog_buttons(QDialogButtonBox.StandardButton.Ok
                                      | QDialogButtonBox.StandardButton.Cancel,
                                      self.accept, self.reject)
        form_rows((("Title", self.title), ("Severity", self.severity), ("", self.definition),
                   ("Category", self.category), ("Site", self.site),
                   ("Affected nodes", self.nodes), ("Reported at", self.reported),
                   ("Reported by", self.reporter), ("Contact", self.contact),
                   ("Description", self.description), (None, self.buttons)), QFormLayout(self))
        self.title.textChanged.connect(self._validate)
        self.severity.setCurrentIndex(self.severity.findData("high"))
        self._show_definition()
        if draft is not None:
            self.prefill(draft)
        self.set_nodes(nodes)
        self._validate()

    def set_nodes(self, nodes: list | None) -> None:
        """The address book's nodes (None: still being read), the draft's ones ticked."""
        self.nodes.clear()
        if nodes is None:
            QListWidgetItem("Loading nodes…", self.nodes).setFlags(Qt.ItemFlag.NoItemFlags)
            return
        for node in nodes:
            item = QListWidgetItem(f"{node.name} ({node.ae_title})", self.nodes)
            item.setData(Qt.ItemDataRole.UserRole, node.id)
            item.setCheckState(Qt.CheckState.Checked if node.id in self._draft_nodes
                               else Qt.CheckState.Unchecked)

    def prefill(self, draft) -> None:
        self.title.setText(draft.title)
        self.description.setPlainText(draft.description)
        self.severity.setCurrentIndex(self.severity.findData(draft.severity))
        self.category.setCurrentIndex(self.category.findData(draft.category))
        self._draft_nodes = list(draft.nodes)
        for row in range(self.nodes.count()):
            item = self.nodes.item(row)
            if item.data(Qt.ItemDataRole.UserRole) in draft.nodes:
                item.setCheckState(Qt.CheckState.Checked)
        self.test_run_id = draft.test_run_id

    def _show_definition(self) -> None:
        self.definition.setText(_target_text(SEVERITY_LEVELS[self.severity.currentData()]))

    def _validate(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.title.text().strip()))

    def value(self) -> dict:
        """Keyword arguments for core's create_incident."""
        items = [self.nodes.item(r) for r in range(self.nodes.count())]
        nodes = [i.data(Qt.ItemDataRole.UserRole) for i in items
                 if i.data(Qt.ItemDataRole.UserRole) is not None
                 and i.checkState() == Qt.CheckState.Checked]
        if items and items[0].data(Qt.ItemDataRole.UserRole) is None:  # never arrived
            nodes = list(self._draft_nodes)
        reported = self.reported.dateTime().toSecsSinceEpoch()
        return {"title": self.title.text().strip(), "severity": self.severity.currentData(),
                "category": self.category.currentData(), "site": self.site.currentData(),
                "nodes": nodes, "reporter": self.reporter.text(), "contact": self.contact.text(),
                "description": self.description.toPlainText(),
                "reported_at": datetime.fromtimestamp(reported, UTC),
                "test_run_id": self.test_run_id}
