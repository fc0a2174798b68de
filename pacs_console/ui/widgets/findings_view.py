"""The Discovery panel's lower half: what the sweep found, and what to do with a row (add it to
the address book, probe its capabilities, compare the site's last two sweeps or its inventory
at the last visit, push the changes to the helpdesk for a chosen visit)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.models.findings import FindingsModel
from pacs_console.ui.widgets.columns import size_columns

HAS_CAPABILITY_PROBE = importlib.util.find_spec("pacs_console.core.dicom.ops.probe") is not None
COLUMN_SAMPLES = {"Host": "192.168.100.200", "Port": "11112", "Verdict": "DICOM, any AE (insecure)",
                  "AE title": "ORTHANC_ARCH", "Vendor": "Siemens", "Version": "1.12.4",
                  "Latency (ms)": "12.3"}


def _inventory(ctx: Context, site: str):
    from pacs_console.core.db.sweeps import site_inventory_diff

    return site_inventory_diff(ctx.db, site)


def _since_visit(ctx: Context, site: str):
    from pacs_console.core.db.sweeps import since_last_visit

    return since_last_visit(ctx.db, site)


def _visits(ctx: Context, site: str) -> tuple[str, list, int | None]:
    """(site, its visits newest first, the one a push links to by default)."""
    from pacs_console.core.db.sweeps import site_id_for
    from pacs_console.core.incidents.sites import list_visits
    from pacs_console.core.sync.inventory_push import visit_for

    if not site or site_id_for(ctx.db, site, create=False) is None:
        return site, [], None
    return site, list_visits(ctx.db, site=site), visit_for(ctx.db, site)


def _add_node(ctx: Context, finding, site: str | None):
    from pacs_console.core.discovery.session import add_to_address_book

    return add_to_address_book(ctx.db, finding, site=site)


AUTO = "auto"  # the visit picker's default: the site's open visit with a ticket, if any


def _push(ctx: Context, site: str, visit):
    """The sweep's changes to the helpdesk, recorded against ``visit`` (an id, None for no
    visit, AUTO for the site's open visit's ticket if any), then a sync: the outcome says in
    words whether it was delivered or only queued."""
    from pacs_console.core.sync.inventory_push import push_to_helpdesk, visit_for

    visit_id = visit_for(ctx.db, site) if visit == AUTO else visit
    return (yield from push_to_helpdesk(ctx, site, visit_id=visit_id))


def visit_label(visit) -> str:
    ended = f"to {visit.departed_at:%Y-%m-%d}" if visit.departed_at else "open"
    ticket = "" if visit.incident_ids else ", no incident"
    return (f"Visit {visit.id}: {visit.arrived_at:%Y-%m-%d %H:%M}, {ended} "
            f"({visit.engineer or 'no engineer'}{ticket})")


def describe(f) -> str:
    """A finding in a few lines for the details box."""
    lines = [f"{f.host}:{f.port}  {f.verdict}", f.detail]
    if f.ae_title:
        lines.append(f"AE title {f.ae_title} (from {f.ae_source}, {f.guesses} tried)")
    if f.implementation_class_uid:
        lines.append(f"Implementation {f.implementation_class_uid} "
                     f"{f.implementation_version_name}")
    if f.vendor:
        lines.append(f"Fingerprint: {f.vendor} / {f.product} {f.version} "
                     f"(confidence {f.confidence})")
    if f.dicomweb_url:
        lines.append(f"DICOMweb: {f.dicomweb_url}")
    return "\n".join(line for line in lines if line)


class FindingsView(QSplitter):
    """``site()`` names the site typed above; ``status(text)`` is for the panel's status line,
    ``node_added(node)`` after a row went into the address book."""

    status = Signal(str)
    node_added = Signal(object)

    def __init__(self, ctx: Context, site: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.ctx, self.site = ctx, site
        self.model = FindingsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().setVisible(False)
        size_columns(self.table, COLUMN_SAMPLES, ("Product", "Implementation"))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.add_button = QPushButton("Add to address book")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_selected)
        self.probe_button = QPushButton("Probe capabilities")
        self.probe_button.setEnabled(False)
        self.probe_button.setVisible(HAS_CAPABILITY_PROBE)
        self.probe_button.clicked.connect(self.probe_selected)
        self.inventory_button = QPushButton("Changes since last sweep")
        self.inventory_button.clicked.connect(self.show_inventory)
        self.push_button = QPushButton("Push to helpdesk")
        self.push_button.setToolTip("Send the changes since the last sweep to the helpdesk: "
                                    "the site nodes' assets, linked to the open visit's ticket")
        self.push_button.clicked.connect(self.push_inventory)
        self.since_visit_button = QPushButton("Changes since last visit")
        self.since_visit_button.clicked.connect(self.show_since_visit_of_site)
        self.visit = QComboBox()  # which visit a push is recorded against
        self.visit.setToolTip("The visit whose ticket the pushed changes are linked to and "
                              "commented on")
        self.visit.setMinimumContentsLength(24)
        self._visits_site: str | None = None
        self._fill_visits("", [], None)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Details of the selected row, and what changed at the "
                                        "site since its previous sweep.")
        actions = QHBoxLayout()
        for button in (self.add_button, self.probe_button, self.inventory_button,
                       self.since_visit_button, QLabel("Push for"), self.visit,
                       self.push_button):
            actions.addWidget(button)
        actions.addStretch(1)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(actions)
        lower_layout.addWidget(self.details)
        self.addWidget(self.table)
        self.addWidget(lower)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)

    def selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.model.finding(rows[0].row()) if rows else None

    def _selection_changed(self, *_args) -> None:
        finding = self.selected()
        dicom = finding is not None and finding.is_dicom
        self.add_button.setEnabled(dicom)
        self.probe_button.setEnabled(dicom)
        if finding is not None:
            self.details.setPlainText(describe(finding))

    def add_selected(self) -> None:
        finding = self.selected()
        if finding is None:
            return
        workers.start(_add_node, self.ctx, finding, self.site().strip() or None,
                      on_result=self._added, on_error=self.show_error)

    def _added(self, node) -> None:
        self.status.emit(f"Added {node.name} ({node.label}) to the address book")
        self.node_added.emit(node)

    def probe_selected(self) -> None:
        finding = self.selected()
        if finding is None:
            return
        from pacs_console.core.dicom.ops.probe import probe
        from pacs_console.core.dicom.wire.target import Target

        settings = self.ctx.settings
        target = Target(finding.host, finding.port, finding.ae_title or "ANY-SCP",
                        settings.ae_title, settings.timeouts())
        self.details.appendPlainText(f"Probing {target.label} ...")
        self.probe_button.setEnabled(False)
        workers.start(probe, target, on_result=self._probed, on_error=self.show_error,
                      on_finished=self._probe_finished)

    def _probe_finished(self) -> None:
        self.probe_button.setEnabled(self.selected() is not None)

    def _probed(self, matrix) -> None:
        self.details.appendPlainText(matrix.summary())
        if matrix.diagnosis is not None:
            self.details.appendPlainText(matrix.diagnosis.text())

    def _compare(self, read, shown, against: str) -> None:
        """Read a comparison of the site typed above on a worker; ``shown`` shows it."""
        site = self.site().strip()
        if not site:
            self.details.setPlainText(f"Choose a site to compare {against}.")
            return
        workers.start(read, self.ctx, site, on_result=shown, on_error=self.show_error)

    def show_inventory(self) -> None:
        self._compare(_inventory, self._show_diff, "its last two sweeps")

    def _show_diff(self, diff) -> None:
        if diff is None:
            self.details.setPlainText("This site has fewer than two sweeps: nothing to compare.")
            return
        when = diff.sweeps.get("before", {}).get("started_at", "")[:16].replace("T", " ")
        self.details.setPlainText(f"Since the sweep of {when} UTC:\n{diff.text()}")

    def show_since_visit_of_site(self) -> None:
        self._compare(_since_visit, self.show_since_visit, "with its last visit")

    def show_since_visit(self, found: tuple, append: bool = False) -> None:
        from pacs_console.core.db.sweeps import visit_heading

        changes, why = found
        text = f"{visit_heading(changes)}:\n{changes.text()}" if changes else why
        if append:
            self.details.appendPlainText(text)
        else:
            self.details.setPlainText(text)

    # -- the visit a push is recorded against --------------------------------------------------

    def load_visits(self) -> None:
        """The site's visits into the picker (read on a worker)."""
        workers.start(_visits, self.ctx, self.site().strip(),
                      on_result=lambda found: self._fill_visits(*found),
                      on_error=self.show_error)

    def _fill_visits(self, site: str, visits: list, default) -> None:
        chosen = self.visit.currentData() if site == self._visits_site else AUTO
        self._visits_site = site
        self.visit.clear()
        self.visit.addItem("The open visit (if it has an incident)", AUTO)
        self.visit.addItem("No visit: update the assets only", None)
        for visit in visits:
            self.visit.addItem(visit_label(visit), visit.id)
        index = self.visit.findData(chosen)
        self.visit.setCurrentIndex(index if index >= 0 else 0)
        if default is not None and chosen == AUTO:
            self.visit.setItemText(0, f"The open visit ({default})")

    def push_inventory(self) -> None:
        site = self.site().strip()
        if not site:
            self.status.emit("Choose the swept site to push its changes to the helpdesk.")
            return
        visit = self.visit.currentData()
        if site != self._visits_site:  # the picker lists another site's: its open visit
            visit = AUTO
            self.load_visits()
        self.push_button.setEnabled(False)
        self.status.emit(f"Pushing the changes at {site} to the helpdesk ...")
        workers.start(_push, self.ctx, site, visit,
                      on_progress=lambda p: self.status.emit(p.message),
                      on_result=self._pushed, on_error=self.show_error,
                      on_finished=lambda: self.push_button.setEnabled(True))

    def _pushed(self, outcome: dict) -> None:
        self.status.emit(outcome["message"])
        self.details.appendPlainText(outcome["message"])

    def show_error(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.status.emit(diagnosis.what if diagnosis else f"Unexpected error: {exc}")
        if diagnosis is not None:
            self.details.setPlainText(diagnosis.text())
