"""Site health tab: run a site's check plan and show it as a grid, nodes down and checks across,
coloured by result; a cell shows its evidence (summary, diagnosis, figures)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.testbench.run_parts import RunnerWidget, row_of

CHECK_NAMES = {"route": "Route", "echo": "C-ECHO", "association": "Association", "tls": "TLS",
               "find": "Study C-FIND", "worklist": "Worklist", "retrieve": "C-GET study",
               "dicomweb": "DICOMweb",
               "hl7": "HL7 test ADT", "store": "Test C-STORE"}
COLOURS = {"pass": "#c8e6c9", "warn": "#ffe0b2", "fail": "#ffcdd2", "skipped": "#eeeeee"}
# The site's verdict in words: WARN alone read as "a warning" beside "7 fail".
VERDICTS = {"pass": "every check passed", "fail": "every check failed",
            "warn": "some checks failed or warned"}


def _sites(ctx: Context) -> list[str]:
    from pacs_console.core.incidents.sites import list_sites

    return [s.name for s in list_sites(ctx.db)]


def _run(ctx: Context, site: str):
    from pacs_console.core.db.nodes import list_nodes
    from pacs_console.core.health.plan import default_plan
    from pacs_console.core.health.runner import run_health
    from pacs_console.core.incidents.sites import get_site

    record = get_site(ctx.db, site)
    nodes = [n for n in list_nodes(ctx.db) if n.site_id == record.id]
    if not nodes:
        return None
    return (yield from run_health(ctx.db, ctx.settings, default_plan(record.name, nodes),
                                  secrets=ctx.secrets))


class HealthTab(RunnerWidget):
    busy_text = "Checking…"
    stopping_text = "Stopping after the checks under way…"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, "health", "Run health check")
        self.health = None
        self.site = QComboBox()
        self.site.setObjectName("health-site")
        self.site.setMinimumWidth(220)
        self.status.setText("Pick a site and run its health check: every node of the site "
                            "gets the checks of its role, compared with the last run.")
        self.grid = QTableWidget(0, 0)
        self.grid.setObjectName("health-grid")
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.itemSelectionChanged.connect(lambda: self.show_cell())
        self.details = QPlainTextEdit()
        self.details.setObjectName("health-details")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Click a cell to see its evidence.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.grid)
        split.addWidget(self.details)
        split.setSizes([300, 160])
        layout = QVBoxLayout(self)
        layout.addLayout(row_of("Site", self.site, self.run_button, self.cancel_button))
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    def refresh_nodes(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        workers.start(_sites, self.ctx, on_result=self._sites_loaded,
                      on_error=lambda exc: self.status.setText(f"Sites not loaded: {exc}"))

    def _sites_loaded(self, names: list[str]) -> None:
        current = self.site.currentText()
        self.site.clear()
        self.site.addItems(names)
        if current in names:
            self.site.setCurrentText(current)
        if not names:
            self.status.setText("No site yet: add one (Incidents > Sites) and give its nodes "
                                "that site in the address book.")

    def start(self) -> None:
        site = self.site.currentText()
        if not site or self.worker is not None:
            return
        self.grid.setRowCount(0)
        self.details.clear()
        self.launch(_run, site)
        self.status.setText(f"Checking {site}…")

    def show_outcome(self, health) -> None:
        if health is None:
            self.status.setText("This site has no node in the address book: give nodes this "
                                "site first.")
            return
        self.health = health
        checks = [c for c in CHECK_NAMES if any(r.check == c for r in health.results)]
        nodes = list(dict.fromkeys(r.node for r in health.results))
        self.grid.setColumnCount(len(checks))
        self.grid.setHorizontalHeaderLabels([CHECK_NAMES[c] for c in checks])
        self.grid.setRowCount(len(nodes))
        self.grid.setVerticalHeaderLabels(nodes)
        for r in health.results:
            item = QTableWidgetItem(r.result.upper() if r.result != "skipped" else "—")
            item.setBackground(QBrush(QColor(COLOURS[r.result])))
            item.setToolTip(r.summary)
            item.setData(Qt.ItemDataRole.UserRole, r)
            self.grid.setItem(nodes.index(r.node), checks.index(r.check), item)
        for row in range(len(nodes)):  # a check the node's role does not get: say so
            for column in range(len(checks)):
                if self.grid.item(row, column) is None:
                    item = QTableWidgetItem("—")
                    item.setBackground(QBrush(QColor(COLOURS["skipped"])))
                    item.setToolTip("Not in this node's plan (its role does not get this check)")
                    self.grid.setItem(row, column, item)
        counts = health.counts()
        verdict = VERDICTS.get(health.verdict, health.verdict)
        text = (f"{health.site}: {verdict} ({health.verdict.upper()}) — {counts['pass']} pass, "
                f"{counts['warn']} warn, {counts['fail']} fail.")
        if health.changes:
            text += " Worse than last time: " + "; ".join(
                f"{c.node} {c.check}: {c.text}" for c in health.changes[:4])
        elif health.previous_run:
            text += " Nothing got worse since the last run."
        self.status.setText(text)

    def show_cell(self) -> None:
        items = self.grid.selectedItems()
        result = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        if result is None:
            return
        lines = [f"{result.node} — {CHECK_NAMES.get(result.check, result.check)}: "
                 f"{result.result.upper()}", result.summary]
        if result.diagnosis:
            lines += ["", result.diagnosis.get("what", "")]
            lines += [f"  likely: {c}" for c in result.diagnosis.get("causes", [])]
            lines += [f"  try: {a}" for a in result.diagnosis.get("actions", [])]
        if result.metrics:
            lines += ["", "Figures:"]
            lines += [f"  {k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}"
                      for k, v in result.metrics.items()]
        self.details.setPlainText("\n".join(lines))
