"""Settings dialog: edits core Settings with inline validation messages under each field."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pacs_console.core.profile import STORED
from pacs_console.core.settings import Settings
from pacs_console.ui.widgets.panel_parts import dialog_buttons

TEXT_FIELDS = (("engineer_name", "Engineer name"), ("engineer_id", "Engineer ID"),
               ("organisation", "Organisation"), ("engineer_role", "Role"),
               ("engineer_email", "Email"), ("engineer_phone", "Phone"),
               ("organisation_logo", "Organisation logo (PNG/JPEG file)"),
               ("default_site", "Default site"),
               ("ae_title", "Console AE title"),
               ("scp_bind", "Storage SCP listens on (IP address; 0.0.0.0 = all)"))
INT_FIELDS = (("scp_port", "Storage SCP port (0 = any free port)", 0, 65535),
              ("scan_rate", "Scan rate (attempts/s)", 1, 5000),
              ("scan_concurrency", "Scan concurrency", 1, 512),
              ("max_pdu", "Maximum PDU received (bytes)", 0, 1 << 26),
              ("scp_max_associations", "Storage SCP: associations at once", 0, 1024),
              ("scp_per_address", "Storage SCP: associations per calling address", 0, 1024),
              ("scp_max_in_flight_mb", "Storage SCP: data in memory at once (MB)", 0, 1 << 20),
              ("scp_min_free_mb", "Storage SCP: refuse below this free disk (MB)", 0, 1 << 21))
FLOAT_FIELDS = (("connect_timeout", "Connect timeout (s)"), ("acse_timeout", "Association timeout (s)"),
                ("dimse_timeout", "DIMSE timeout (s)"), ("network_timeout", "Network timeout (s)"),
                ("scan_timeout", "Scan per-host timeout (s)"),
                ("scp_idle_timeout", "Storage SCP: idle association timeout (s)"))
CHECK_FIELDS = (("scp_accept_any", "Storage SCP accepts any calling AE (not only the address "
                 "book's)"),)
# Editors named by the settings file's keys; these hold the engineer profile's fields.
PROFILE_EDITORS = {stored: name for name, stored in STORED.items()}


def _current(settings: Settings, name: str):
    if name in PROFILE_EDITORS:
        return getattr(settings.profile, PROFILE_EDITORS[name])
    return getattr(settings, name)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None, *,
                 certificate: str = "", scp_listening: int = 0) -> None:
        """``scp_listening``: the port the Storage SCP listens on now (0: not running)."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)  # long values and hints stay readable
        self.original = settings
        self.editors: dict[str, QWidget] = {}
        self.messages: dict[str, QLabel] = {}
        form = QFormLayout()
        for name, label in TEXT_FIELDS:
            edit = QLineEdit(_current(settings, name))
            edit.setObjectName(name)
            edit.textChanged.connect(self.validate)
            self._add_row(form, name, label, edit)
        for name, label, low, high in INT_FIELDS:
            spin = QSpinBox()
            spin.setRange(low, high)
            spin.setValue(getattr(settings, name))
            spin.setObjectName(name)
            spin.valueChanged.connect(self.validate)
            self._add_row(form, name, label, spin)
        self.editors["scp_port"].setSpecialValueText("Any free port")
        self.listening = QLabel(f"Listening now on port {scp_listening}: the port to configure "
                                "on the remote PACS" if scp_listening else "Not listening now")
        self.listening.setObjectName("scp_port-listening")
        self.listening.setWordWrap(True)
        self.editors["scp_port"].parentWidget().layout().addWidget(self.listening)
        for name, label in FLOAT_FIELDS:
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 3600.0)
            spin.setDecimals(1)
            spin.setValue(getattr(settings, name))
            spin.setObjectName(name)
            spin.valueChanged.connect(self.validate)
            self._add_row(form, name, label, spin)
        for name, label in CHECK_FIELDS:
            box = QCheckBox(label)
            box.setChecked(bool(getattr(settings, name)))
            box.setObjectName(name)
            box.toggled.connect(self.validate)
            self._add_row(form, name, "", box)
        self.certificate = QLabel(certificate or "Made from your profile on your first signing")
        self.certificate.setObjectName("signing-certificate")
        self.certificate.setWordWrap(True)
        self.certificate.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Signing certificate", self.certificate)
        self.buttons = dialog_buttons(QDialogButtonBox.StandardButton.Ok |
                                      QDialogButtonBox.StandardButton.Cancel,
                                      self.accept, self.reject)
        # Thirty fields are taller than a 1366×768 laptop: they scroll, the buttons stay put.
        fields = QWidget()
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setObjectName("settings-fields")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(fields)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.validate()
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen())
        room = screen.availableGeometry().height() - 80 if screen is not None else 700
        self.resize(fields.sizeHint().width() + 40,
                    min(fields.sizeHint().height() + self.buttons.sizeHint().height() + 40, room))

    def _add_row(self, form: QFormLayout, name: str, label: str, editor: QWidget) -> None:
        message = QLabel()
        message.setObjectName(f"{name}-message")
        message.setWordWrap(True)
        message.hide()
        box = QVBoxLayout()
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(editor)
        box.addWidget(message)
        holder = QWidget()
        holder.setLayout(box)
        form.addRow(label, holder)
        self.editors[name], self.messages[name] = editor, message

    def value(self) -> Settings:
        changes, profile = {}, {}
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                changes[name] = editor.isChecked()
            elif name in PROFILE_EDITORS:
                profile[PROFILE_EDITORS[name]] = editor.text()
            else:
                changes[name] = editor.text() if isinstance(editor, QLineEdit) else editor.value()
        return replace(self.original, profile=replace(self.original.profile, **profile), **changes)

    def validate(self) -> bool:
        candidate = self.value()
        errors, warnings = candidate.errors(), candidate.warnings()
        for name, label in self.messages.items():
            if name in errors:
                label.setText(errors[name])
                label.setStyleSheet("color: #c62828;")
                label.show()
            elif name in warnings:
                label.setText(warnings[name])
                label.setStyleSheet("color: #b26a00;")
                label.show()
            else:
                label.hide()
        ok = not errors
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)
        return ok
