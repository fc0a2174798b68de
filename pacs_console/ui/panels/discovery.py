"""Discovery panel: pick an interface and targets, sweep, watch results stream, keep the nodes.

The panel holds the sweep form and its run; what was found, and the actions on a row, are the
FindingsView (widgets/findings_view.py)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.errors import ConsoleError
from pacs_console.ui import workers
from pacs_console.ui.run_control import RunControl
from pacs_console.ui.widgets.assessment_view import AssessmentView
from pacs_console.ui.widgets.findings_view import FindingsView
from pacs_console.ui.widgets.panel_parts import column, form_rows, pane, panel_heading, row


def _sites(ctx: Context) -> list[str]:
    from pacs_console.core.incidents.sites import list_sites

    return [s.name for s in list_sites(ctx.db)]


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"ETA {seconds:.0f} s" if seconds < 90 else f"ETA {seconds / 60:.0f} min"


class DiscoveryPanel(RunControl, QWidget):
    cancelling_text = "Cancelling ..."

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-discovery")
        self.ctx = ctx
        self.interface = QComboBox()
        self.interface.currentIndexChanged.connect(self._interface_chosen)
        self.targets = QLineEdit()
        self.targets.setPlaceholderText("192.168.1.0/24, 10.0.0.5-40, 10.0.0.7")
        from pacs_console.core.discovery.targets import DICOM_PORTS, WEB_PORTS

        self.ports = QLineEdit(",".join(map(str, DICOM_PORTS)))
        self.web_ports = QLineEdit(",".join(map(str, WEB_PORTS)))
        self.site = QComboBox()
        self.site.setEditable(True)
        self.site.setEditText(ctx.settings.default_site)
        self.site.lineEdit().setPlaceholderText("site name (the sweep is saved to its inventory)")
        self.guess_ae = QCheckBox("Guess AE titles (politely, one at a time)")
        self.guess_ae.setChecked(True)
        self.dns_sd = QCheckBox("Listen for DNS-SD announcements")
        self.dns_sd.setChecked(True)
        self.start_button, _ = self.run_buttons("Start sweep", self.start_sweep)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.status = QLabel("Pick targets and start a sweep. No sweep yet: check the targets "
                             "(your network is filled in) and press Start sweep; what answers "
                             "is listed below.")
        self.status.setWordWrap(True)
        self.findings = FindingsView(ctx, self.site.currentText)
        self.findings.status.connect(self.status.setText)
        self.findings.node_added.connect(self._added)
        f = self.findings  # the parts a person (and a test) reaches, under their old names
        self.model, self.table, self.details = f.model, f.table, f.details
        self.add_button, self.probe_button = f.add_button, f.probe_button
        self.inventory_button, self.show_inventory = f.inventory_button, f.show_inventory
        self._visits_later = QTimer(self)  # the push's visit picker follows the site typed
        self._visits_later.setSingleShot(True)
        self._visits_later.setInterval(400)
        self._visits_later.timeout.connect(self.findings.load_visits)
        self.site.currentTextChanged.connect(lambda _text: self._visits_later.start())
        self._build_layout()
        self.load_interfaces()

    def _build_layout(self) -> None:
        form = form_rows((
            ("Interface", self.interface), ("Targets", self.targets),
            ("DICOM ports", row((self.ports, 2), QLabel("HTTP ports"), (self.web_ports, 1))),
            ("Site", self.site), ("", row(self.guess_ae, self.dns_sd, 1))))
        sweep_page = pane(form, row(self.start_button, self.cancel_button, (self.progress, 1)),
                          self.status, (self.findings, 1))
        self.tabs = QTabWidget()
        self.tabs.addTab(sweep_page, "Sweep")
        self.tabs.addTab(AssessmentView(self.ctx), "Security assessment")  # issue 19
        column(self, panel_heading(
            "Discovery", "Sweep a network for DICOM and web devices, add what you find to the "
            "address book, and see what changed at a site since its last sweep."), (self.tabs, 1))

    # --- inputs -----------------------------------------------------------------------------

    def load_interfaces(self) -> None:
        """psutil answers in milliseconds: no worker needed."""
        from pacs_console.core.sysinfo import interfaces

        self.interface.blockSignals(True)
        self.interface.clear()
        for item in interfaces():
            if item.addresses:
                self.interface.addItem(item.label(), item)
        self.interface.blockSignals(False)
        if self.interface.count():
            self._interface_chosen(0)

    def _interface_chosen(self, index: int) -> None:
        from pacs_console.core.sysinfo import suggested_targets

        item = self.interface.itemData(index)
        if item is not None:
            self.targets.setText(", ".join(suggested_targets(item)))

    def refresh(self) -> None:
        """Fill the site list (off the GUI thread: the first call opens the database)."""
        self._sites_loaded = True
        workers.start(_sites, self.ctx, on_result=self._set_sites, on_error=self.show_error)
        self.findings.load_visits()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        # Sites load when the panel is first shown, not at start-up: the window comes first.
        if not getattr(self, "_sites_loaded", False):
            self.refresh()
        super().showEvent(event)

    def _set_sites(self, names: list[str]) -> None:
        if names == [self.site.itemText(i) for i in range(self.site.count())]:
            return  # unchanged: leave what is being typed alone
        current = self.site.currentText()
        self.site.clear()
        self.site.addItems(names)
        self.site.setEditText(current)

    def confirm_public(self, text: str) -> bool:
        answer = QMessageBox.warning(
            self, "Public addresses",
            f"{text}\n\nSweep addresses outside private ranges only on a network you are "
            "responsible for. Sweep anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _plan(self):
        from pacs_console.core.discovery.models import SweepOptions
        from pacs_console.core.discovery.targets import parse_ports, parse_targets

        try:
            targets = parse_targets(self.targets.text())
        except ConsoleError as exc:
            if exc.diagnosis.code != "targets-public" or not self.confirm_public(exc.diagnosis.what):
                raise
            targets = parse_targets(self.targets.text(), allow_public=True)
        web = self.web_ports.text().strip()
        interface = self.interface.currentData()
        listen = tuple(a.address for a in interface.addresses) if interface is not None else ()
        options = SweepOptions.from_settings(
            self.ctx.settings, ports=parse_ports(self.ports.text()),
            web_ports=parse_ports(web) if web else (), guess_ae=self.guess_ae.isChecked(),
            dns_sd=self.dns_sd.isChecked(), dns_sd_interfaces=listen)
        return targets, options

    # --- the sweep --------------------------------------------------------------------------

    def start_sweep(self) -> None:
        from pacs_console.core.discovery.session import sweep_and_save

        try:
            targets, options = self._plan()
        except ConsoleError as exc:
            self.status.setText(exc.diagnosis.what)
            self.details.setPlainText(exc.diagnosis.text())
            return
        self.model.clear()
        self.details.clear()
        site = self.site.currentText().strip() or None
        self.status.setText(f"Sweeping {len(targets):,} hosts at up to {options.rate:g} "
                            "attempts per second ...")
        self.launch(sweep_and_save, self.ctx.db, targets, options, site=site,
                    engineer=self.ctx.settings.profile.name, on_progress=self.on_progress,
                    on_result=self.on_result, on_error=self.show_error)

    def cancelled_text(self) -> str:
        return (f"Cancelled: {self.model.rowCount()} open ports found before the cancel; the "
                "sweep was not saved.")

    def on_progress(self, progress) -> None:
        self.model.append(getattr(progress, "findings", ()))
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        eta = _eta(getattr(progress, "eta_s", None))
        self.status.setText(progress.message + (f" - {eta}" if eta else ""))
        for item in getattr(progress, "announcements", ()):
            self.details.appendPlainText(
                f"DNS-SD {item.service_type} {item.instance!r} at {item.host}:{item.port}"
                + (f" AET={item.ae_title}" if item.ae_title else ""))

    def on_result(self, saved) -> None:
        result = saved.result
        dicom = [f for f in result.findings if f.is_dicom]
        insecure = sum(f.insecure for f in dicom)
        self.status.setText(
            f"Done in {result.duration_s:.1f} s: {len(result.findings)} open ports, "
            f"{len(dicom)} DICOM nodes ({insecure} accept any AE title)"
            + (f"; saved to {saved.site}" if saved.site and saved.sweep_id else ""))
        if saved.diff is not None:
            self.details.appendPlainText("Since the previous sweep of this site:\n"
                                         + saved.diff.text())
        if saved.site:
            self.findings.show_since_visit((saved.since_visit, saved.since_visit_why),
                                           append=True)
            self.findings.load_visits()

    # --- after a row was added ---------------------------------------------------------------

    def _added(self, _node) -> None:
        window = self.window()
        tests = getattr(window, "panels", {}).get("Tests")
        if tests is not None and hasattr(tests, "refresh"):
            tests.refresh()

    def show_error(self, exc: Exception) -> None:
        self.findings.show_error(exc)  # the diagnosis in the status line, its text in details
