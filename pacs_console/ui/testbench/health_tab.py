"""Site health tab: run a site's check plan and show it as a grid, nodes down and checks across,
coloured by result; a cell shows its evidence (summary, diagnosis, figures). A plan file may
change the defaults; what got worse since the last run is marked in the grid; a baseline is
recorded before an upgrade and compared after (the grid then shows the comparison); repeat
mode runs the plan again every N minutes while the engineer is on site."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui import workers
from pacs_console.ui.testbench.run_parts import PickerTab
from pacs_console.ui.testbench.run_tab import output_box
from pacs_console.ui.widgets import panel_parts as parts

CHECK_NAMES = {"route": "Route", "echo": "C-ECHO", "association": "Association", "tls": "TLS",
               "find": "Study C-FIND", "worklist": "Worklist", "retrieve": "C-GET study",
               "dicomweb": "DICOMweb",
               "hl7": "HL7 test ADT", "store": "Test C-STORE",
               # the post-upgrade comparison's aspects
               "capabilities": "Capabilities", "speed": "Speed", "studies": "Study count",
               "charset": "Character set", "study_checksums": "Known study",
               "qido_studies": "QIDO-RS count", "hl7_ack": "HL7 ACK", "reachable": "Reachable",
               "node": "Node"}
WORSE = " ▼"  # marks a cell that got worse (since the last run, or against the baseline)
COLOURS = {"pass": "#c8e6c9", "warn": "#ffe0b2", "fail": "#ffcdd2", "skipped": "#eeeeee"}
# The site's verdict in words: WARN alone read as "a warning" beside "7 fail".
VERDICTS = {"pass": "every check passed", "fail": "every check failed",
            "warn": "some checks failed or warned"}


def _sites(ctx: Context) -> list[str]:
    from pacs_console.core.incidents.sites import list_sites

    return [s.name for s in list_sites(ctx.db)]


def _baselines(ctx: Context, site: str) -> list[str]:
    from pacs_console.core.health.baseline import list_baselines

    return list_baselines(ctx.db, site) if site else []


def _run(ctx: Context, site: str, plan_file: str, mode: str, name: str):
    """mode: run (the plan), baseline (record ``name``), compare (against ``name``)."""
    from pacs_console.core.health.baseline import record_baseline, validate
    from pacs_console.core.health.plan import site_plan
    from pacs_console.core.health.runner import run_health

    _record, plan = site_plan(ctx.db, site, plan_file or None)
    if plan is None:
        return None
    if mode == "baseline":
        snapshot, _run_id = yield from record_baseline(ctx.db, ctx.settings, plan, name,
                                                       secrets=ctx.secrets)
        return ("baseline", name, snapshot)
    if mode == "compare":
        _before, health = yield from validate(ctx.db, ctx.settings, plan, name,
                                              secrets=ctx.secrets)
        return ("compare", name, health)
    return (yield from run_health(ctx.db, ctx.settings, plan, secrets=ctx.secrets))


class HealthTab(PickerTab):
    busy_text = "Checking…"
    cancelling_text = "Stopping after the checks under way…"

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, "health", "Run health check")
        self.health, self.mode = None, "run"
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
        self.plan_file = QLineEdit()
        self.plan_file.setObjectName("health-plan")
        self.plan_file.setPlaceholderText("none: the defaults of each node's role")
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: self.browse_plan())
        self.repeat = QCheckBox("Repeat every")
        self.repeat.setObjectName("health-repeat")
        self.repeat.toggled.connect(lambda on: self.repeat_toggled(on))
        self.minutes = QDoubleSpinBox()
        self.minutes.setObjectName("health-repeat-minutes")
        self.minutes.setRange(0.1, 1440.0)
        self.minutes.setDecimals(1)
        self.minutes.setValue(15.0)
        self.minutes.setSuffix(" min")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: self.start())
        self.baseline = QComboBox()
        self.baseline.setObjectName("health-baseline")
        self.baseline.setEditable(True)
        self.baseline.setMinimumWidth(160)
        self.baseline.lineEdit().setPlaceholderText("name, e.g. before-4.2")
        self.record_button = QPushButton("Record baseline")
        self.record_button.clicked.connect(lambda: self.start("baseline"))
        self.compare_button = QPushButton("Compare with baseline")
        self.compare_button.clicked.connect(lambda: self.start("compare"))
        self.site.currentTextChanged.connect(lambda _text: self.load_baselines())
        self.details = output_box("health-details", "Click a cell to see its evidence.")
        parts.column(self, parts.row("Site", self.site, self.run_button, self.cancel_button,
                                     self.repeat, self.minutes, 1),
                     parts.row("Plan file", self.plan_file, browse, "Baseline", self.baseline,
                               self.record_button, self.compare_button, 1),
                     self.progress, self.status,
                     (parts.split(self.grid, self.details, vertical=True, sizes=(300, 160)), 1))

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

    def browse_plan(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Health check plan", "",
                                              "Plan files (*.json);;All files (*)")
        if path:
            self.plan_file.setText(path)

    def load_baselines(self) -> None:
        workers.start(_baselines, self.ctx, self.site.currentText(),
                      on_result=self._baselines_loaded)

    def _baselines_loaded(self, names: list[str]) -> None:
        typed = self.baseline.currentText()
        self.baseline.clear()
        self.baseline.addItems(names)
        self.baseline.setCurrentText(typed or (names[0] if names else ""))

    def cancel(self) -> None:
        self.timer.stop()
        self.repeat.setChecked(False)  # Cancel also ends repeat mode
        super().cancel()

    def repeat_toggled(self, on: bool) -> None:
        if not on:
            self.timer.stop()
            if self.worker is None:
                self.status.setText("Repeat stopped.")

    def start(self, mode: str = "run") -> None:
        site = self.site.currentText()
        name = self.baseline.currentText().strip()
        if not site or self.worker is not None:
            return
        if mode != "run" and not name:
            self.status.setText("Give the baseline a name first (e.g. before-4.2).")
            return
        self.timer.stop()
        self.mode = mode
        self.grid.setRowCount(0)
        self.details.clear()
        self.launch(_run, self.ctx, site, self.plan_file.text().strip(), mode, name)
        self.status.setText({"run": f"Checking {site}…",
                             "baseline": f"Recording baseline {name!r} of {site}…",
                             "compare": f"Comparing {site} with baseline {name!r}…"}[mode])

    def on_error(self, exc: Exception) -> None:
        super().on_error(exc)
        self.schedule()

    def schedule(self) -> None:
        """Repeat mode: the next run of the plan, N minutes from now."""
        if self.repeat.isChecked() and self.mode == "run":
            self.timer.start(int(self.minutes.value() * 60_000))
            at = datetime.now() + timedelta(minutes=self.minutes.value())
            self.status.setText(self.status.text() + f" Next run at {at:%H:%M:%S}.")

    def show_outcome(self, health) -> None:
        if health is None:
            self.status.setText("This site has no node in the address book: give nodes this "
                                "site first.")
            return
        if isinstance(health, tuple) and health[0] == "baseline":
            _kind, name, snapshot = health
            answered = sum(1 for s in snapshot["nodes"].values() if s.get("reachable"))
            self.status.setText(f"Baseline {name!r} of {snapshot['site']} recorded: {answered} "
                                f"of {len(snapshot['nodes'])} node(s) answered. After the "
                                "upgrade: Compare with baseline.")
            self.load_baselines()
            return
        compared = isinstance(health, tuple)
        name = health[1] if compared else ""
        health = health[2] if compared else health
        self.health = health
        worse = ({(r.node, r.check): r.summary for r in health.results
                  if r.result in ("warn", "fail")} if compared else
                 {(c.node, c.check): c.text for c in health.changes})
        self.fill_grid(health, worse)
        counts = health.counts()
        if compared:
            verdict = "PASS: nothing regressed" if not worse else f"{len(worse)} regression(s)"
            text = (f"Post-upgrade validation of {health.site} against baseline {name!r}: "
                    f"{verdict} ({counts['pass']} pass, {counts['warn']} warn, "
                    f"{counts['fail']} fail).")
        else:
            verdict = VERDICTS.get(health.verdict, health.verdict)
            text = (f"{health.site}: {verdict} ({health.verdict.upper()}) — {counts['pass']} "
                    f"pass, {counts['warn']} warn, {counts['fail']} fail.")
            if health.changes:
                text += f" Worse than last time ({WORSE.strip()} in the grid): " + "; ".join(
                    f"{c.node} {c.check}: {c.text}" for c in health.changes[:4])
            elif health.previous_run:
                text += " Nothing got worse since the last run."
        self.status.setText(text)
        self.schedule()

    def fill_grid(self, health, worse: dict) -> None:
        checks = list(dict.fromkeys([c for c in CHECK_NAMES if any(r.check == c for r in
                                                                   health.results)]
                                    + [r.check for r in health.results]))
        nodes = list(dict.fromkeys(r.node for r in health.results))
        self.grid.setColumnCount(len(checks))
        self.grid.setHorizontalHeaderLabels([CHECK_NAMES.get(c, c) for c in checks])
        self.grid.setRowCount(len(nodes))
        self.grid.setVerticalHeaderLabels(nodes)
        for r in health.results:
            why = worse.get((r.node, r.check))
            item = QTableWidgetItem((r.result.upper() if r.result != "skipped" else "—")
                                    + (WORSE if why else ""))
            item.setBackground(QBrush(QColor(COLOURS[r.result])))
            item.setToolTip(r.summary + (f"\nWorse: {why}" if why and why != r.summary else ""))
            if why:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            item.setData(Qt.ItemDataRole.UserRole, r)
            self.grid.setItem(nodes.index(r.node), checks.index(r.check), item)
        for line in range(len(nodes)):  # a check the node's role does not get: say so
            for column in range(len(checks)):
                if self.grid.item(line, column) is None:
                    item = QTableWidgetItem("—")
                    item.setBackground(QBrush(QColor(COLOURS["skipped"])))
                    item.setToolTip("Not in this node's plan (its role does not get this check)")
                    self.grid.setItem(line, column, item)

    def show_cell(self) -> None:
        items = self.grid.selectedItems()
        result = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        if result is None:
            return
        lines = [f"{result.node} — {CHECK_NAMES.get(result.check, result.check)}: "
                 f"{result.result.upper()}", result.summary]
        worse = items[0].text().endswith(WORSE)
        if worse and self.health is not None:
            lines += [f"Worse: {c.text}" for c in self.health.changes
                      if (c.node, c.check) == (result.node, result.check)]
        if result.diagnosis:
            lines += ["", result.diagnosis.get("what", "")]
            lines += [f"  likely: {c}" for c in result.diagnosis.get("causes", [])]
            lines += [f"  try: {a}" for a in result.diagnosis.get("actions", [])]
        if result.metrics:
            lines += ["", "Figures:"]
            lines += [f"  {k}: {json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v}"
                      for k, v in result.metrics.items()]
        self.details.setPlainText("\n".join(lines))
