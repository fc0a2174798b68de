"""Integration tab: HL7 send and listen, DICOMweb, and the modality workflow, as sub-tabs."""

from __future__ import annotations

import json

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from pacs_console.core.context import Context
from pacs_console.ui.testbench.run_tab import (
    RunTab,
    SectionsTab,
    ServerSwitch,
    output_box,
    port_box,
)
from pacs_console.ui.widgets.panel_parts import column, form_rows, resizable, row


def _send_and_save(ctx: Context, host: str, port: int, text: str, timeout: float, loose: bool):
    from pacs_console.core.db.testruns import save_test_run
    from pacs_console.core.hl7.mllp import send
    from pacs_console.core.hl7.templates import loose_repair

    fixes: list[str] = []
    if loose:
        text, fixes = loose_repair(text)
    result = send(host, port, text, ack_timeout=timeout)
    result.parameters["loose_fixes"] = fixes
    save_test_run(ctx.db, **result.evidence())
    return result


def _template_text(name: str, ae_title: str) -> str:
    from pacs_console.core.hl7.templates import render, test_patient_fields

    return render(name, test_patient_fields(), sending_app=ae_title)


class Hl7Section(RunTab):
    """Send a message (template or pasted) and read the ACK; run a listener that answers."""

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(ctx, panel, parent)
        from pacs_console.core.hl7.templates import TEMPLATES

        self.host = QLineEdit("127.0.0.1")
        self.port = port_box("hl7-port", 2575, minimum=1)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(0.1, 600)
        self.timeout.setValue(30)
        self.timeout.setSuffix(" s")
        self.template = QComboBox()
        for key, text in TEMPLATES.items():
            self.template.addItem(text, key)
        fill = QPushButton("Fill from template (test patient)")
        fill.clicked.connect(self.fill_template)
        self.loose = QCheckBox("Loose: repair pasted line endings")
        self.loose.setChecked(True)
        self.message = QPlainTextEdit()
        self.message.setObjectName("hl7-message")
        self.message.setPlaceholderText("Paste an HL7 v2 message or fill one from a template.")
        self.send_button = self.start_button_for("Send", self.send)
        self.result = output_box("hl7-result")
        form = form_rows((("Receiver", row((self.host, 2), self.port, "ACK timeout", self.timeout)),
                          ("Template", row((self.template, 1), fill))))
        # listener
        self.listen_port = port_box("hl7-listen-port", 2575)
        self.answer = QComboBox()
        self.answer.addItems(["AA", "AE", "AR", "CA", "CE", "CR", "none"])
        self.mask = QCheckBox("Mask patient fields")
        self.mask.setChecked(True)
        self.listen_button = QPushButton("Start listener")
        self.received = output_box("hl7-received")
        listen_row = row("Listen on port", self.listen_port, "answer", self.answer, self.mask,
                         self.listen_button, 1)
        send_row = row(self.loose, 1, self.send_button)
        column(self, form, (resizable(self.message, (send_row, self.result),
                                      (listen_row, self.received), stretch=(2, 1, 1)), 1))
        self.follow_events(self.show_received)
        self.switch = ServerSwitch(
            self.listen_button, self.listen_port, self.received, self._listen, "Stop listener",
            lambda exc: f"Cannot listen on port {self.listen_port.value()}: "
                        f"{getattr(exc, 'strerror', None) or exc}")

    def fill_template(self) -> None:
        self.message.setPlainText(_template_text(self.template.currentData(),
                                                 self.ctx.settings.ae_title).replace("\r", "\n"))

    def send(self) -> None:
        if self.worker is not None:
            return
        text = self.message.toPlainText()
        if not text.strip():
            self.fill_template()
            text = self.message.toPlainText()
        self.result.setPlainText("Sending…")
        self.launch(_send_and_save, self.ctx, self.host.text().strip(), self.port.value(), text,
                    self.timeout.value(), self.loose.isChecked(), on_result=self.show_result,
                    on_error=self.show_error)

    def show_error(self, exc: Exception) -> None:
        self.result.setPlainText(f"Failed: {exc}")

    def show_result(self, result) -> None:
        lines = [("OK  " if result.ok else "FAILED  ") + result.summary()]
        if result.ack is not None:
            lines.append(f"MSA-1 {result.ack.code}: {result.ack.meaning}")
            if result.ack.text:
                lines.append(f"MSA-3: {result.ack.text}")
            lines += [f"ERR: {e.line()}" + (f" -> {e.advice}" if e.advice else "")
                      for e in result.ack.errors]
        if result.diagnosis is not None:
            lines.append(result.diagnosis.text())
        if result.reply_hex:
            lines += ["Reply bytes:", result.reply_hex]
        for fix in result.parameters.get("loose_fixes", []):
            lines.append(f"loose: {fix}")
        self.result.setPlainText("\n".join(lines))
        self.run_saved.emit(result)

    listener = property(lambda self: self.switch.server, doc="The running HL7 listener")

    def _listen(self):
        from pacs_console.core.hl7.listener import Hl7Listener, ListenerOptions

        options = ListenerOptions(answer=self.answer.currentText(),
                                  mask_phi=self.mask.isChecked(),
                                  application=self.ctx.settings.ae_title)
        listener = Hl7Listener(self.listen_port.value(), options=options,
                               notify=self.queue).start()
        return listener, f"Listening on port {listener.port}, answering {options.answer}"

    def toggle_listener(self) -> None:
        self.switch.toggle()

    def stop_listener(self) -> None:
        self.switch.stop()

    def show_received(self, batch: list) -> None:
        for record in batch:
            self.received.appendPlainText(
                f"{record.received_at:%H:%M:%S} {record.peer} {record.message_type} "
                f"{record.control_id} -> {record.ack_code}")
            self.received.appendPlainText(record.text.replace("\r", "\n").rstrip())
            if record.framing_problems:
                self.received.appendPlainText("framing: " + "; ".join(record.framing_problems))

    def shutdown(self) -> None:
        self.stop_listener()
        self.bridge.stop()


class IntegrationTab(SectionsTab):
    """HL7, DICOMweb and Workflow sub-tabs; every result is also saved as a test run."""

    def __init__(self, ctx: Context, panel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from pacs_console.ui.testbench.integration_sections import DicomWebSection, WorkflowSection

        self.hl7 = self.add_section(Hl7Section(ctx, panel), "HL7 v2 / MLLP")
        self.dicomweb = self.add_section(DicomWebSection(ctx, panel), "DICOMweb")
        self.workflow = self.add_section(WorkflowSection(ctx, panel), "Modality workflow")

    def shutdown(self) -> None:
        for section in (self.hl7, self.workflow):
            section.shutdown()


def pretty(data) -> str:
    from pacs_console.core.dicom.ops.results import json_safe

    return json.dumps(json_safe(data), indent=2, ensure_ascii=False)
