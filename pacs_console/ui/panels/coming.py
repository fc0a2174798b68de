"""An honest placeholder for a panel whose issue has not landed yet."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

# What each panel will do, shown to the engineer instead of an empty page.
PLANNED = {
    "Discovery": "Sweep the hospital subnets for DICOM nodes, fingerprint them, and keep a site "
                 "inventory that shows what changed since the last visit.",
    "Viewer": "Open studies from folders, CDs (DICOMDIR), zips and retrieves as thumbnails; "
              "slice viewer and tag browser.",
    "Incidents": "A local incident log with SLA clocks (Critical 15 min, High 1 h, Medium 4 "
                 "business h, Low 8 business h) and test evidence attached.",
    "Reports": "A PDF visit report, signed on screen by the customer and cryptographically by "
               "the engineer, offline.",
    "Sync": "Tickets, reports and log bundles go to the helpdesk when connectivity returns, "
            "none lost and none twice.",
}


class ComingPanel(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"panel-{title.lower()}")
        layout = QVBoxLayout(self)
        heading = QLabel(f"<h2>{title}</h2>")
        body = QLabel(PLANNED.get(title, ""))
        body.setWordWrap(True)
        state = QLabel("<i>Coming in a later release: this panel is not built yet.</i>")
        for label in (heading, body, state):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
        layout.addStretch(1)
