"""Static check of the house rule for GUI tests: the acceptance suite drives the window only as a
person does (QTest mouse clicks and keys on visible widgets), never by calling the console's own
methods or slots, private helpers, or Qt shortcuts that skip the mouse and keyboard.

The check parses every file under tests/ui/acceptance, and tests/ui/layout_probe.py (the window
measured at 1366x768), with ``ast`` and reports each call that:

- names a method the console defines in ``pacs_console/ui`` (any class there) that is not also
  a Qt method, e.g. ``panel.refresh()``, ``window.show_panel("Viewer")``, ``tab.run_plan()``;
  reading a model (``rowCount``, ``data``) or a widget (``text``) is Qt's API and stays allowed;
- calls a private attribute (``x._start()``) on anything but the helper's own ``self``/``cls``;
- emits a signal (``.emit(...)``) or takes a shortcut around QTest: ``.click()`` without
  arguments, ``.animateClick()``, ``.trigger()``, ``.toggle()``;
- sets a widget's state from code instead of typing or clicking (``setText``, ``setChecked``,
  ``setCurrentIndex``, ``selectRow``, ...).

The window is built by ``pacs_console/app.py`` ``start_window``, the function ``run_gui`` uses
(no copy of it in the tests). One exception, by name: ``close_console`` in window.py tears the
window down as the app's exit path does, which is not a person's action. Calls on imported
modules (``re.search``) are not calls on the window.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

UI = ROOT / "pacs_console" / "ui"
ACCEPTANCE = ROOT / "tests" / "ui" / "acceptance"
PROBE = ROOT / "tests" / "ui" / "layout_probe.py"
# Tearing the window down as the app's exit path does (see the module docstring).
SET_UP = {("window.py", "close_console")}
SHORTCUTS = {"animateClick", "trigger", "toggle", "emit"}
SETTERS = {"setText", "setPlainText", "setHtml", "insertPlainText", "setChecked",
           "setCurrentIndex", "setCurrentText", "setEditText", "setCurrentRow",
           "setCurrentItem", "setCurrentWidget", "setCurrentCell", "selectRow", "selectColumn",
           "setValue", "setDateTime", "setDate", "setTime", "setSliderPosition",
           "setSelection"}


@cache
def qt_names() -> frozenset[str]:
    """Every attribute of every class in QtCore, QtGui and QtWidgets."""
    from PySide6 import QtCore, QtGui, QtWidgets

    names: set[str] = set()
    for module in (QtCore, QtGui, QtWidgets):
        for attribute in dir(module):  # PySide6 may load its classes lazily: getattr, not vars
            value = getattr(module, attribute)
            if isinstance(value, type):
                names.update(dir(value))
    return frozenset(names)


@cache
def console_methods(root: Path = UI) -> frozenset[str]:
    """Methods the console's own GUI classes define, minus Qt's (overrides like paintEvent)."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found.update(item.name for item in node.body
                             if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(found - qt_names())


def _imported_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def _set_up_lines(tree: ast.Module, file_name: str) -> set[int]:
    lines: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and (file_name, node.name) in SET_UP:
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _problem(call: ast.Call, modules: set[str], methods: frozenset[str]) -> str | None:
    if not isinstance(call.func, ast.Attribute):
        return None
    name, receiver = call.func.attr, call.func.value
    if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
        return None  # a helper class's own method
    if isinstance(receiver, ast.Name) and receiver.id in modules and name not in SHORTCUTS:
        return None  # a module function (re.search), or a class's constructor helper
    if name.startswith("_") and not name.startswith("__"):
        return f"calls the private {name}()"
    if name in SHORTCUTS or (name == "click" and not call.args and not call.keywords):
        return f"{name}() skips the mouse and keyboard (QTest clicks, keys)"
    if name in SETTERS:
        return f"{name}() sets a widget from code; type or click instead"
    if name in methods:
        return f"calls the console's own method {name}(); use the widgets a person sees"
    return None


def violations(folder: Path = ACCEPTANCE, methods: frozenset[str] | None = None,
               extra: tuple[Path, ...] = ()) -> list[str]:
    methods = console_methods() if methods is None else methods
    found = []
    for path in [*sorted(folder.rglob("*.py")), *extra]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules, allowed = _imported_names(tree), _set_up_lines(tree, path.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.lineno not in allowed:
                problem = _problem(node, modules, methods)
                if problem:
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} "
                                 f"{ast.unparse(node)[:80]}: {problem}")
    return found


def test_acceptance_tests_use_the_window_only_as_a_person_does():
    found = violations(extra=(PROBE,))
    assert not found, "\n".join(found)


def test_the_check_knows_the_console_and_sees_what_it_forbids(tmp_path):
    methods = console_methods()
    # Real console methods are known; Qt's reading API is not among them.
    assert {"toggle_scp", "demo_started", "show_panel"} <= methods
    assert not {"text", "rowCount", "data", "isVisible", "paintEvent"} & methods
    (tmp_path / "acceptance").mkdir()
    (tmp_path / "acceptance" / "test_bad.py").write_text(
        "import re\n"
        "def test_x(console):\n"
        "    panel = console.panel('Tests')\n"
        "    panel.refresh_nodes()\n"                       # a console method
        "    console.window.status._update()\n"             # private
        "    console.button('OK').click()\n"                # QAbstractButton.click shortcut
        "    console.window.settings_action.trigger()\n"    # QAction.trigger shortcut
        "    panel.table.selectRow(0)\n"                    # setting state from code
        "    panel.done.emit(1)\n"                          # emitting a signal
        "    console.click(console.button('OK'))\n"         # fine: a QTest click
        "    re.search('x', console.text(panel))\n"         # fine: a module function
        "    panel.table.model().rowCount()\n")             # fine: reading
    found = violations(tmp_path / "acceptance", methods | {"refresh_nodes"})
    assert [line.split(" ", 1)[0].rsplit(":", 1)[1] for line in found] == \
        ["4", "5", "6", "7", "8", "9"], found
