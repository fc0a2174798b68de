"""What a capability probe found, for a person: accepted SOP classes with their transfer
syntaxes by name (UIDs in tooltips), and the association report as labelled rows."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

COLUMNS = ("Service", "SOP class", "Accepted transfer syntaxes", "Role")
_FIT, _STRETCH = QHeaderView.ResizeMode.ResizeToContents, QHeaderView.ResizeMode.Stretch


def _compact(table: QTableWidget) -> None:
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)


class CapabilityTable(QTableWidget):
    """SOP classes a node accepted (objectName ``capability-table``), sortable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("capability-table")
        self.setHorizontalHeaderLabels(COLUMNS)
        for column, mode in enumerate((_FIT, _STRETCH, _STRETCH, _FIT)):
            self.horizontalHeader().setSectionResizeMode(column, mode)
        _compact(self)
        self.setSortingEnabled(True)

    def show_matrix(self, entries: dict) -> None:
        """``entries`` as a probe saves them: SOP class UID to service, name, syntaxes, role."""
        if not entries:  # a node never probed: nothing to name (and no names module to load)
            self.setRowCount(0)
            return
        from pacs_console.core.dicom.names import uid_name

        accepted = [(e["service"], e["name"], e["transfer_syntaxes"], e.get("role", ""))
                    for e in entries.values() if e["transfer_syntaxes"]]
        uids = {e["name"]: uid for uid, e in entries.items()}
        self.setSortingEnabled(False)
        self.setRowCount(len(accepted))
        for row, (service, name, syntaxes, role) in enumerate(sorted(accepted)):
            names = ", ".join(uid_name(ts) for ts in syntaxes)
            for col, value in enumerate((service, uid_name(name), names, role)):
                item = QTableWidgetItem(str(value))
                if col == 1:
                    item.setToolTip(uids.get(name, ""))
                elif col == 2:
                    item.setToolTip("\n".join(f"{uid_name(ts)}: {ts}" for ts in syntaxes))
                self.setItem(row, col, item)
        self.setSortingEnabled(True)


class AssociationTable(QTableWidget):
    """The association report (objectName ``association-report``): names, not UIDs or JSON."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setObjectName("association-report")
        self.setHorizontalHeaderLabels(("Section", "Item", "Value"))
        _compact(self)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, _FIT)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(1, 320)
        header.setStretchLastSection(True)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

    def show_report(self, report: dict) -> None:
        from pacs_console.core.dicom.names import association_rows

        rows = association_rows(report)
        self.setRowCount(len(rows))
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.setItem(row, col, item)
