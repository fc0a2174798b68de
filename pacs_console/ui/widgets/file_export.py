"""An Export button's flow, the same for every export: ask where, write on a worker (the query
and the file write never block the window), say "Exporting to …" and then "Exported to …" or
what went wrong; the button waits meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QAbstractButton, QFileDialog, QLabel, QWidget

from pacs_console.ui import workers


def export_file(parent: QWidget, button: QAbstractButton, message: QLabel,
                write: Callable[..., Any], *args: Any, path: str | None = None,
                title: str = "Export", suggested: str = "export.csv",
                filters: str = "CSV (*.csv)") -> workers.Worker | None:
    """``write(*args, path)`` runs on a worker and writes the file; None if no file was chosen."""
    if not path:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    if not path:
        return None
    from pacs_console.ui.widgets.incident_detail import diagnosis_text

    button.setEnabled(False)
    message.setText(f"Exporting to {path}…")
    return workers.start(write, *args, path,
                         on_result=lambda _written: message.setText(f"Exported to {path}"),
                         on_error=lambda exc: message.setText(diagnosis_text(exc)),
                         on_finished=lambda: button.setEnabled(True))
