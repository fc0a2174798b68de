"""Relay tab: put the laptop between a modality and the PACS and watch them talk, or open a
capture (pcap, pcapng, a relay trace) and read it the same way. One row per association or
HL7 connection; a row shows its summary, findings and timeline (patient data redacted)."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.testbench.relay_start import (
    PacsTlsUnusable,
    Starting,
    TlsUnusable,
    start_relay,
)
from pacs_console.ui.testbench.run_tab import RunTab, port_box
from pacs_console.ui.widgets import panel_parts as parts

COLUMNS = ("Started", "Calling → Called", "Result", "Messages", "Findings")
LIVE_COLUMNS = ("Time", "Association", "From", "Message")
LIVE_ROWS = 500  # the live list keeps the latest rows only
TROUBLE = "#ffcdd2"


def _open(path: str):
    from pacs_console.core.relay.capture import read_any

    return read_any(path)


def _open_incidents(ctx: Context) -> list:
    from pacs_console.core.incidents.queries import IncidentFilter, list_incidents

    return list_incidents(ctx.db, IncidentFilter(open_only=True), limit=200)


def _attach(ctx: Context, ref: int, source: str, kind: str, report: dict, actor: str):
    """One conversation, as the redacted timeline document ``incident attach`` makes."""
    from pacs_console.core.incidents.evidence import attach_timeline
    from pacs_console.core.relay.evidence import timeline_json, timeline_name

    return attach_timeline(ctx.db, ctx.paths.data / "attachments", ref, timeline_name(source),
                           timeline_json(source, kind, [report], []), actor=actor)


class RelayTab(RunTab):
    """Its run is reading a capture (Open capture); the live relay runs on its own threads."""

    ended = Signal(dict)  # emitted on a relay thread; delivered on the GUI thread

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.relay = None
        self.starting: Starting | None = None
        self.trace = None
        self.source = ("", "")  # (file name, kind) of what the rows came from
        self.reports: list[dict] = []
        self.feed = None
        self.bridge = None
        self.port = port_box("relay-port", 11112)
        self.port.setToolTip("The port the modality sends to (0 = any free port)")
        self.bind = QLineEdit("0.0.0.0")
        self.bind.setObjectName("relay-bind")
        self.target = QLineEdit()
        self.target.setObjectName("relay-target")
        self.target.setPlaceholderText("PACS address:port, e.g. 10.1.2.3:104")
        self.cert = QLineEdit()
        self.cert.setObjectName("relay-cert")
        self.cert.setPlaceholderText("empty: the modality sends plain DICOM")
        self.cert.setToolTip("DICOM over TLS from the modality: this console's certificate (PEM)")
        self.key = QLineEdit()
        self.key.setObjectName("relay-key")
        self.key.setPlaceholderText("its private key (PEM)")
        self.pacs_tls = QCheckBox("TLS to the PACS:")
        self.pacs_tls.setObjectName("relay-pacs-tls")
        self.pacs_tls.setToolTip("DICOM over TLS from this console to the PACS")
        self.pacs_files = {}
        for name, hint, tip in (
                ("ca", "CA certificate (PEM)", "The CA that signed the PACS's certificate "
                 "(empty: the system's trusted CAs)"),
                ("cert", "client certificate", "This console's certificate, if the PACS asks"),
                ("key", "its key", "The client certificate's private key (PEM)"),
                ("name", "server name", "The host name the PACS's certificate carries "
                 "(empty: the PACS address)")):
            field = QLineEdit()
            field.setObjectName(f"relay-pacs-{name}")
            field.setPlaceholderText(hint)
            field.setToolTip(tip)
            self.pacs_files[name] = field
        self.start_button = parts.button("Start relay", self.toggle, name="relay-start")
        self.capture = QLineEdit()
        self.capture.setObjectName("relay-capture")
        self.capture.setPlaceholderText("a .pcap, .pcapng or relay .trace file")
        self.open_button = self.start_button_for("Open capture", self.open_capture)
        self.open_button.setObjectName("relay-open")
        browse = parts.button("Browse…", self.browse, name="relay-browse")
        self.status = QLabel("Point the modality at this laptop, give the real PACS here and "
                             "start: every association is forwarded unchanged and decoded.")
        self.status.setObjectName("relay-status")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("relay-associations")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(lambda: self.show_row())
        self.live = QTableWidget(0, len(LIVE_COLUMNS))
        self.live.setObjectName("relay-live")
        self.live.setHorizontalHeaderLabels(list(LIVE_COLUMNS))
        self.live.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.live.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.live.verticalHeader().setVisible(False)
        self.live.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.live.horizontalHeader().setStretchLastSection(True)
        self.live.setToolTip("What passes, as it passes (the latest rows; patient data redacted)")
        self.details = QPlainTextEdit()
        self.details.setObjectName("relay-details")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Click an association to see its findings and timeline.")
        self.ended.connect(self.add_report)
        self.attach_button = parts.button("Attach to incident…", self.attach,
                                    "Attach the selected conversation's decoded timeline, "
                                    "patient data redacted (never the raw bytes)", "relay-attach")
        self.attach_button.setEnabled(False)
        upstream = ((self.pacs_files[name], stretch)
                    for name, stretch in (("ca", 2), ("cert", 2), ("key", 1), ("name", 1)))
        outputs = parts.split(self.table, self.live, self.details, vertical=True,
                              sizes=(200, 200, 160))
        parts.column(self,
                     parts.row("Listen on", self.bind, "port", self.port, "→ PACS",
                               (self.target, 1), self.start_button),
                     parts.row("TLS from the modality: certificate", (self.cert, 2), "key",
                               (self.key, 1)),
                     parts.row(self.pacs_tls, *upstream),
                     parts.row("Capture", (self.capture, 1), browse, self.open_button),
                     self.status, (outputs, 1), parts.row(1, self.attach_button))

    # -- live -----------------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.relay is not None:
            self.stop()
            return
        from pacs_console.core.relay.server import RelayConfig, parse_target

        target = parse_target(self.target.text().strip())
        if isinstance(target, str):
            self.status.setText(f"PACS address: {target}")
            return
        listen_tls = None
        if self.cert.text().strip():
            from pacs_console.core.dicom.wire.tls import TlsConfig

            listen_tls = TlsConfig(cert_file=self.cert.text().strip(),
                                   key_file=self.key.text().strip())
        given = {name: field.text().strip() for name, field in self.pacs_files.items()}
        pacs_tls = (self.pacs_tls.isChecked(), given["ca"], given["cert"], given["key"],
                    given["name"])
        config = RelayConfig(self.bind.text().strip() or "0.0.0.0", self.port.value(), *target,
                             listen_tls=listen_tls)
        path = self.ctx.paths.data / "traces" / time.strftime("relay-%Y%m%d-%H%M%S.trace")
        # The certificates, the keys and the trace file are opened on a worker; the tab says it
        # listens only once the relay does.
        self.start_button.setEnabled(False)
        self.status.setText("Starting the relay…")
        self.starting = Starting(self, path)
        workers.start(start_relay, config, pacs_tls, path,
                      lambda _i, report: self.ended.emit(report),
                      on_result=self.starting.deliver,
                      on_error=self._not_started,
                      on_finished=lambda: self.start_button.setEnabled(True))

    def _started(self, started, path: Path) -> None:
        from pacs_console.ui.bridge import QueueBridge

        self.relay, self.feed, self.trace = started
        config = self.relay.config
        self.source = (path.name, "relay trace")
        self.bridge = QueueBridge(self.feed.queue, interval_ms=100, max_batch=LIVE_ROWS,
                                  parent=self)
        self.bridge.received.connect(self.add_live)
        host, port = self.relay.address
        self.status.setText(f"Listening on {host}:{port}{' (TLS)' if config.listen_tls else ''}, "
                            f"forwarding to {config.upstream_host}:{config.upstream_port}"
                            f"{' over TLS' if config.upstream_tls else ''}; trace {path}")
        self.start_button.setText("Stop relay")

    def _not_started(self, exc: Exception) -> None:
        if isinstance(exc, TlsUnusable):
            self.status.setText(f"TLS certificate or key not usable: {exc.__cause__}")
        elif isinstance(exc, PacsTlsUnusable):
            cause = exc.__cause__
            self.status.setText("TLS to the PACS: CA, certificate or key not usable: "
                                f"{getattr(cause, 'strerror', None) or cause}")
        else:
            self.status.setText(f"Cannot start the relay: {getattr(exc, 'strerror', None) or exc}")

    def stop(self) -> None:
        relay, self.relay = self.relay, None
        if relay is not None:
            relay.stop()
        if self.bridge is not None:
            self.bridge.drain()  # the last rows, then no more polling
            self.bridge.stop()
            self.bridge = None
        if self.trace is not None:
            self.trace.finish()
            self.trace = None
        self.start_button.setText("Start relay")
        self.status.setText(f"Relay stopped; {len(self.reports)} association(s) shown.")

    def shutdown(self) -> None:
        """The window is closing: stop the relay (its trace finished), and one still starting
        as soon as it has started."""
        if self.starting is not None:
            self.starting.closed = True
        if self.relay is not None:
            self.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)

    # -- offline --------------------------------------------------------------------------------
    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a capture", "",
                                              "Captures (*.pcap *.pcapng *.cap *.trace);;All files (*)")
        if path:
            self.capture.setText(path)
            self.open_capture()

    def open_capture(self) -> None:
        path = self.capture.text().strip()
        if not path:
            self.status.setText("Give a capture file first.")
            return
        self.status.setText(f"Reading {path}…")
        self.launch(_open, path, on_result=self._opened, on_error=self._failed)

    def _opened(self, result) -> None:
        kind, reports, problems = result
        self.source = (Path(self.capture.text().strip()).name, kind)
        self.table.setRowCount(0)
        self.reports = []
        for report in reports:
            self.add_report(report)
        note = f"; {'; '.join(problems)}" if problems else ""
        self.status.setText(f"{self.capture.text().strip()}: {len(reports)} conversation(s){note}")

    def _failed(self, exc: Exception) -> None:
        self.status.setText(f"Cannot read the capture: {getattr(exc, 'strerror', None) or exc}")

    # -- the table ------------------------------------------------------------------------------
    def add_report(self, report: dict) -> None:
        self.reports.append(report)
        row = self.table.rowCount()
        self.table.insertRow(row)
        started = time.strftime("%H:%M:%S", time.localtime(report.get("started") or 0))
        if report.get("protocol") == "hl7":
            who = f"HL7 {report['client']} → {report['server']}"
        else:
            who = f"{report.get('calling_ae') or '?'} → {report.get('called_ae') or '?'}"
        findings = "; ".join(d["what"] for d in report["diagnosis"]) or "none"
        cells = (started, who, report["result"], str(len(report["messages"])), findings)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if report["diagnosis"]:
                item.setBackground(QBrush(QColor(TROUBLE)))
            self.table.setItem(row, column, item)
        if self.relay is not None:
            self.status.setText(self.status.text().split(" — ")[0]
                                + f" — {len(self.reports)} association(s) so far")

    def add_live(self, rows: list[dict]) -> None:
        """A batch of rows from the relay's threads (one call per tick, however fast the store):
        appended with updates off, the oldest dropped beyond LIVE_ROWS."""
        rows = rows[-LIVE_ROWS:]
        table = self.live
        table.setUpdatesEnabled(False)
        try:
            extra = table.rowCount() + len(rows) - LIVE_ROWS
            for _ in range(max(0, extra)):
                table.removeRow(0)
            for row in rows:
                at = table.rowCount()
                table.insertRow(at)
                who = f"#{row['association']} {row['calling_ae'] or '?'} → {row['called_ae'] or '?'}"
                text = row["text"] if row["text"].startswith(row["kind"]) else \
                    f"{row['kind']}: {row['text']}"
                cells = (time.strftime("%H:%M:%S", time.localtime(row["at"])) +
                         f".{int(row['at'] * 1000) % 1000:03d}", who, row["from"], text)
                trouble = row["kind"] in ("A-ABORT", "A-ASSOCIATE-RJ", "decode-failed") or (
                    "status 0x" in text and "status 0x0000" not in text
                    and "status 0xFF0" not in text)
                for column, value in enumerate(cells):
                    item = QTableWidgetItem(value)
                    if trouble:
                        item.setBackground(QBrush(QColor(TROUBLE)))
                    table.setItem(at, column, item)
        finally:
            table.setUpdatesEnabled(True)
        table.scrollToBottom()

    def show_row(self) -> None:
        from pacs_console.core.relay.text import describe, timeline

        rows = self.table.selectionModel().selectedRows()
        self.attach_button.setEnabled(bool(rows) and rows[0].row() < len(self.reports))
        if rows and rows[0].row() < len(self.reports):
            report = self.reports[rows[0].row()]
            self.details.setPlainText(describe(report) + "\n\nTimeline\n" + timeline(report))

    # -- evidence -------------------------------------------------------------------------------
    def attach(self) -> None:
        """The open incidents are read on a worker; the choice is asked once they arrive."""
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.reports):
            return
        report = self.reports[rows[0].row()]
        workers.start(_open_incidents, self.ctx, on_result=lambda found: self._attach_to(
            report, found), on_error=self._attach_failed)

    def _attach_failed(self, exc: Exception) -> None:
        from pacs_console.ui.widgets.incident_detail import diagnosis_text

        self.status.setText(diagnosis_text(exc))

    def _attach_to(self, report, incidents: list) -> None:
        from pacs_console.ui.widgets.incident_detail import actor_of

        if not incidents:
            self.status.setText("No open incident to attach to: open one in Incidents first.")
            return
        labels = [f"#{i.id} {i.title}" for i in incidents]
        choice, ok = QInputDialog.getItem(self, "Attach to incident",
                                          "Attach this conversation's timeline (patient data "
                                          "redacted) to:", labels, 0, False)
        if not ok:
            return
        ref = incidents[labels.index(choice)].id
        name, kind = self.source
        self.attach_button.setEnabled(False)
        workers.start(_attach, self.ctx, ref, name or "relay", kind or "relay trace", report,
                      actor_of(self.ctx),
                      on_result=lambda item: self.status.setText(
                          f"Attached {item.filename} to incident #{ref}: the decoded timeline "
                          "with patient data redacted; the raw trace stays on this laptop."),
                      on_error=lambda exc: self.status.setText(f"Not attached: {exc}"),
                      on_finished=lambda: self.attach_button.setEnabled(True))

