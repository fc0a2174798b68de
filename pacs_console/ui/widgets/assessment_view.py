"""Security assessment view (issue 19): site or targets, which checks, run; nodes × check
families with severity colours, each node's findings, one click to an incident, the signed
report. Thin: the work is core.assess's, run by ui.workers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.ui import workers
from pacs_console.ui.run_control import RunControl
from pacs_console.ui.widgets import panel_parts as parts

FAMILY_LABELS = {"dicom": "DICOM access", "transport": "Transport (TLS)", "web": "Web / REST",
                 "hl7": "HL7", "software": "Software age"}
COLOURS = {"critical": "#8b0000", "high": "#d0342c", "medium": "#e08a00", "low": "#c9b300",
           "info": "#5b6670"}


def _item(text: str, severity: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if severity:
        item.setBackground(QBrush(QColor(COLOURS[severity])))
        item.setForeground(QBrush(QColor("white")))
    return item


def _to_incident(ctx: Context, finding: dict, site: str | None, assessed_at) -> tuple:
    """Worker thread: the finding's incident (at its site when that site is known)."""
    from pacs_console.core.assess.incidents import to_incident
    from pacs_console.core.db.sweeps import site_id_for
    from pacs_console.core.settings import actor

    known = site if site and site_id_for(ctx.db, site, create=False) else None
    return to_incident(ctx.db, finding, site=known, actor=actor(ctx.settings),
                       assessed_at=assessed_at)


