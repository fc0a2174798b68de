"""The real main window at 1366×768 on a fresh data folder with the demo PACS, and the few
motions a person makes: click what is visible, type into it, read what it shows.

Nothing here calls a slot or a panel method: widgets are found the way an eye finds them (by
their text, their label in a form, their object name) and driven with QTest mouse and keys.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QTableView,
    QTabWidget,
    QWidget,
)

from tests.ui.acceptance.window import type_text

ROOT = Path(__file__).resolve().parents[3]
SCREEN = (1366, 768)
LEFT = Qt.MouseButton.LeftButton
# The offscreen platform cannot raise windows or grab the keyboard for a drop-down; it says so.
OFFSCREEN_NOTES = pytest.mark.qt_log_ignore("This plugin does not support", extend=True)


def _plain(text: str) -> str:
    return text.replace("&", "").strip()


class Person:
    """One engineer at the window."""

    def __init__(self, qtbot, window, data_dir: Path) -> None:
        self.qtbot, self.window, self.data_dir = qtbot, window, data_dir

    # -- finding ---------------------------------------------------------------------------

    def visible(self, root: QWidget, kind, predicate=lambda w: True) -> list:
        return [w for w in root.findChildren(kind) if w.isVisible() and predicate(w)]

    def button(self, text: str, root: QWidget | None = None) -> QAbstractButton:
        root = root or self.window
        found = self.visible(root, QAbstractButton, lambda b: _plain(b.text()) == text)
        assert found, f"no visible button {text!r}; visible: " + ", ".join(
            sorted({_plain(b.text()) for b in self.visible(root, QAbstractButton)}))
        return found[0]

    def named(self, name: str, kind=QWidget, root: QWidget | None = None):
        found = self.visible(root or self.window, kind, lambda w: w.objectName() == name)
        assert found, f"no visible {kind.__name__} named {name!r}"
        return found[0]

    def field(self, root: QWidget, label: str) -> QWidget:
        """The field a form shows beside ``label``."""
        for form in root.findChildren(QFormLayout):
            for row in range(form.rowCount()):
                item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if item and isinstance(item.widget(), QLabel) and \
                        _plain(item.widget().text()) == label:
                    widget = form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
                    if widget is not None and widget.isVisible():
                        return widget
        raise AssertionError(f"no visible field labelled {label!r}")

    def labels(self, root: QWidget | None = None) -> str:
        """Every visible label's text, one per line: what a person reads."""
        return "\n".join(w.text() for w in self.visible(root or self.window, QLabel))

    def modal(self, timeout: int = 10000) -> QWidget:
        self.qtbot.waitUntil(lambda: QApplication.activeModalWidget() is not None,
                             timeout=timeout)
        return QApplication.activeModalWidget()

    def no_modal(self, timeout: int = 10000) -> None:
        self.qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=timeout)

    # -- motions ---------------------------------------------------------------------------

    def click(self, widget: QWidget, pos: QPoint | None = None) -> None:
        assert widget.isVisible(), f"{widget!r} is not visible"
        # A person waits for a field that is greyed out while its content loads.
        self.qtbot.waitUntil(widget.isEnabled, timeout=10000)
        if pos is None:
            QTest.mouseClick(widget, LEFT)
        else:
            QTest.mouseClick(widget, LEFT, Qt.KeyboardModifier.NoModifier, pos)

    def press(self, text: str, root: QWidget | None = None) -> None:
        self.click(self.button(text, root))

    def type_into(self, widget: QWidget, text: str, *, clear: bool = True) -> None:
        self.click(widget)
        if clear:
            QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
            QTest.keyClick(widget, Qt.Key.Key_Delete)
        type_text(widget, text)  # non-ASCII as an input method commits it

    def key(self, widget: QWidget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(widget, key, modifier)

    def go_to(self, panel: str) -> None:
        """Click the panel's name in the navigation list."""
        nav = self.named("navigation", QListWidget)
        item = nav.findItems(panel, Qt.MatchFlag.MatchExactly)[0]
        self.click(nav.viewport(), nav.visualItemRect(item).center())
        self.qtbot.waitUntil(lambda: item.isSelected())

    def tab(self, tabs: QTabWidget, title: str) -> None:
        bar = tabs.tabBar()
        index = next(i for i in range(bar.count()) if _plain(bar.tabText(i)) == title)
        self.click(bar, bar.tabRect(index).center())
        self.qtbot.waitUntil(lambda: tabs.currentIndex() == index)

    def tab_widget_with(self, title: str) -> QTabWidget:
        found = self.visible(self.window, QTabWidget, lambda t: any(
            _plain(t.tabText(i)) == title for i in range(t.count())))
        assert found, f"no visible tabs with {title!r}"
        return found[0]

    def choose(self, combo: QComboBox, text: str) -> None:
        """Open the drop-down, move to the entry with the arrow keys, press Enter."""
        self.click(combo)
        view = combo.view()
        self.qtbot.waitUntil(view.isVisible)
        index = combo.findText(text, Qt.MatchFlag.MatchContains)
        assert index >= 0, f"{text!r} not among {[combo.itemText(i) for i in range(combo.count())]}"
        steps = index - view.currentIndex().row()
        for _ in range(abs(steps)):
            QTest.keyClick(view, Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up)
        QTest.keyClick(view, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: not view.isVisible())
        assert text in combo.currentText(), combo.currentText()

    def click_row(self, view: QAbstractItemView, row: int, column: int = 0) -> None:
        index = view.model().index(row, column)
        view.scrollTo(index)
        self.click(view.viewport(), view.visualRect(index).center())

    # -- reading ---------------------------------------------------------------------------

    @staticmethod
    def rows(view: QAbstractItemView) -> list[list[str]]:
        model = view.model()
        return [[str(model.index(r, c).data() or "") for c in range(model.columnCount())]
                for r in range(model.rowCount())]

    def wait_text(self, read, wanted: str, timeout: int = 10000) -> None:
        try:
            self.qtbot.waitUntil(lambda: wanted in read(), timeout=timeout)
        except Exception:
            raise AssertionError(f"{wanted!r} never appeared in: {read()!r}") from None

    def pick_node(self, name: str = "Demo PACS") -> None:
        """Click the node's row in the Tests panel's address book, once it is listed."""
        self.go_to("Tests")
        book = self.visible(self.window, QTableView, lambda t: any(
            t.model().headerData(c, Qt.Orientation.Horizontal) == "AE title"
            for c in range(t.model().columnCount())))[0]
        self.qtbot.waitUntil(lambda: any(r[0] == name for r in self.rows(book)), timeout=15000)
        self.click_row(book, next(i for i, r in enumerate(self.rows(book)) if r[0] == name))

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """The command line in another process, on the same data folder."""
        result = subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir",
                                 str(self.data_dir), *args], capture_output=True, text=True,
                                timeout=timeout, cwd=ROOT, env=dict(os.environ))
        assert result.returncode == 0, result.stderr or result.stdout
        return result


def within(seconds: float, check) -> float:
    """Keep the event loop turning until ``check()`` holds; how long it took (or fail)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        QApplication.processEvents()
        if check():
            return time.monotonic() - start
        QTest.qWait(20)
    raise AssertionError(f"not seen within {seconds} s")
