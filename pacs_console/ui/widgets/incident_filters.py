"""Incident list filters: text search (debounced), status, severity, site and reported dates."""

from __future__ import annotations

from datetime import UTC, datetime, time

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLineEdit, QWidget

from pacs_console.core.incidents.model import STATUS_LABELS, STATUSES

SEARCH_DELAY_MS = 250


class IncidentFilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search title, description, notes (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("Open", "open")
        self.status.addItem("All statuses", "")
        for status in STATUSES:
            self.status.addItem(STATUS_LABELS[status], status)
        self.severity = QComboBox()
        self.severity.addItem("All severities", "")
        for severity in ("critical", "high", "medium", "low"):
            self.severity.addItem(severity.capitalize(), severity)
        self.site = QComboBox()
        self.site.addItem("All sites", None)
        self.use_dates = QCheckBox("Reported")
        today = QDate.currentDate()
        self.date_from, self.date_to = QDateEdit(today.addDays(-30)), QDateEdit(today)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._dates_changed)
        # Typing waits for a pause so a 100,000-row list is not re-queried per keystroke.
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self.changed)
        self.search.textChanged.connect(self.search_timer.start)
        for combo in (self.status, self.severity, self.site):
            combo.currentIndexChanged.connect(self.changed)
        self.use_dates.toggled.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.search, self.status, self.severity, self.site, self.use_dates,
                       self.date_from, self.date_to):
            layout.addWidget(widget)
        layout.setStretch(0, 1)

    def _dates_changed(self, *_) -> None:
        if self.use_dates.isChecked():
            self.changed.emit()

    def set_sites(self, sites: list) -> None:
        self.site.blockSignals(True)
        for site in sites:
            index = self.site.findData(site.id)
            if index < 0:
                self.site.addItem(site.name, site.id)
            else:
                self.site.setItemText(index, site.name)  # renamed in the site editor
        self.site.blockSignals(False)

    def value(self):
        from pacs_console.core.incidents.queries import IncidentFilter

        status = self.status.currentData()
        start = end = None
        if self.use_dates.isChecked():
            start = datetime.combine(self.date_from.date().toPython(), time(), UTC)
            end = datetime.combine(self.date_to.date().addDays(1).toPython(), time(), UTC)
        return IncidentFilter(statuses=(status,) if status and status != "open" else (),
                              severities=(self.severity.currentData(),)
                              if self.severity.currentData() else (),
                              site_id=self.site.currentData(), reported_from=start,
                              reported_to=end, text=self.search.text(),
                              open_only=status == "open")