class AssessmentView(RunControl, QWidget):
    cancelling_text = "Cancelling ..."

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assessment-view")
        self.ctx = ctx
        self.saved = None  # core.assess.session.Saved of the last run
        self.shown: list[dict] = []  # the findings listed for the selected node
        self.scope = QLineEdit()
        self.scope.setPlaceholderText("a site's name, or targets: 192.168.1.0/24, 10.0.0.7")
        self.families = {name: QCheckBox(label) for name, label in FAMILY_LABELS.items()}
        for box in self.families.values():
            box.setChecked(True)
        self.store_test = QCheckBox("Test storage acceptance (stores ONE test image)")
        self.hl7_test = QCheckBox("Send ONE HL7 test message (test patient)")
        self.move_test = QCheckBox("Test C-MOVE routing with ONE existing study")
        self.move_test.setToolTip("Asks each archive to move one study to an AE title nobody "
                                  "configured. This console listens and refuses what comes "
                                  "to it; a node that sends it elsewhere is the finding.")
        self.start_button, _ = self.run_buttons("Start assessment", self.start,
                                                cancel_text="Cancel assessment")
        self.progress = QProgressBar()
        self.status = QLabel("No assessment yet: give a site or targets and press Start "
                             "assessment. Nothing is changed on the nodes unless you tick a test "
                             "above.")
        self.status.setWordWrap(True)
        self.nodes = QTableWidget(0, 2 + len(FAMILY_LABELS))
        self.nodes.setHorizontalHeaderLabels(["Node", "Score", *FAMILY_LABELS.values()])
        self.findings = QTableWidget(0, 4)
        self.findings.setHorizontalHeaderLabels(["Severity", "Service", "Check", "Evidence"])
        for table in (self.nodes, self.findings):
            table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setStretchLastSection(True)
        self.nodes.itemSelectionChanged.connect(self._node_chosen)
        self.findings.itemSelectionChanged.connect(self._finding_chosen)
        self.incident_button = QPushButton("Make incident")
        self.incident_button.setEnabled(False)
        self.incident_button.clicked.connect(self.make_incident)
        self.report_button = QPushButton("Save signed report")
        self.report_button.setEnabled(False)
        self.report_button.clicked.connect(self.save_report)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Evidence and what to fix for the selected finding; "
                                        "the comparison with the previous assessment.")
        self._build_layout()

    def _build_layout(self) -> None:
        form = parts.form_rows((("Site or targets", self.scope),
                                ("Checks", parts.row(*self.families.values(), 1)),
                                ("Opt-in tests", parts.row(self.store_test, self.hl7_test,
                                                           self.move_test, 1))))
        lower = parts.pane((self.findings, 2),
                           parts.row(self.incident_button, self.report_button, 1),
                           (self.details, 1))
        run = parts.row(self.start_button, self.cancel_button, (self.progress, 1))
        parts.column(self, form, run, self.status,
                     (parts.split(self.nodes, lower, vertical=True), 1))

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        from pacs_console.core.assess.model import AssessOptions
        from pacs_console.core.assess.session import Scope, assess_and_save

        text = self.scope.text().strip()
        families = tuple(n for n, box in self.families.items() if box.isChecked())
        if not text or not families:
            self.status.setText("Give a site or targets, and tick at least one family of checks.")
            return
        options = AssessOptions(families=families if len(families) < len(self.families) else (),
                                allow_store_test=self.store_test.isChecked(),
                                allow_hl7_test=self.hl7_test.isChecked(),
                                allow_move_test=self.move_test.isChecked(),
                                calling_ae=self.ctx.settings.ae_title,
                                move_listen_port=self.ctx.settings.scp_port)
        self.nodes.setRowCount(0)
        self.findings.setRowCount(0)
        self.details.clear()
        self.saved = None
        self.status.setText(f"Assessing {text} ...")
        self.launch(assess_and_save, self.ctx.db, self.ctx.settings, self.ctx.paths.data,
                    Scope(text, site=self.ctx.settings.default_site or ""), options,
                    on_progress=self._progress, on_result=self._done, on_error=self.show_error)

    def set_running(self, running: bool) -> None:
        super().set_running(running)
        self.report_button.setEnabled(not running and self.saved is not None)

    def cancelled_text(self) -> str:
        return "Cancelled: the assessment was not kept."

    def _progress(self, progress) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        phase = "Discovery: " if progress.phase == "discover" else ""
        self.status.setText(phase + progress.message)

    def _done(self, saved) -> None:
        from pacs_console.core.assess.session import summary

        self.saved = saved
        self._fill_nodes(saved.data)
        comparison = saved.comparison
        text = summary(saved.data)
        if comparison.get("previous"):
            text += (f". Since {comparison['previous'][:16]}: {len(comparison['fixed'])} fixed, "
                     f"{len(comparison['new'])} new, {len(comparison['still_open'])} still open")
        self.status.setText(text)
        self.report_button.setEnabled(True)

    def _fill_nodes(self, data: dict) -> None:
        from pacs_console.core.assess.catalog import CHECKS
        from pacs_console.core.assess.model import rank

        self.nodes.setRowCount(len(data["nodes"]))
        for row, node in enumerate(data["nodes"]):
            self.nodes.setItem(row, 0, _item(node["host"]))
            self.nodes.setItem(row, 1, _item(str(node["score"])))
            for col, family in enumerate(FAMILY_LABELS, start=2):
                found = [f for f in data["findings"] if f["host"] == node["host"]
                         and CHECKS[f["check"]].family == family]
                worst = max((f["severity"] for f in found), key=rank, default="")
                text = f"{worst} ({len(found)})" if found else "-"
                self.nodes.setItem(row, col, _item(text, worst))
        self.nodes.resizeColumnsToContents()
        if data["nodes"]:
            self.nodes.selectRow(0)

    def _node_chosen(self) -> None:
        from pacs_console.core.assess.model import rank

        rows = self.nodes.selectionModel().selectedRows()
        if self.saved is None or not rows:
            return
        host = self.saved.data["nodes"][rows[0].row()]["host"]
        self.shown = sorted((f for f in self.saved.data["findings"] if f["host"] == host),
                            key=lambda f: -rank(f["severity"]))
        self.findings.setRowCount(len(self.shown))
        for row, f in enumerate(self.shown):
            self.findings.setItem(row, 0, _item(f["severity"], f["severity"]))
            self.findings.setItem(row, 1, _item(f"{f['host']}:{f['port']}"))
            self.findings.setItem(row, 2, _item(f["title"] or f["check"]))
            self.findings.setItem(row, 3, _item(f["evidence"]))
        self.incident_button.setEnabled(False)

    def _selected_finding(self) -> dict | None:
        rows = self.findings.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows and self.shown else None

    def _finding_chosen(self) -> None:
        finding = self._selected_finding()
        if finding is None:
            return
        self.details.setPlainText(f"{finding['title']} ({finding['check']}, "
                                  f"{finding['severity']}) on {finding['host']}:"
                                  f"{finding['port']}\n\nEvidence: {finding['evidence']}\n\n"
                                  f"What to fix: {finding['remedy']}")
        self.incident_button.setEnabled(finding["severity"] != "info")

    # --- what the assessment leaves -----------------------------------------------------------

    def make_incident(self) -> None:
        """Open (or find) the finding's incident on a worker; said once saved."""
        finding = self._selected_finding()
        if finding is None or self.saved is None:
            return
        workers.start(_to_incident, self.ctx, finding, self.saved.site,
                      self.saved.data["started_at"], on_result=self._incident_made,
                      on_error=self.show_error)

    def _incident_made(self, made: tuple) -> None:
        record, created = made
        self.status.setText(f"Incident #{record.id} {'opened' if created else 'already open'}: "
                            f"{record.title}")

    def save_report(self) -> None:
        from pacs_console.ui.widgets.signing_secret import certificate_state

        if self.saved is None:
            return
        profile = self.ctx.settings.profile
        self.report_button.setEnabled(False)
        # The certificate and keyring are read on a worker; the dialogs then ask here.
        workers.start(certificate_state, self.ctx, profile,
                      on_result=lambda state: self._sign_report(profile, state),
                      on_error=self._report_failed)

    def _sign_report(self, profile, state) -> None:
        from pacs_console.core.assess.report import save_in_reports, sign_with_profile
        from pacs_console.ui.widgets.signing_secret import signing_secret

        # The profile, a first certificate, the passphrase: asked here, before the work starts.
        ask = signing_secret(self, profile, state, self.status.setText)
        if ask is False or self.saved is None:
            self.report_button.setEnabled(True)
            return
        data, comparison = self.saved.data, self.saved.comparison
        data_dir, secrets = self.ctx.paths.data, self.ctx.secrets

        def build():
            pdf = sign_with_profile(data_dir, secrets, data, comparison,
                                    engineer=profile.name, organisation=profile.organisation,
                                    ask=ask)
            return save_in_reports(data_dir, pdf, data)

        self.status.setText("Signing the security assessment report ...")
        workers.start(build, on_result=lambda path: self.status.setText(
                          f"Signed report saved: {path}"),
                      on_error=self.show_error,
                      on_finished=lambda: self.report_button.setEnabled(True))

    def _report_failed(self, exc: Exception) -> None:
        self.report_button.setEnabled(True)
        self.show_error(exc)

    def show_error(self, exc: Exception) -> None:
        if isinstance(exc, ConsoleError):
            self.status.setText(exc.diagnosis.what)
            self.details.setPlainText(exc.diagnosis.text())
        else:
            self.status.setText(f"Failed: {type(exc).__name__}: {exc}")
