"""The Incidents panel's action row: new incident (blank or from a failed test run), CSV export
(on a worker: the query and the file write never block the window), audit check, and the site
and maintenance editors. Every read and write runs on a worker (ui/workers.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.widgets.file_export import export_file
from pacs_console.ui.widgets.incident_detail import actor_of, clock_offset_of
from pacs_console.ui.widgets.incident_log import IncidentLog
from pacs_console.ui.widgets.panel_parts import button, stack


def export_csv_file(ctx: Context, flt, actor: str, path: str) -> str:
    """Worker thread: the filtered list as CSV at ``path`` (the export is audited)."""
    from pacs_console.core.incidents.queries import export_incidents

    text = export_incidents(ctx.db, "csv", flt, actor=actor, destination=path)
    Path(path).write_text(text, encoding="utf-8", newline="")
    return path


def _nodes(ctx: Context) -> list:
    from pacs_console.core.db.nodes import list_nodes

    return list_nodes(ctx.db)


def _failed_run_draft(ctx: Context):
    """Worker thread: a draft from the latest failed test run (None when every run passed)."""
    from pacs_console.core.db.testruns import list_test_runs
    from pacs_console.core.incidents.evidence import draft_from_test_run

    failed = next((r for r in list_test_runs(ctx.db, limit=500) if r.outcome != "ok"), None)
    return None if failed is None else draft_from_test_run(ctx.db, failed.id)


def _create(ctx: Context, values: dict, actor: str, clock_offset_s: float):
    from pacs_console.core.incidents.service import create_incident

    return create_incident(ctx.db, actor=actor, clock_offset_s=clock_offset_s, **values)


class IncidentActions(QWidget):
    """Buttons beside the panel's heading; ``sites_changed`` after the site editor saved."""

    sites_changed = Signal()

    def __init__(self, ctx: Context, log: IncidentLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.log = ctx, log
        self.message = log.detail.message
        self.new_button = button("New…", self.new_incident, "New incident (Ctrl+N)")
        self.from_run_button = button("From failed test…", self.new_from_failed_run,
                                      "New incident pre-filled from the latest failed test run")
        self.export_button = button("Export CSV…", self.export_csv)
        self.verify_button = button("Verify audit", self.verify_audit,
                                    "Check the audit trail for edits made outside the app")
        self.sites_button = button("Sites…", self.edit_sites,
                                   "Add or edit sites and their business calendars")
        self.maintenance_button = button("Maintenance…", self.edit_maintenance,
                                         "Scheduled maintenance windows, excluded from uptime")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        stack(row, self.new_button, self.from_run_button, self.export_button,
              self.verify_button, self.sites_button, self.maintenance_button)

    # creating -------------------------------------------------------------------------------

    def new_incident(self, draft=None, *, exec_dialog: bool = True):
        """Open the dialog at once; its nodes arrive from a worker (tests pass
        exec_dialog=False and accept it themselves)."""
        from pacs_console.ui.widgets.incident_dialog import IncidentDialog

        dialog = IncidentDialog(self.log.sites, None, draft, self.window())
        dialog.accepted.connect(lambda: self.create_from(dialog.value()))
        workers.start(_nodes, self.ctx, on_result=dialog.set_nodes,
                      on_error=lambda exc: self.log.show_error(exc))
        if exec_dialog:
            dialog.open()
        return dialog

    def new_from_failed_run(self, *, exec_dialog: bool = True) -> workers.Worker:
        """Find the latest failed run and draft from it on a worker, then open the dialog."""
        self.from_run_button.setEnabled(False)
        self.message.setText("Looking for the latest failed test run…")
        return workers.start(_failed_run_draft, self.ctx,
                             on_result=lambda draft: self._drafted(draft, exec_dialog),
                             on_error=self.log.show_error,
                             on_finished=lambda: self.from_run_button.setEnabled(True))

    def _drafted(self, draft, exec_dialog: bool) -> None:
        if draft is None:
            self.message.setText("No failed test run to start from.")
            return
        self.message.setText("")
        self.new_incident(draft, exec_dialog=exec_dialog)

    def create_from(self, values: dict) -> workers.Worker:
        """Save the new incident on a worker; it is selected and said once saved."""
        self.message.setText("Saving the new incident…")
        return workers.start(_create, self.ctx, values, actor_of(self.ctx),
                             clock_offset_of(self.ctx), on_result=self._created,
                             on_error=self.log.show_error)

    def _created(self, record) -> None:
        self.log.detail.current = record
        self.message.setText(f"Incident #{record.id} created")
        self.log.refresh()

    # exporting and checking -----------------------------------------------------------------

    def export_csv(self, path: str | None = None) -> workers.Worker | None:
        """Ask where (unless given), then query and write on a worker."""
        return export_file(self, self.export_button, self.message, export_csv_file, self.ctx,
                           self.log.filters.value(), actor_of(self.ctx), path=path,
                           title="Export incidents", suggested="incidents.csv")

    def verify_audit(self) -> None:
        from pacs_console.core.incidents.audit import verify

        self.verify_button.setEnabled(False)
        self.message.setText("Verifying the audit trail…")
        workers.start(verify, self.ctx.db, on_result=self.show_audit,
                      on_error=self.log.show_error, on_finished=self._verified)

    def _verified(self) -> None:
        self.verify_button.setEnabled(True)

    def show_audit(self, report) -> None:
        if report.ok:
            self.message.setText(f"Audit trail intact: {report.entries} entries, "
                                 f"{report.checked_rows} records checked.")
        else:
            lines = [f"TAMPERING FOUND ({len(report.problems)} problem(s)):"]
            lines += [p.message for p in report.problems[:10]]
            self.message.setText("\n".join(lines))

    # sites and maintenance --------------------------------------------------------------------

    def edit_sites(self, *, exec_dialog: bool = True):
        """The site editor (tests pass exec_dialog=False and drive it themselves)."""
        from pacs_console.ui.widgets.site_dialog import SiteDialog

        dialog = SiteDialog(self.ctx, self.window())
        dialog.saved.connect(lambda _site: self.sites_changed.emit())
        if exec_dialog:
            dialog.open()
        return dialog

    def edit_maintenance(self, *, exec_dialog: bool = True):
        from pacs_console.ui.widgets.maintenance_dialog import MaintenanceDialog

        dialog = MaintenanceDialog(self.ctx, self.window())
        if exec_dialog:
            dialog.open()
        return dialog
