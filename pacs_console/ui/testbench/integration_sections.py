"""The DICOMweb and modality-workflow sections of the Integration tab."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import RunTab, ServerSwitch, output_box, port_box
from pacs_console.ui.widgets.panel_parts import column, form_rows, resizable, row

_ADDRESS = re.compile(r"^(?P<ae>[^@]{1,16})@(?P<host>[^:]+):(?P<port>\d+)$")


def _web_operation(ctx: Context, url: str, action: str, argument: str, creds, save: bool,
                   ca_file: str = ""):
    from pacs_console.core.db.testruns import save_test_run
    from pacs_console.core.dicomweb import client
    from pacs_console.core.dicomweb.auth import load_credentials, save_credentials

    if save:
        save_credentials(ctx.secrets, url, creds)
    if creds.kind == "none" or not creds.secret:
        creds = load_credentials(ctx.secrets, url)
    endpoint = client.Endpoint(url, creds, verify=ca_file or True)
    if action == "qido":
        keys = dict(p.split("=", 1) for p in argument.split() if "=" in p)
        result = client.qido(endpoint, "study", keys, limit=200)
    elif action == "wado":
        result = yield from client.wado(endpoint, ctx.paths.store, argument.strip())
    else:
        from pacs_console.core.dicom.ops.store import collect

        items, _ = collect([argument.strip()])
        result = yield from client.stow(endpoint, [i.path for i in items if i.path])
    save_test_run(ctx.db, **result.evidence())
    return result


class DicomWebSection(RunTab):
    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.url = QLineEdit("http://127.0.0.1:8042/dicom-web")
        self.url.setObjectName("dicomweb-url")
        self.auth = QComboBox()
        self.auth.addItems(["none", "basic", "bearer"])
        self.user = QLineEdit()
        self.user.setPlaceholderText("user (basic)")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("password or token (empty: the one in the keyring)")
        self.save = QCheckBox("Keep in the OS keyring")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("CA file (PEM) for https://; empty: this laptop's trust store")
        self.action = QComboBox()
        for text, key in (("QIDO-RS search (KEY=VALUE …)", "qido"),
                          ("WADO-RS retrieve (study UID) into the local store", "wado"),
                          ("STOW-RS store (file or folder)", "stow")):
            self.action.addItem(text, key)
        self.argument = QLineEdit()
        self.argument.setPlaceholderText("PatientID=KB123456   or a study UID   or a folder")
        self.run_button = self.start_button_for("Run", self.run)
        self.result = output_box("dicomweb-result")
        form = form_rows((("DICOMweb root", self.url),
                          ("Authentication", row(self.auth, self.user, self.secret, self.save)),
                          ("TLS", self.ca_file), ("Operation", self.action),
                          ("Argument", self.argument)))
        column(self, form, self.run_button, (self.result, 1))

    def run(self) -> None:
        from pacs_console.core.dicomweb.auth import Credentials

        if self.worker is not None:
            return
        creds = Credentials(self.auth.currentText(), self.user.text(), self.secret.text())
        self.result.setPlainText("Running…")
        self.launch(_web_operation, self.ctx, self.url.text().strip(), self.action.currentData(),
                    self.argument.text(), creds, self.save.isChecked(),
                    self.ca_file.text().strip(), on_progress=self._progress,
                    on_result=self.show_result, on_error=self.show_error)

    def _progress(self, progress) -> None:
        self.result.setPlainText(progress.message)

    def show_error(self, exc: Exception) -> None:
        diagnosis = getattr(exc, "diagnosis", None)
        self.result.setPlainText(diagnosis.text() if diagnosis else f"{type(exc).__name__}: {exc}")

    def show_result(self, result) -> None:
        lines = [("OK  " if result.ok else "FAILED  ") + result.summary()]
        for match in result.matches[:200]:
            lines.append("  ".join(f"{k}={match.get(k, '')}" for k in (
                "PatientID", "StudyDate", "AccessionNumber", "ModalitiesInStudy",
                "StudyInstanceUID") if match.get(k)))
        if result.diagnosis is not None:
            lines.append(result.diagnosis.text())
        self.result.setPlainText("\n".join(lines))
        self.run_saved.emit(result)


def _target(ctx: Context, spec: str, default):
    from pacs_console.core.db.nodes import get_node
    from pacs_console.core.dicom.wire.target import Target

    spec = spec.strip()
    if spec == "-":
        return None, None
    if not spec:
        return (Target.from_node(default, ctx.settings), default.id) if default else (None, None)
    match = _ADDRESS.match(spec)
    if match:
        return Target(match["host"], int(match["port"]), match["ae"], ctx.settings.ae_title,
                      ctx.settings.timeouts()), None
    node = get_node(ctx.db, spec)
    return (Target.from_node(node, ctx.settings), node.id) if node else (None, None)


def _run_workflow(ctx: Context, specs: dict, default, report_port: int, finish: str):
    from pacs_console.core.workflow.runner import WorkflowPlan, run_workflow

    targets, ids = {}, {}
    for role, spec in specs.items():
        targets[role], ids[role] = _target(ctx, spec, default)
    plan = WorkflowPlan(**targets, finish=finish, report_port=report_port or None, node_ids=ids)
    return (yield from run_workflow(plan, ctx.db))


class WorkflowSection(RunTab):
    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        self.roles = {}
        form = QFormLayout()
        for role, label in (("worklist", "Worklist (MWL)"), ("mpps", "MPPS"),
                            ("store", "Storage"), ("commit", "Storage commitment")):
            edit = QLineEdit()
            edit.setPlaceholderText("the selected node; or a node name, AE@HOST:PORT, '-' none")
            self.roles[role] = edit
            form.addRow(label, edit)
        self.report_port = QSpinBox()
        self.report_port.setRange(0, 65535)
        self.report_port.setValue(0)
        self.report_port.setSpecialValueText("none (same association only)")
        form.addRow("Report port (separate association)", self.report_port)
        self.finish = QComboBox()
        self.finish.addItems(["COMPLETED", "DISCONTINUED"])
        form.addRow("End the step as", self.finish)
        self.run_button = self.start_button_for("Run the modality workflow", self.run)
        self.steps = output_box("workflow-steps")
        self.scp_port = port_box("site-scp-port", 11115)
        self.scp_ae = QLineEdit(ctx.settings.ae_title)
        self.scp_button = QPushButton("Play the site (MWL, MPPS, commitment SCP)")
        self.events = output_box("site-scp-events")
        scp_row = row("AE", self.scp_ae, "port", self.scp_port, self.scp_button)
        column(self, form, self.run_button,
               (resizable(self.steps, (scp_row, self.events), stretch=(2, 1)), 1))
        self.follow_events(self.show_events)
        self.switch = ServerSwitch(self.scp_button, self.scp_port, self.events, self._play_site,
                                   "Stop the site SCP", lambda exc: f"Cannot start: {exc}")

    def run(self) -> None:
        if self.worker is not None:
            return
        default = self.panel.selected_node()
        specs = {role: edit.text() for role, edit in self.roles.items()}
        if default is None and not any(s.strip() not in ("", "-") for s in specs.values()):
            self.steps.setPlainText("Select a node in the address book or name one per role.")
            return
        self.steps.setPlainText("")
        self.launch(_run_workflow, self.ctx, specs, default, self.report_port.value(),
                    self.finish.currentText(), on_result=self.show_result,
                    on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        self.steps.appendPlainText(str(exc))

    def show_step(self, step) -> None:
        mark = {"ok": "PASS", "warning": "PASS", "skipped": "SKIP"}.get(step.outcome, "FAIL")
        self.steps.appendPlainText(f"{mark}  {step.title}  {step.duration_ms:.0f} ms  "
                                   f"{step.summary}")
        if step.diagnosis is not None and not step.ok:
            self.steps.appendPlainText("      " + step.diagnosis.text().replace("\n", "\n      "))

    def show_result(self, result) -> None:
        self.steps.appendPlainText(f"{'PASSED' if result.ok else 'FAILED'} in "
                                   f"{result.duration_ms:.0f} ms; {len(result.run_ids)} test "
                                   "runs saved")
        self.run_saved.emit(result)

    scp = property(lambda self: self.switch.server, doc="The running site SCP")

    def _play_site(self):
        from pacs_console.core.dicom.synth.studies import worklist_items
        from pacs_console.core.workflow.scp import WorkflowSCP

        scp = WorkflowSCP(self.scp_ae.text().strip(), self.scp_port.value(),
                          items=worklist_items(10), timeouts=self.ctx.settings.timeouts(),
                          notify=self.queue).start()
        return scp, f"{scp.ae_title} listening on port {scp.port}"

    def toggle_scp(self) -> None:
        self.switch.toggle()

    def show_events(self, batch: list) -> None:
        for event in batch:
            self.events.appendPlainText(f"{event.at:%H:%M:%S} {event.service:<12} "
                                        f"{event.calling_ae:<16} 0x{event.status:04X} "
                                        f"{event.detail}")

    def shutdown(self) -> None:
        self.switch.stop()
