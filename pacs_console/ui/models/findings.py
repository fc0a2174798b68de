"""Sweep findings streaming into a table: one row per open host:port, insecure rows marked."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from pacs_console.ui.models.rows_model import append_streamed

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Host", "Port", "Verdict", "AE title", "Vendor", "Product", "Version",
           "Implementation", "Latency (ms)")
VERDICT_LABELS = {"dicom-any-ae": "DICOM, any AE (insecure)", "dicom-checks-ae": "DICOM, checks AE",
                  "dicom-rejected": "DICOM, refused us", "not-dicom": "not DICOM",
                  "silent": "silent", "dicomweb": "DICOMweb", "http": "HTTP (no DICOMweb)",
                  "not-http": "not HTTP"}
_INSECURE = QColor(255, 220, 210)
_DICOM = QColor(220, 240, 220)


def _cells(f) -> tuple:
    product = f.product if f.product not in ("", "unknown") else ""
    vendor = f.vendor if f.vendor not in ("", "unknown") else ""
    impl = f.implementation_version_name or f.dicomweb_url
    return (f.host, f.port, VERDICT_LABELS.get(f.verdict, f.verdict), f.ae_title, vendor,
            product, f.version, impl, round(f.latency_ms, 1))


class FindingsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.findings: list = []

    def clear(self) -> None:
        self.beginResetModel()
        self.findings = []
        self.endResetModel()

    def append(self, findings) -> None:
        append_streamed(self, self.findings, findings)

    def finding(self, row: int):
        return self.findings[row] if 0 <= row < len(self.findings) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        f = self.findings[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = _cells(f)[index.column()]
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f.detail or None
        if role == Qt.ItemDataRole.BackgroundRole:
            if f.insecure:
                return QBrush(_INSECURE)
            if f.is_dicom or f.verdict == "dicomweb":
                return QBrush(_DICOM)
        if role == Qt.ItemDataRole.UserRole:
            return f
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        import ipaddress

        def key(f):
            value = _cells(f)[column]
            if column == 0:
                return (int(ipaddress.ip_address(f.host)), f.port)
            return (0, value, "") if isinstance(value, int | float) else (1, 0, str(value))

        self.layoutAboutToBeChanged.emit()
        self.findings.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()
