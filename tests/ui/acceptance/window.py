"""The real console window, driven like a person drives it: the ``console`` fixture and its helpers.

``console`` builds the application with ``pacs_console/app.py`` ``start_window``, as ``run_gui``
does with ``--demo`` (a Context on a fresh data folder, the real MainWindow, the embedded demo
PACS started on a worker, the console's Storage SCP started once the demo answers), at 1366x768 and
waits until the status bar shows the demo running and "Demo PACS" is listed in the address book.
The demo and the Storage SCP take OS-assigned ports when they bind (the Storage SCP's port
setting is "any free port", 0, written to the fresh folder's settings file first, as an engineer
would set it); ``scp_port_shown(console)`` reads the port it listens on from the status bar.

A test then uses only what a person can: mouse clicks and keys on visible widgets, and reads
only what a person can see. Never call a slot or a panel method from a test
(tests/ui/test_gui_rules.py reads every file here and fails on such calls).

API (all on the ``Console`` object the fixture yields)::

    console.window / console.ctx / console.demo     the real objects (read, do not drive)
    console.panel("Tests")                          a panel widget, to find children in
    console.choose_nav("Viewer")                    click the navigation item's visual rect
    console.find(QPushButton, "objectName", parent) one visible child by objectName
    console.button("Search", parent)                one visible QAbstractButton by text or
                                                    objectName ("&" mnemonics ignored)
    console.click(widget, pos=None, button=Left)    mouse click (waits until visible+enabled)
    console.click_button("Search", parent)          button() then click()
    console.double_click(widget, pos)
    console.type_into(widget, "text", enter=False) click, select all, type (line/spin/plain edits;
                                                    "Abɛna": non-ASCII as an input method commits it)
    console.key(widget, Qt.Key_Down, modifiers)     one key press
    console.choose_tab(tab_widget, "Query")         click the tab's rect in the tab bar
    console.choose_combo(combo, "SERIES")           click to open the popup, arrow keys, Enter
    console.click_row(view, row, column=0)          click a table/tree/list row's visual rect
    console.drag(widget, start, end, button)        press, move, release (window/level etc.)
    console.wheel(widget, steps)                    mouse-wheel steps (positive = up)
    console.wait_for(predicate, timeout=10, what="")  process events until predicate() is truthy
    console.settle(seconds)                         let the window run a moment
    console.wait_text(label, "substring", timeout)  wait until a widget's visible text contains it
    console.text(widget)                            what a person reads on a label/button/edit/...
    console.rows(view)                              the visible table's rows as lists of strings
    console.status_text()                           status bar message + every permanent widget
    console.menu("File", "Settings…")               open a menu by clicking the menu bar, click item
    console.activate()                              bring the window to the front (for shortcuts)
    console.menu_by_keys("F", "S")                  Alt+F, then the item's mnemonic letter
    console.field_for_label(parent, "Host")         the editor beside a form label

Modal dialogs (``exec()`` blocks inside the click that opened them) are handled by arming a
handler *before* the click::

    with console.dialogs(handler1, handler2) as seen:
        console.click_button("Import…", tests)
    seen[0].title, seen[0].text                     what each dialog showed

Each handler gets the next new ``QApplication.activeModalWidget()`` (a ``Dialog`` helper with
``.widget``, ``.title``, ``.text``, ``.click("OK")``, ``.type_into(objectName_or_widget, text)``,
``.find(cls, name)``, ``.labels()``) and must end it like a person would (click a button).
Ready-made handlers: ``press("OK")``, ``choose_file(path)`` (types the path into a Qt file
dialog's file-name box and presses Enter; folders too), ``fill_node(name=..., ae_title=...,
host=..., port=...)`` for the Add/Edit node dialog. Each dialog is made the active window
before its handler runs, as a window manager would.

A dialog still open 20 s after its handler ran is rejected and the block fails, so a broken
dialog fails the test instead of hanging it. Dialog handling lives in ``dialogs.py`` and is
re-exported here.

``peers.py`` has ``SlowPeer``, a real loopback DICOM peer slow enough to press Cancel on
(C-FIND, C-GET, C-STORE). The demo's seeded archive is generated once per session (conftest
``_demo_archive``); the offscreen screen is 1366x768 (conftest).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from tests.ui.acceptance.dialogs import (  # noqa: F401 - part of this module's API
    DIALOG_DEADLINE_S,
    Dialog,
    _DialogDriver,
    choose_file,
    fill_node,
    plain,
    press,
)

WIDTH, HEIGHT = 1366, 768
LEFT = Qt.MouseButton.LeftButton


def free_port() -> int:
    """An OS-assigned loopback port (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` the way it arrives from a person: letters a keyboard has
    as key presses, and the rest (ɛ, ɔ, Ŋ, é ...) as an input method delivers them: a
    QInputMethodEvent whose commit string is the composed text, sent to the focused field (a
    Ghanaian keyboard layout or an IME does exactly that). QTest's key events carry no text
    beyond what a key produces, so ``keyClicks("Abɛna")`` would lose the "ɛ"."""
    from PySide6.QtGui import QInputMethodEvent

    start = 0
    while start < len(text):
        ascii_run = text[start].isascii()
        end = start
        while end < len(text) and text[end].isascii() == ascii_run:
            end += 1
        if ascii_run:
            QTest.keyClicks(widget, text[start:end])
        else:
            event = QInputMethodEvent("", [])
            event.setCommitString(text[start:end])
            QApplication.sendEvent(widget, event)
        start = end


# ---- the console --------------------------------------------------------------------------------

@dataclass
class Console:
    window: object
    ctx: object
    demo: object = None
    data_dir: Path = field(default_factory=Path)

    # finding -----------------------------------------------------------------------------------
    def panel(self, name: str) -> QWidget:
        return self.window.panels[name]

    def find(self, cls=QWidget, name: str | None = None, parent: QWidget | None = None,
             visible: bool = True) -> QWidget:
        parent = parent or self.window
        found = [w for w in parent.findChildren(cls, name) if not visible or w.isVisible()] \
            if name else [w for w in parent.findChildren(cls) if not visible or w.isVisible()]
        assert found, f"no visible {cls.__name__} named {name!r} in {parent.objectName() or parent}"
        return found[0]

    def buttons(self, parent: QWidget | None = None) -> list[QAbstractButton]:
        return [b for b in (parent or self.window).findChildren(QAbstractButton) if b.isVisible()]

    def button(self, text: str, parent: QWidget | None = None) -> QAbstractButton:
        """The visible button whose text (without '&') or objectName is ``text``."""
        candidates = [b for b in self.buttons(parent)
                      if plain(b.text()) == text or b.objectName() == text]
        assert candidates, (f"no visible button {text!r}; visible: "
                            f"{sorted({plain(b.text()) for b in self.buttons(parent)})}")
        return candidates[0]

    def field_for_label(self, parent: QWidget, label: str) -> QWidget:
        """The editor a form puts beside the visible label ``label`` (QLabel.buddy or layout)."""
        from PySide6.QtWidgets import QFormLayout

        for form in parent.findChildren(QFormLayout):
            for row in range(form.rowCount()):
                item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                if item and item.widget() and plain(item.widget().text()) == label:
                    return form.itemAt(row, QFormLayout.ItemRole.FieldRole).widget()
        raise AssertionError(f"no form field labelled {label!r}")

    # reading -----------------------------------------------------------------------------------
    @staticmethod
    def text(widget: QWidget) -> str:
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)):
            return widget.text()
        if isinstance(widget, (QPlainTextEdit, QTextEdit)):
            return widget.toPlainText()
        if isinstance(widget, QComboBox):
            return widget.currentText()
        if isinstance(widget, QAbstractSpinBox):
            return widget.text()
        return widget.windowTitle()

    def status_text(self) -> str:
        bar = self.window.statusBar()
        parts = [bar.currentMessage()]
        for child in bar.findChildren(QWidget):
            if child.isVisible() and isinstance(child, (QLabel, QAbstractButton)):
                parts.append(child.text())
        return " | ".join(p for p in parts if p)

    @staticmethod
    def rows(view: QAbstractItemView) -> list[list[str]]:
        model = view.model()
        return [[str(model.index(r, c).data() or "") for c in range(model.columnCount())]
                for r in range(model.rowCount())]

    # waiting -----------------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0,
                 what: str = "", observe: Callable[[], object] | None = None):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                seen = f"; saw {observe()!r}" if observe else ""
                raise AssertionError(f"timed out after {timeout:g} s waiting for "
                                     f"{what or predicate}{seen}")
            QTest.qWait(20)

    @staticmethod
    def settle(seconds: float) -> None:
        """Let the window run for a moment (layouts, repaints), as a person glances at it."""
        QTest.qWait(int(seconds * 1000))

    def wait_text(self, widget: QWidget, part: str, timeout: float = 10.0) -> str:
        return self.wait_for(lambda: part in self.text(widget) and self.text(widget), timeout,
                             f"{part!r} in {widget.objectName() or type(widget).__name__}",
                             observe=lambda: self.text(widget))

    # mouse and keys ----------------------------------------------------------------------------
    def _ready(self, widget: QWidget) -> None:
        self.wait_for(lambda: widget.isVisible() and widget.isEnabled(), 10,
                      f"{self.text(widget) or widget.objectName() or widget} visible and enabled")

    def click(self, widget: QWidget, pos: QPoint | None = None, button=LEFT,
              modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        self._ready(widget)
        QTest.mouseClick(widget, button, modifiers, pos or widget.rect().center())
        QTest.qWait(1)

    def double_click(self, widget: QWidget, pos: QPoint | None = None) -> None:
        self._ready(widget)
        pos = pos or widget.rect().center()
        QTest.mouseClick(widget, LEFT, Qt.KeyboardModifier.NoModifier, pos)
        QTest.mouseDClick(widget, LEFT, Qt.KeyboardModifier.NoModifier, pos)
        QTest.qWait(1)

    def click_button(self, text: str, parent: QWidget | None = None) -> None:
        self.click(self.button(text, parent))

    def key(self, widget: QWidget, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        QTest.keyClick(widget, key, modifiers)
        QTest.qWait(1)

    def type_into(self, widget: QWidget, text: str, enter: bool = False) -> None:
        """Click into the field, select everything, type ``text`` over it (Enter if asked)."""
        self._ready(widget)
        target = widget.lineEdit() if isinstance(widget, (QAbstractSpinBox, QComboBox)) \
            and widget.lineEdit() is not None else widget
        if isinstance(widget, (QPlainTextEdit, QTextEdit)):
            target = widget.viewport()
        QTest.mouseClick(target, LEFT, Qt.KeyboardModifier.NoModifier, target.rect().center())
        if widget.window().isActiveWindow():  # a person waits for the caret before typing
            self.wait_for(lambda: widget.hasFocus() or widget.isAncestorOf(
                QApplication.focusWidget()), 2, "the field focused")
        # Keys go to the field itself: under load a dialog may not be the active window yet, and
        # keys sent "to the focus" could land on the button that opened it (Space clicks it).
        keys = widget.lineEdit() if isinstance(widget, QComboBox) and widget.lineEdit() else widget
        QTest.keyClick(keys, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        if text:
            type_text(keys, text)  # non-ASCII as an input method commits it
        else:
            QTest.keyClick(keys, Qt.Key.Key_Delete)
        if enter:
            QTest.keyClick(keys, Qt.Key.Key_Return)
        QTest.qWait(1)

    def choose_tab(self, tabs: QTabWidget, title: str) -> None:
        bar = tabs.tabBar()
        titles = [plain(bar.tabText(i)) for i in range(bar.count())]
        assert title in titles, f"no tab {title!r}: {titles}"
        self.click(bar, bar.tabRect(titles.index(title)).center())
        self.wait_for(lambda: plain(bar.tabText(tabs.currentIndex())) == title, 5,
                      f"tab {title!r} shown")

    def choose_combo(self, combo: QComboBox, text: str) -> None:
        """Open the combo's popup with a click, walk to ``text`` with the arrow keys, Enter."""
        index = combo.findText(text)
        assert index >= 0, f"{text!r} not offered: {[combo.itemText(i) for i in range(combo.count())]}"
        self.click(combo)
        view = combo.view()
        self.wait_for(lambda: view.isVisible(), 5, "combo popup open")
        current = view.currentIndex().row() if view.currentIndex().isValid() else combo.currentIndex()
        step = Qt.Key.Key_Down if index >= current else Qt.Key.Key_Up
        for _ in range(abs(index - current)):
            QTest.keyClick(view, step)
        QTest.keyClick(view, Qt.Key.Key_Return)
        self.wait_for(lambda: not view.isVisible() and combo.currentText() == text, 5,
                      f"{text!r} chosen", observe=combo.currentText)

    def click_row(self, view: QAbstractItemView, row: int, column: int = 0,
                  double: bool = False) -> None:
        index = view.model().index(row, column)
        assert index.isValid(), f"no row {row} (rows: {view.model().rowCount()})"
        view.scrollTo(index)  # a person scrolls to the row first
        rect = view.visualRect(index)
        (self.double_click if double else self.click)(view.viewport(), rect.center())

    def drag(self, widget: QWidget, start: QPoint, end: QPoint, button=LEFT, steps: int = 8) -> None:
        self._ready(widget)
        QTest.mousePress(widget, button, Qt.KeyboardModifier.NoModifier, start)
        for i in range(1, steps + 1):
            point = start + (end - start) * i / steps
            _send_move(widget, point, button)
            QTest.qWait(5)
        QTest.mouseRelease(widget, button, Qt.KeyboardModifier.NoModifier, end)
        QTest.qWait(1)

    def wheel(self, widget: QWidget, steps: int) -> None:
        self._ready(widget)
        center = QPointF(widget.rect().center())
        for _ in range(abs(steps)):
            event = QWheelEvent(center, QPointF(widget.mapToGlobal(widget.rect().center())),
                                QPoint(0, 0), QPoint(0, 120 if steps > 0 else -120),
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                Qt.ScrollPhase.NoScrollPhase, False)
            QApplication.sendEvent(widget, event)
            QTest.qWait(5)

    # navigation and menus ----------------------------------------------------------------------
    def choose_nav(self, name: str) -> QWidget:
        nav = self.window.nav
        items = nav.findItems(name, Qt.MatchFlag.MatchExactly)
        assert items, f"no navigation item {name!r}"
        self.click(nav.viewport(), nav.visualItemRect(items[0]).center())
        panel = self.panel(name)
        self.wait_for(panel.isVisible, 5, f"panel {name} shown")
        return panel

    def _menu_action(self, title: str):
        bar = self.window.menuBar()
        for action in bar.actions():
            if plain(action.text()) == title:
                return bar, action
        raise AssertionError(f"no menu {title!r}")

    def open_menu(self, title: str) -> QMenu:
        bar, action = self._menu_action(title)
        self.click(bar, bar.actionGeometry(action).center())
        menu = action.menu()
        self.wait_for(menu.isVisible, 5, f"menu {title} open")
        return menu

    def menu(self, title: str, item: str) -> None:
        """Click the menu bar title, then the item (a modal it opens needs console.dialogs)."""
        menu = self.open_menu(title)
        for action in menu.actions():
            if plain(action.text()) == item:
                QTest.mouseClick(menu, LEFT, Qt.KeyboardModifier.NoModifier,
                                 menu.actionGeometry(action).center())
                QTest.qWait(1)
                return
        raise AssertionError(f"no item {item!r} in {title}: "
                             f"{[plain(a.text()) for a in menu.actions()]}")

    def activate(self) -> None:
        """Bring the main window to the front, as the window manager does when a person clicks
        its title bar (keyboard shortcuts only reach the active window)."""
        self.window.activateWindow()
        QTest.qWaitForWindowActive(self.window, 5000)

    def menu_by_keys(self, menu_letter: str, item_letter: str) -> None:
        """Alt+<letter> opens the menu, the item's mnemonic letter triggers it."""
        key = getattr(Qt.Key, f"Key_{menu_letter.upper()}")
        self.activate()
        QTest.keyClick(self.window, key, Qt.KeyboardModifier.AltModifier)
        self.wait_for(lambda: isinstance(QApplication.activePopupWidget(), QMenu), 5,
                      f"menu opened by Alt+{menu_letter}")
        QTest.keyClick(QApplication.activePopupWidget(),
                       getattr(Qt.Key, f"Key_{item_letter.upper()}"))
        QTest.qWait(1)

    # dialogs -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def dialogs(self, *handlers: Callable[[Dialog], None], timeout: float = 15.0) -> Iterator[list]:
        """Hand each new modal dialog to the next handler; fails if any is missing or raised."""
        driver = _DialogDriver(self, list(handlers))
        driver.timer.start()
        try:
            yield driver.seen
            if driver.handlers:
                self.wait_for(lambda: not driver.handlers or driver.errors, timeout,
                              f"{len(driver.handlers)} more dialog(s)",
                              observe=lambda: [d.title for d in driver.seen])
            self.wait_for(lambda: QApplication.activeModalWidget() is None
                          or id(QApplication.activeModalWidget()) not in driver.handled,
                          DIALOG_DEADLINE_S + 5, "the dialogs to close")
        finally:
            driver.timer.stop()
        if driver.errors:
            raise driver.errors[0]


def _send_move(widget: QWidget, point: QPoint, button) -> None:
    """QTest.mouseMove carries no buttons; a drag needs them held in the move event."""
    from PySide6.QtGui import QMouseEvent

    local = QPointF(point)
    event = QMouseEvent(QEvent.Type.MouseMove, local, QPointF(widget.mapToGlobal(point)),
                        Qt.MouseButton.NoButton, button, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


# ---- building the window ------------------------------------------------------------------------

def open_console(data_dir: Path, demo: bool = True, timeout: float = 60.0) -> Console:
    """``pacs-console --demo --data-dir DATA_DIR`` (app.start_window), minus app.exec(), with the
    demo PACS and the Storage SCP on ports the OS assigns when they bind."""
    from pacs_console.app import configure_application, start_window
    from pacs_console.core.settings import Settings, save_settings
    from pacs_console.paths import app_paths

    paths = app_paths(data_dir).ensure()
    # The engineer's settings: the Storage SCP on "any free port" (the status bar shows which).
    save_settings(paths.settings_file, Settings(scp_port=0))
    app = QApplication.instance()
    configure_application(app)
    # Qt's own file dialogs (what offscreen gets anyway): a test can type into them like a person.
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, True)
    window = start_window(paths, demo=demo, demo_port=0)
    window.resize(WIDTH, HEIGHT)
    window.move(0, 0)
    console = Console(window, window.ctx, data_dir=data_dir)
    if demo:
        wait_for_demo(console, timeout)
    return console


def wait_for_demo(console: Console, timeout: float = 30.0) -> None:
    """Wait, as a person watches the window, until the demo PACS runs (status bar), is listed
    in the address book and the Storage SCP listens; ``console.demo`` is then the demo."""
    window = console.window
    demo_state = console.find(name="demo-state", parent=window.statusBar())
    console.wait_for(lambda: "@" in demo_state.text() or "failed" in demo_state.text(),
                     timeout, "the demo PACS to start", observe=console.status_text)
    assert "failed" not in demo_state.text(), console.status_text()
    console.demo = console.ctx.demo
    tests = window.panels["Tests"]
    console.wait_for(lambda: any("Demo PACS" in row for row in console.rows(tests.table)),
                     timeout, "Demo PACS in the address book",
                     observe=lambda: console.rows(tests.table))
    console.wait_for(lambda: "Storage SCP: listening" in console.status_text(), timeout,
                     "Storage SCP listening", observe=console.status_text)


def scp_port_shown(console: Console) -> int:
    """The port the status bar says the Storage SCP listens on (what the remote is told)."""
    import re

    found = re.search(r"Storage SCP: listening \S+:(\d+)", console.status_text())
    assert found, f"no listening Storage SCP in the status bar: {console.status_text()}"
    return int(found.group(1))


def close_console(console: Console, timeout: float = 30.0) -> None:
    """Close the window like the app's exit path does, then wait for background work to end."""
    from pacs_console.ui import workers

    window = console.window
    modal = QApplication.activeModalWidget()
    if modal is not None:
        modal.close()
    if window.isVisible():
        window.close()
    viewer = window.panels.get("Viewer")
    if viewer is not None and hasattr(viewer, "cancel_work"):
        viewer.cancel_work()
    workers.cancel_all(timeout)
    deadline = time.monotonic() + timeout
    while workers._ACTIVE and time.monotonic() < deadline:  # noqa: SLF001 - teardown only
        QTest.qWait(20)
    console.ctx.close()
    window.deleteLater()
    QTest.qWait(1)
