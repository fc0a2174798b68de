"""Per-node uptime for a chosen period against 99.9%, from echo history, maintenance excluded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.incidents.uptime import MIN_MONITORED, MIN_SAMPLES, duration_text
from pacs_console.ui import workers
from pacs_console.ui.widgets.incident_detail import diagnosis_text
from pacs_console.ui.widgets.panel_parts import datetime_edit, record_table

COLUMNS = ("Node", "Site", "Uptime", "99.9% target", "Monitored", "Downtime",
           "Maintenance", "Echo samples")
VERDICTS = {True: ("met", "#2e7d32"), False: ("missed", "#c62828"), None: ("—", "#546e7a")}
DEFAULT_DAYS = 7


def _percent(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def _sites(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_sites

    return list_sites(ctx.db)


def _figure(u) -> str:
    """The uptime figure, or why there is none (never a percentage from a thin history)."""
    if u.fraction is not None:
        return _percent(u.fraction, 3)
    noun = "sample" if u.samples == 1 else "samples"
    return f"not enough data ({u.samples} {noun} over {duration_text(u.up + u.down)})"


def _compute(ctx: Context, start: datetime, end: datetime, site: int | None) -> list:
    from pacs_console.core.incidents.uptime import uptime_report

    return uptime_report(ctx.db, start, end, site=site)


class UptimeView(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.loaded = False
        self.report: list = []
        now = QDateTime.currentDateTime()
        self.since = datetime_edit(now.addDays(-DEFAULT_DAYS))
        self.until = datetime_edit(now)
        self._auto_until = now  # "until" follows the clock until the engineer changes it
        self.site = QComboBox()
        self.site.addItem("All nodes", None)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.table = record_table(COLUMNS, stretch_last=False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.message = QLabel("Uptime counts the time between echo results (each holds up to "
                              "15 min); time without results is 'not monitored', and "
                              "maintenance windows are excluded.")
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        for widget in (QLabel("From"), self.since, QLabel("to"), self.until, self.site):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.compute_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self.loaded:
            self.loaded = True
            self.reload_sites()
            self.compute()

    def refresh(self) -> None:
        """Someone changed the data: new sites in the choice, the figures again (off the GUI
        thread; a computation still running is not started twice)."""
        workers.start(_sites, self.ctx, on_result=self._fill_sites, on_error=self.show_error)
        if abs(self.until.dateTime().secsTo(self._auto_until)) < 60:
            self._auto_until = QDateTime.currentDateTime()
            self.until.setDateTime(self._auto_until)
        if self.compute_button.isEnabled():
            self.compute()

    def reload_sites(self) -> None:
        workers.start(_sites, self.ctx, on_result=self._fill_sites, on_error=self.show_error)

    def _fill_sites(self, sites: list) -> None:
        chosen = self.site.currentData()
        self.site.blockSignals(True)
        while self.site.count() > 1:
            self.site.removeItem(1)
        for site in sites:
            self.site.addItem(f"Nodes at {site.name}", site.id)
        self.site.setCurrentIndex(max(0, self.site.findData(chosen)))
        self.site.blockSignals(False)

    def period(self) -> tuple[datetime, datetime]:
        def aware(edit: QDateTimeEdit) -> datetime:
            return datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), UTC)

        # The edits show minutes, and hold minutes once touched: "until 10:42" runs to the end
        # of that minute, or to now if that is sooner, so the echo just made is counted.
        # "From 03:25" starts at 03:25:00, whatever seconds the edit held from the clock.
        end = aware(self.until).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return aware(self.since).replace(second=0), min(end, datetime.now(UTC))

    def compute(self) -> None:
        start, end = self.period()
        self.compute_button.setEnabled(False)
        self.message.setText("Computing uptime…")
        workers.start(_compute, self.ctx, start, end, self.site.currentData(),
                      on_result=self.show_report, on_error=self.show_error,
                      on_finished=self._finished)

    def _finished(self) -> None:
        self.compute_button.setEnabled(True)

    def show_report(self, report: list) -> None:
        self.report = report
        self.table.setRowCount(len(report))
        for row, item in enumerate(report):
            u = item.uptime
            verdict, colour = VERDICTS[u.meets_target]
            cells = (item.name, item.site_name or "—", _figure(u), verdict,
                     _percent(u.monitored, 1), duration_text(u.down),
                     duration_text(u.maintenance), str(u.samples))
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(f"{item.label}: {u.summary()}")
                if column == 3:
                    cell.setForeground(QBrush(QColor(colour)))
                if column >= 2:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, cell)
        missed = sum(1 for item in report if item.uptime.meets_target is False)
        thin = sum(1 for item in report if item.uptime.fraction is None)
        start, end = self.period()
        self.message.setText(
            f"{len(report)} node(s), {start.astimezone():%Y-%m-%d %H:%M} → "
            f"{end.astimezone():%Y-%m-%d %H:%M}: {missed} below 99.9 %, {thin} without enough "
            f"data (a figure needs {MIN_SAMPLES}+ echo samples covering "
            f"{MIN_MONITORED * 100:g} %+ of the time outside maintenance; each result holds "
            "up to 15 min)."
            if report else "No nodes in the address book for this choice.")

    def show_error(self, exc: Exception) -> None:
        self.message.setText(diagnosis_text(exc))
