"""Modal dialogs in the acceptance suite: what a handler sees, ready-made handlers, the driver.

Used through ``Console.dialogs`` (see window.py); kept apart so window.py stays readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

if TYPE_CHECKING:
    from tests.ui.acceptance.window import Console

DIALOG_DEADLINE_S = 20.0


def plain(text: str) -> str:
    """A label as a person reads it: '&' mnemonic markers dropped, '&&' kept as '&'."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


# ---- dialogs ------------------------------------------------------------------------------------

@dataclass
class Dialog:
    """A modal dialog on screen, as a handler sees it."""

    widget: QWidget
    console: Console
    title: str = ""
    text: str = ""

    def find(self, cls=QWidget, name: str | None = None) -> QWidget:
        return self.console.find(cls, name, self.widget)

    def button(self, text: str) -> QAbstractButton:
        return self.console.button(text, self.widget)

    def click(self, text: str) -> None:
        self.console.click(self.button(text))

    def type_into(self, target: str | QWidget, text: str, enter: bool = False) -> None:
        widget = self.find(QWidget, target) if isinstance(target, str) else target
        self.console.type_into(widget, text, enter=enter)

    def labels(self) -> list[str]:
        return [label.text() for label in self.widget.findChildren(QLabel)
                if label.isVisible() and label.text()]


def press(text: str) -> Callable[[Dialog], None]:
    """Handler: click the dialog's button labelled ``text`` (e.g. "OK", "Yes", "Cancel")."""
    def handler(dialog: Dialog) -> None:
        dialog.click(text)
    return handler


def choose_file(path: str | Path) -> Callable[[Dialog], None]:
    """Handler for a Qt (non-native) file dialog: type the path in the file-name box, Enter."""
    def handler(dialog: Dialog) -> None:
        box = dialog.widget
        assert isinstance(box, QFileDialog), f"expected a file dialog, got {dialog.title!r}"
        edit = dialog.find(QLineEdit, "fileNameEdit")
        # The box's completion list is a popup that offscreen Qt lets take the focus; the dialog
        # then rewrites an unfocused box with its list selection while a person types. No list.
        edit.setCompleter(None)
        dialog.console.type_into(edit, str(path))
        assert edit.text() == str(path), f"typed {str(path)!r}, the box reads {edit.text()!r}"
        QTest.keyClick(edit, Qt.Key.Key_Return)
        QTest.qWait(1)
        if box.fileMode() == QFileDialog.FileMode.Directory and Path(path).is_dir():
            # Enter on a folder's path opens that folder; its "Choose" button then picks it.
            dialog.console.wait_for(lambda: not box.isVisible() or Path(
                box.directory().absolutePath()) == Path(path).resolve(), 5, "folder opened")
            if box.isVisible():
                dialog.console.click(dialog.find(QDialogButtonBox).buttons()[0])
    return handler


def fill_node(ok: bool = True, **fields: str | int) -> Callable[[Dialog], None]:
    """Handler for the Add/Edit node dialog: type each given field (by its label), then OK."""
    labels = {"name": "Name", "ae_title": "AE title", "host": "Host", "port": "Port",
              "tags": "Tags", "notes": "Notes"}

    def handler(dialog: Dialog) -> None:
        for key, value in fields.items():
            editor = dialog.console.field_for_label(dialog.widget, labels[key])
            dialog.console.type_into(editor, str(value))
        if ok:
            dialog.click("OK")
    return handler


class _DialogDriver:
    """Polls for new modal widgets and hands each to the next handler, on the GUI thread."""

    def __init__(self, console: Console, handlers: list[Callable[[Dialog], None]]) -> None:
        self.console = console
        self.handlers = list(handlers)
        self.seen: list[Dialog] = []
        self.errors: list[BaseException] = []
        self.handled: set[int] = set()
        self.current: tuple[QWidget, float] | None = None
        self.timer = QTimer()
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.poll)

    def poll(self) -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or not modal.isVisible():
            return
        if id(modal) in self.handled:
            if self.current and self.current[0] is modal and time.monotonic() > self.current[1]:
                self.errors.append(AssertionError(
                    f"dialog {modal.windowTitle()!r} still open {DIALOG_DEADLINE_S:g} s after "
                    f"its handler ran: {self._text(modal)!r}"))
                modal.close() if not isinstance(modal, QDialog) else modal.reject()
            return
        self.handled.add(id(modal))
        dialog = Dialog(modal, self.console, modal.windowTitle(), self._text(modal))
        self.seen.append(dialog)
        if not self.handlers:
            self.errors.append(AssertionError(f"unexpected dialog {dialog.title!r}: {dialog.text!r}"))
            modal.close() if not isinstance(modal, QDialog) else modal.reject()
            return
        handler = self.handlers.pop(0)
        self.current = (modal, time.monotonic() + DIALOG_DEADLINE_S)
        self.timer.stop()  # a handler may spin the event loop (waits): no re-entry
        try:
            # A window manager gives a new dialog the focus; offscreen Qt needs telling. Without
            # it the file dialog, seeing its file-name box unfocused, rewrites it as it loads.
            modal.activateWindow()
            self.console.wait_for(modal.isActiveWindow, 5, f"dialog {dialog.title!r} active")
            handler(dialog)
        except BaseException as exc:  # noqa: BLE001 - re-raised when the block ends
            self.errors.append(exc)
            if modal.isVisible():
                modal.close() if not isinstance(modal, QDialog) else modal.reject()
        finally:
            self.timer.start()

    @staticmethod
    def _text(modal: QWidget) -> str:
        if isinstance(modal, QMessageBox):
            return "\n".join(filter(None, [modal.text(), modal.informativeText()]))
        return ""
