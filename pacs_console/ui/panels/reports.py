"""Reports panel: pick a visit, fill the free text, capture signatures, preview, sign, verify."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.core.reports import store as report_store
from pacs_console.core.reports.model import Extras, PartUsed, TimeEntry
from pacs_console.ui import workers
from pacs_console.ui.models.rows_model import RowsModel
from pacs_console.ui.widgets.page_preview import PagePreview
from pacs_console.ui.widgets.panel_parts import column, empty_state, pane, panel_heading, split
from pacs_console.ui.widgets.signature_pad import SignatureCapture
from pacs_console.ui.widgets.signing_secret import certificate_state, signing_secret

SAMPLE = -1  # the combo's "sample visit" entry


def _lines(edit: QPlainTextEdit) -> tuple[str, ...]:
    return tuple(line.strip() for line in edit.toPlainText().splitlines() if line.strip())


def _load_visits(ctx: Context) -> list:
    from pacs_console.core.incidents.sites import list_visits

    return list_visits(ctx.db)


def _prepare(ctx: Context, visit_id, extras: Extras, profile, sign: bool):
    """On a worker: keep the visit's draft, then (signing a real visit) what the certificate
    and keyring say signing must ask; None when nothing is to be asked."""
    if visit_id == SAMPLE:
        return None
    report_store.save_extras(ctx.paths.data, visit_id, extras)
    return certificate_state(ctx, profile) if sign else None


def _list_with_state(data_dir: Path, company_ca: str = "") -> list[dict]:
    from pacs_console.core.reports.verify import verify_on_this_laptop

    rows = []
    for record in report_store.list_reports(data_dir):
        result = verify_on_this_laptop(Path(record.path), data_dir, company_ca=company_ca)
        rows.append({"created": record.created[:16].replace("T", " "), "site": record.site,
                     "visit": record.visit_id, "pages": record.pages, "state": result.state,
                     "timestamp": "yes" if record.timestamped else
                     ("pending" if record.signed else "—"), "path": record.path})
    return rows


def _render_preview(pdf: Path, folder: Path) -> list[Path]:
    from pacs_console.core.reports.preview import render_pages

    # Print-like resolution: the preview scales it to fit the width (readable), or zooms.
    return render_pages(pdf, folder, dpi=110)


class ReportsPanel(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel-reports")
        self.ctx = ctx
        self.loaded = False
        self.worker: workers.Worker | None = None
        self.last_pdf: Path | None = None
        self._temp = tempfile.TemporaryDirectory(prefix="pacs-report-preview-")
        self.preview_dir = Path(self._temp.name)
        self.visit = QComboBox()
        self.visit.currentIndexChanged.connect(self._visit_changed)
        self.summary = QPlainTextEdit()
        self.recommendations = QPlainTextEdit()
        self.follow_ups = QPlainTextEdit()
        self.time_spent = QPlainTextEdit()
        self.parts = QPlainTextEdit()
        self.feedback = QPlainTextEdit()
        self.rating = QSpinBox()
        self.rating.setRange(0, 5)
        self.rating.setSpecialValueText("not asked")
        self.customer = SignatureCapture("Customer's representative")
        self.engineer = SignatureCapture("Engineer")
        self.preview_button = QPushButton("Preview")
        self.sign_button = QPushButton("Generate and sign")
        self.folder_button = QPushButton("Open folder")
        self.verify_button = QPushButton("Verify a PDF…")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview = PagePreview()
        self.pages = self.preview.pages
        self.model = RowsModel(("created", "site", "visit", "pages", "state", "timestamp",
                                "path"), self)
        self.model.set_columns(self.model.columns, ("Created", "Site", "Visit", "Pages",
                                                    "Signature", "Timestamp", "File"))
        self.table = QTableView()
        self.table.setObjectName("reports-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.doubleClicked.connect(self._open_selected)
        self.preview_button.clicked.connect(lambda: self.generate(sign=False))
        self.sign_button.clicked.connect(lambda: self.generate(sign=True))
        self.folder_button.clicked.connect(self.open_folder)
        self.verify_button.clicked.connect(self.verify_dialog)
        self._layout()

    def _layout(self) -> None:
        text = QWidget()
        form = QFormLayout(text)
        form.addRow("Executive summary", self.summary)
        form.addRow("Recommendations\n(one a line)", self.recommendations)
        form.addRow("Follow-ups\n(one a line)", self.follow_ups)
        form.addRow("Time spent\n(activity = minutes)", self.time_spent)
        form.addRow("Parts used\n(part; qty; serial; note)", self.parts)
        form.addRow("Customer feedback", self.feedback)
        form.addRow("Rating (1-5)", self.rating)
        signatures = QWidget()
        sig_layout = QVBoxLayout(signatures)
        sig_layout.addWidget(self.customer)
        sig_layout.addWidget(self.engineer)
        sig_layout.addStretch(1)
        text_scroll = QScrollArea()  # the form scrolls rather than squeezing on a laptop
        text_scroll.setWidgetResizable(True)
        text_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        text_scroll.setWidget(text)
        tabs = self.forms = QTabWidget()  # disabled while a visit's draft is read
        tabs.addTab(text_scroll, "Content")
        signatures_scroll = QScrollArea()
        signatures_scroll.setWidgetResizable(True)
        signatures_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        signatures_scroll.setWidget(signatures)
        tabs.addTab(signatures_scroll, "Signatures")
        top = QHBoxLayout()
        top.addWidget(QLabel("Visit"))
        top.addWidget(self.visit, 1)
        for button in (self.preview_button, self.sign_button, self.folder_button,
                       self.verify_button):
            top.addWidget(button)
        self.preview_empty = empty_state(
            "Pick a visit and press Preview to see its report here; Generate and sign makes the "
            "PDF you hand over. No visit yet? Start one in Incidents → Visits, or preview the "
            "sample visit.")
        content = split(tabs, pane(self.preview_empty, (self.preview, 1)), sizes=(520, 420))
        column(self, panel_heading(
            "Reports", "Turn a site visit into a signed PDF report: summary, incidents, tests, "
            "parts and both signatures."), top, self.status,
            (split(content, self.table, vertical=True, sizes=(520, 160)), 1))

    # -- loading ---------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self.loaded:
            self.loaded = True
            self.refresh()

    def refresh(self) -> None:
        workers.start(_load_visits, self.ctx, on_result=self._visits_loaded,
                      on_error=self.show_error)
        self.refresh_reports()

    def refresh_reports(self) -> None:
        workers.start(_list_with_state, self.ctx.paths.data,
                      self.ctx.settings.extra.get("company_ca_file") or "", on_result=self._reports_loaded,
                      on_error=self.show_error)

    def _visits_loaded(self, visits: list) -> None:
        current = self.visit.currentData()
        if visits == getattr(self, "_visits", None):
            return  # unchanged: the text being typed for this visit stays as it is
        self._visits = visits
        self.visit.blockSignals(True)
        self.visit.clear()
        for v in visits:
            end = f"{v.departed_at:%H:%M}" if v.departed_at else "on site"
            self.visit.addItem(f"{v.id}: {v.site_name} — {v.arrived_at:%Y-%m-%d %H:%M} – {end}"
                               f" ({v.engineer})", v.id)
        self.visit.addItem("Sample visit (template preview and training)", SAMPLE)
        index = self.visit.findData(current)
        self.visit.setCurrentIndex(max(index, 0))
        self.visit.blockSignals(False)
        if self.visit.currentData() != current:
            self._visit_changed()

    def _reports_loaded(self, rows: list[dict]) -> None:
        if sorted(map(repr, rows)) == sorted(map(repr, self.model.rows)):
            return  # unchanged: keep the selection and the order chosen
        self.model.clear()
        self.model.append_rows(rows)

    def _visit_changed(self, *_: object) -> None:
        visit_id = self.visit.currentData()
        if visit_id is None or visit_id == SAMPLE:
            return
        self.forms.setEnabled(False)  # nothing typed now is overwritten by the draft read
        workers.start(report_store.load_extras, self.ctx.paths.data, visit_id,
                      on_result=lambda extras: self._extras_loaded(visit_id, extras),
                      on_error=self._extras_failed)

    def _extras_loaded(self, visit_id, extras: Extras) -> None:
        if self.visit.currentData() == visit_id:
            self.set_extras(extras)
            self.forms.setEnabled(True)

    def _extras_failed(self, exc: Exception) -> None:
        self.forms.setEnabled(True)
        self.show_error(exc)

    # -- the free text ---------------------------------------------------------------------
    def extras(self) -> Extras:
        times = [t for t in map(TimeEntry.from_line, _lines(self.time_spent)) if t is not None]
        parts = [PartUsed.from_line(line) for line in _lines(self.parts)]
        return Extras(self.summary.toPlainText().strip(), _lines(self.recommendations),
                      _lines(self.follow_ups), tuple(times), tuple(parts),
                      self.feedback.toPlainText().strip(), self.rating.value() or None,
                      customer=self.customer.value(), engineer=self.engineer.value())

    def set_extras(self, extras: Extras) -> None:
        self.summary.setPlainText(extras.summary)
        self.recommendations.setPlainText("\n".join(extras.recommendations))
        self.follow_ups.setPlainText("\n".join(extras.follow_ups))
        self.time_spent.setPlainText("\n".join(t.line for t in extras.time_spent))
        self.parts.setPlainText("\n".join(p.line for p in extras.parts))
        self.feedback.setPlainText(extras.feedback)
        self.rating.setValue(extras.feedback_rating or 0)
        self.customer.set_value(extras.customer)
        engineer = extras.engineer
        if not engineer.name:
            engineer = replace(engineer, name=self.ctx.settings.profile.name,
                               role="Field engineer")
        self.engineer.set_value(engineer)

    # -- generating ------------------------------------------------------------------------
    def _source(self, visit_id, extras: Extras):
        settings, db, data = self.ctx.settings, self.ctx.db, self.ctx.paths.data

        def source():
            if visit_id == SAMPLE:
                from pacs_console.core.reports.sample import sample_report

                return sample_report()
            from pacs_console.core.reports.gather import gather

            return gather(db, settings, visit_id, extras, data_dir=data)

        return source

    def generate(self, sign: bool) -> None:
        visit_id = self.visit.currentData()
        if visit_id is None:
            self.status.setText("Pick a visit first (start one on the Incidents panel).")
            return
        extras, profile = self.extras(), self.ctx.settings.profile
        self._busy(True)
        # The draft is saved and the certificate read on a worker; the dialogs then ask here.
        workers.start(_prepare, self.ctx, visit_id, extras, profile, sign,
                      on_result=lambda state: self._prepared(sign, visit_id, extras, profile,
                                                             state),
                      on_error=self._failed)

    def _prepared(self, sign: bool, visit_id, extras: Extras, profile, state) -> None:
        settings = self.ctx.settings
        sample = visit_id == SAMPLE
        ask = None
        if state is not None:
            # Everything signing must ask, asked here on the GUI thread (False = stop).
            ask = signing_secret(self, profile, state, self.status.setText)
            if ask is False:
                self._busy(False)
                return
        # Only signed reports of real visits are kept and listed; previews and the sample
        # stay in a temporary folder.
        register = sign and not sample
        out = None if register else self.preview_dir / ("signed.pdf" if sign else "preview.pdf")
        self.worker = workers.start(
            report_store.build_report, self._source(visit_id, extras), self.ctx.paths.data,
            self.ctx.secrets, out=out, register=register, sign=sign, sample=sample,
            engineer=profile.name, organisation=profile.organisation,
            tsa_url=settings.extra.get("tsa_url") or None, ask=ask,
            logo=profile.logo or settings.extra.get("report_logo") or None,
            on_progress=lambda p: self.status.setText(p.message),
            on_result=self._built, on_error=self.show_error,
            on_finished=lambda: self._busy(False))

    def _failed(self, exc: Exception) -> None:
        self._busy(False)
        self.show_error(exc)

    def _busy(self, busy: bool) -> None:
        for button in (self.preview_button, self.sign_button):
            button.setEnabled(not busy)

    def _built(self, record) -> None:
        self.last_pdf = Path(record.path)
        state = "signed" if record.signed else "preview (unsigned)"
        pending = ", timestamp pending until online" if record.timestamp_pending else ""
        self.status.setText(f"{self.last_pdf.name}: {record.pages} pages, {state}{pending}.")
        workers.start(_render_preview, self.last_pdf, self.preview_dir / "pages",
                      on_result=self.show_pages, on_error=self.show_error)
        if record.signed:
            self.refresh_reports()

    def show_pages(self, images: list[Path]) -> None:
        self.preview_empty.setVisible(not images)
        self.preview.set_pages(images)

    # -- files -----------------------------------------------------------------------------
    def open_folder(self) -> None:
        folder = report_store.reports_dir(self.ctx.paths.data)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _open_selected(self, index) -> None:
        path = self.model.rows[index.row()]["path"]
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def verify_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Verify a signed report", "", "PDF (*.pdf)")
        if path:
            self.verify(Path(path))

    def verify(self, path: Path) -> None:
        from pacs_console.core.reports.verify import verify_on_this_laptop

        workers.start(verify_on_this_laptop, path, self.ctx.paths.data,
                      company_ca=self.ctx.settings.extra.get("company_ca_file") or "",
                      on_result=lambda r: self.status.setText(r.text()),
                      on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.status.setText(diagnosis.text() if diagnosis else f"Unexpected error: {exc}")
