"""Add or edit one address-book node, with inline validation and a host check off the GUI thread."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from pacs_console.core.addressbook import validate_node
from pacs_console.core.db.nodes import TAGS, NodeRecord
from pacs_console.ui import workers
from pacs_console.ui.widgets.panel_parts import column, dialog_buttons, form_rows


class NodeDialog(QDialog):
    """``values()`` returns the fields for core.db.nodes.save_node/update_node once accepted."""

    def __init__(self, node: NodeRecord | None = None, taken_names: set[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit node" if node else "Add node")
        self.setMinimumWidth(520)  # long values and hints stay readable
        self.taken = (taken_names or set()) - ({node.name} if node else set())
        self.name = QLineEdit(node.name if node else "")
        self.ae_title = QLineEdit(node.ae_title if node else "")
        self.ae_title.setMaxLength(16)
        self.host = QLineEdit(node.host if node else "")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(node.port if node else 104)
        self.tags = QLineEdit(node.tags if node else "")
        self.tags.setPlaceholderText(", ".join(TAGS))
        self.notes = QPlainTextEdit(node.notes if node else "")
        self.notes.setMaximumHeight(70)
        self.tls = QCheckBox("Use DICOM TLS")
        self.tls.setChecked(bool(node and node.tls))
        self.ca_file = QLineEdit(node.tls_ca_file if node else "")
        self.ca_file.setPlaceholderText("CA certificate (PEM) that signed the node's certificate")
        self.cert_file = QLineEdit(node.tls_cert_file if node else "")
        self.cert_file.setPlaceholderText("optional client certificate (PEM)")
        self.key_file = QLineEdit(node.tls_key_file if node else "")
        self.key_file.setPlaceholderText("optional client key (PEM)")
        self.server_name = QLineEdit(node.tls_server_name if node else "")
        self.server_name.setPlaceholderText("name in the certificate, if not the host")
        self.message = QLabel()
        self.message.setObjectName("node-dialog-message")
        self.message.setWordWrap(True)
        form = form_rows((("Name", self.name), ("AE title", self.ae_title), ("Host", self.host),
                          ("Port", self.port), ("Tags", self.tags), ("Notes", self.notes),
                          ("", self.tls), ("CA file", self.ca_file),
                          ("Client certificate", self.cert_file), ("Client key", self.key_file),
                          ("TLS server name", self.server_name)))
        self.buttons = dialog_buttons(QDialogButtonBox.StandardButton.Ok |
                                      QDialogButtonBox.StandardButton.Cancel,
                                      self.check_and_accept, self.reject)
        column(self, form, self.message, self.buttons)
        for edit in (self.name, self.ae_title, self.host):
            edit.textChanged.connect(self.validate)
        self.port.valueChanged.connect(self.validate)
        self.tls.toggled.connect(self._tls_toggled)
        self._tls_toggled(self.tls.isChecked())
        self.validate()

    def _tls_toggled(self, on: bool) -> None:
        for widget in (self.ca_file, self.cert_file, self.key_file, self.server_name):
            widget.setEnabled(on)

    def values(self) -> dict:
        return {"name": self.name.text().strip(), "ae_title": self.ae_title.text(),
                "host": self.host.text().strip(), "port": self.port.value(),
                "tags": self.tags.text().strip(), "notes": self.notes.toPlainText().strip(),
                "tls": self.tls.isChecked(), "tls_ca_file": self.ca_file.text().strip(),
                "tls_cert_file": self.cert_file.text().strip(),
                "tls_key_file": self.key_file.text().strip(),
                "tls_server_name": self.server_name.text().strip()}

    def validate(self, *_args, check_resolves: bool = False) -> bool:
        v = self.values()
        errors, warnings = validate_node(v["name"], v["ae_title"], v["host"], v["port"],
                                         check_resolves=check_resolves, taken_names=self.taken)
        self._show(errors, warnings)
        return not errors

    def _show(self, errors: dict, warnings: dict) -> None:
        lines = [f"<span style='color:#c62828'>{msg}</span>" for msg in errors.values()]
        lines += [f"<span style='color:#b26a00'>{msg}</span>" for msg in warnings.values()]
        self.message.setText("<br>".join(lines))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not errors)

    def check_and_accept(self) -> None:
        """Resolving the host can take seconds on a dead DNS, so it runs on a worker."""
        if not self.validate():
            return
        v = self.values()
        self.buttons.setEnabled(False)
        self.message.setText("Checking that the host resolves…")

        def done(result) -> None:
            errors, warnings = result
            self.buttons.setEnabled(True)
            self._show(errors, warnings)
            if not errors:
                self.accept()

        workers.start(validate_node, v["name"], v["ae_title"], v["host"], v["port"],
                      check_resolves=True, taken_names=self.taken, on_result=done)
