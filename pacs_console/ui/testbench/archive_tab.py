"""Archive tab: spot-check an archive's integrity and compare a primary with its DR copy.

Both run their core generator (core.health.archive / core.health.dr) on a worker with progress
and cancel; each finished run is kept as evidence (History, incidents, the visit report)."""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.health_tab import COLOURS
from pacs_console.ui.testbench.run_parts import PickerTab
from pacs_console.ui.testbench.run_tab import SectionsTab, output_box
from pacs_console.ui.widgets.panel_parts import column, record_table, resizable, row

DATE_FORMAT = "yyyy-MM-dd"


def _date_edit(name: str, value: QDate) -> QDateEdit:
    edit = QDateEdit(value)
    edit.setObjectName(name)
    edit.setDisplayFormat(DATE_FORMAT)
    edit.setCalendarPopup(True)
    edit.setDateRange(QDate(1970, 1, 1), QDate(2100, 12, 31))
    return edit


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = record_table(headers)
    table.setObjectName(name)
    return table


def _cell(text: str, result: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if result in COLOURS:
        item.setBackground(QBrush(QColor(COLOURS[result])))
    return item


def _spin(box, name: str, bounds: tuple, value, suffix: str, tip: str):
    """A spin box named for tests, with its range, starting value, unit and tooltip."""
    box.setObjectName(name)
    box.setRange(*bounds)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    return box


def _spot_check(ctx: Context, node: str, sample: int, since: str | None, retrieve: str,
                interval: float, parallel: int):
    from pacs_console.core.health.archive import run_spot_check

    return (yield from run_spot_check(ctx.db, ctx.receiving_settings(), ctx.paths.data, node, sample,
                                      since=since, retrieve=retrieve, interval=interval,
                                      parallel=parallel))


def _dr_compare(ctx: Context, primary: str, dr: str, date_from: str, date_to: str):
    from pacs_console.core.health.dr import run_dr_compare

    return (yield from run_dr_compare(ctx.db, ctx.settings, primary, dr, date_from, date_to))


class SpotCheckSection(PickerTab):
    busy_text = "Listing the archive's studies…"

    def __init__(self, ctx: Context, panel) -> None:
        super().__init__(ctx, panel, "archive-check", "Run spot-check")
        self.node = self.node_box("archive-check-node", 180)
        self.sample = QSpinBox()
        self.sample.setObjectName("archive-check-sample")
        self.sample.setRange(1, 1000)
        self.sample.setValue(20)
        self.sample.setSuffix(" studies")
        self.use_since = QCheckBox("Only since")
        self.use_since.setObjectName("archive-check-use-since")
        self.since = _date_edit("archive-check-since", QDate.currentDate().addYears(-1))
        self.since.setEnabled(False)
        self.use_since.toggled.connect(self.since.setEnabled)
        self.retrieve = QComboBox()  # C-MOVE: received on this console's port (SCP stopped)
        self.retrieve.setObjectName("archive-check-retrieve")
        self.retrieve.addItems(["C-GET", "C-MOVE"])
        self.retrieve.setToolTip("C-GET needs nothing set up on the archive. C-MOVE sends the "
                                 "study to this console's AE title and receiving port (the "
                                 "archive must know it; stop the Storage SCP first).")
        # Politeness, the engineer's to set: studies start this far apart, this many at once.
        self.interval = _spin(QDoubleSpinBox(), "archive-check-interval", (0.0, 60.0), 0.2,
                              " s apart", "Seconds between the starts of two studies' checks: "
                              "a bound on the load put on a production archive.")
        self.interval.setDecimals(1)
        self.interval.setSingleStep(0.1)
        self.parallel = _spin(QSpinBox(), "archive-check-parallel", (1, 8), 2, " at once",
                              "Studies checked at the same time.")
        self.table = _table("archive-check-results",
                            ["Result", "Year", "Modality", "Study Instance UID", "Findings"])
        self.table.itemSelectionChanged.connect(lambda: self.show_study())
        self.details = output_box("archive-check-details", "Click a study to see every "
                                  "instance found missing, corrupt or changed.")
        self.status.setText("A random sample of studies, spread over years and modalities: "
                            "the counts agree, every instance arrives (C-GET), decodes and "
                            "matches its checksum from the last check.")
        self.outcome = None
        column(self, row("Archive", self.node, "Sample", self.sample, self.use_since, self.since,
                         "over", self.retrieve, self.interval, self.parallel, self.run_button,
                         self.cancel_button, 1),
               self.progress, self.status, (resizable(self.table, self.details, stretch=(3, 1)), 1))

    def refresh_nodes(self) -> None:
        self.fill_combo(self.node)

    def start(self) -> None:
        node = self.node.currentText()
        if self.worker is not None:
            return
        if not node:
            self.status.setText("Add the archive to the address book first (Add… above).")
            return
        self.table.setRowCount(0)
        self.details.clear()
        since = self.since.date().toString("yyyyMMdd") if self.use_since.isChecked() else None
        self.launch(_spot_check, self.ctx, node, self.sample.value(), since,
                    self.retrieve.currentText()[2:].lower(), self.interval.value(),
                    self.parallel.value())

    def show_outcome(self, outcome) -> None:
        from pacs_console.core.health.archive import study_line

        self.outcome = outcome
        order = {"fail": 0, "warn": 1, "pass": 2}
        studies = sorted(outcome.sampled, key=lambda s: order[s.result])
        self.table.setRowCount(len(studies))
        for line, s in enumerate(studies):
            for col, text in enumerate((s.result.upper(), s.year or "????", s.modality or "?",
                                        s.study_uid, study_line(s))):
                item = _cell(text, s.result)
                item.setData(Qt.ItemDataRole.UserRole, s)
                self.table.setItem(line, col, item)
        counts = outcome.counts()
        text = (f"{outcome.node}: {outcome.result.upper()} — {len(outcome.sampled)} of "
                f"{outcome.population} studies checked: {counts.get('pass', 0)} pass, "
                f"{counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail (studies "
                f"{outcome.interval:g} s apart, {outcome.parallel} at once).")
        lost = [f"{counts[f'instances_{k}']} {k}" for k in ("missing", "corrupt", "changed",
                                                            "unreadable")
                if counts.get(f"instances_{k}")]
        self.status.setText(text + (" Instances: " + ", ".join(lost) + "." if lost else "")
                            + " Saved in History.")

    def show_study(self) -> None:
        items = self.table.selectedItems()
        study = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        if study is None:
            return
        lines = [f"Study {study.study_uid}: {study.result.upper()}",
                 f"Listed at image level {study.listed}, received {study.received}"
                 + (f", the study level says {study.expected}" if study.expected is not None
                    else "")]
        labels = {"missing": "Missing (listed, never arrived)",
                  "corrupt": "Corrupt (no decodable pixel data)",
                  "changed": "Changed (pixel checksum differs from the last check)",
                  "unreadable": "Unreadable (not DICOM)"}
        for key, label in labels.items():
            if getattr(study, key):
                lines += ["", f"{label}:"] + [f"  {uid}" for uid in getattr(study, key)]
        if study.short:
            lines += ["", f"{study.short} instance(s) the study level counts never arrived (no "
                          "listing named them)."]
        lines += [""] + study.problems if study.problems else []
        if study.new:
            lines += ["", f"{study.new} checksum(s) recorded for the next check."]
        self.details.setPlainText("\n".join(lines))


class DrCompareSection(PickerTab):
    busy_text = "Listing the primary's studies…"

    def __init__(self, ctx: Context, panel) -> None:
        super().__init__(ctx, panel, "dr-compare", "Compare")
        self.primary = self.node_box("dr-primary", 160)
        self.dr = self.node_box("dr-copy", 160)
        today = QDate.currentDate()
        self.date_from = _date_edit("dr-from", today.addYears(-1))
        self.date_to = _date_edit("dr-to", today)
        self.table = _table("dr-findings", ["Finding", "Study Instance UID", "Primary", "DR"])
        self.status.setText("One study-level C-FIND on each archive for the dates: studies on "
                            "one side only, series and instance counts that differ, and how "
                            "far the DR copy is behind.")
        column(self, row("Primary", self.primary, "DR copy", self.dr, "From", self.date_from,
                         "To", self.date_to, self.run_button, self.cancel_button, 1),
               self.progress, self.status, (self.table, 1))

    def refresh_nodes(self) -> None:
        self.fill_combo(self.primary)
        self.fill_combo(self.dr, preferred=1)

    def start(self) -> None:
        primary, dr = self.primary.currentText(), self.dr.currentText()
        if self.worker is not None:
            return
        if not primary or not dr or primary == dr:
            self.status.setText("Choose two different archives: the primary and its DR copy.")
            return
        if self.date_from.date() > self.date_to.date():
            self.status.setText("'From' is after 'To': pick the dates again.")
            return
        self.table.setRowCount(0)
        self.launch(_dr_compare, self.ctx, primary, dr, self.date_from.date().toString("yyyyMMdd"),
                    self.date_to.date().toString("yyyyMMdd"))

    def show_outcome(self, report: dict) -> None:
        from pacs_console.core.health.dr import finding_rows

        rows = finding_rows(report)
        self.table.setRowCount(len(rows))
        for line, values in enumerate(rows):
            result = "warn" if values[0] == "Only on DR" else "fail"
            for col, text in enumerate(values):
                self.table.setItem(line, col, _cell(text, result))
        text = (f"{report['result'].upper()} — primary {report['primary_studies']} studies, "
                f"DR copy {report['dr_studies']}: {len(report['only_on_primary'])} missing on "
                f"the DR copy, {len(report['only_on_dr'])} only on the DR copy, "
                f"{len(report['count_mismatches'])} count mismatches.")
        if report["replication_gap_hours"] is not None:
            text += (f" Replication gap: {report['replication_gap_studies']} studies, "
                     f"{report['replication_gap_hours']} h behind the primary.")
        elif report["result"] == "pass":
            text += " The DR copy holds every study of the primary."
        self.status.setText(text + " Saved in History.")


class ArchiveTab(SectionsTab):
    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sections.setObjectName("archive-sections")
        self.check = self.add_section(SpotCheckSection(ctx, panel), "Integrity spot-check")
        self.compare = self.add_section(DrCompareSection(ctx, panel), "DR comparison")
