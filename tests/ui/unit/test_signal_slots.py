"""Static check (a unit test; no window is driven): a button's clicked(bool) or an action's triggered(bool) never lands in a slot
whose first parameter means something else (Incidents → "New…" once received False as a
template: "'bool' object has no attribute 'title'"); a toggled(bool) slot takes exactly a bool.

The check parses pacs_console/ui with ast: ``X.clicked.connect(self.m)`` (or a loop variable
bound to ``self.m`` in a literal table) is resolved to the method in the class or its project
base classes. Slots that are lambdas or Qt's own methods are out of its reach and fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

UI = ROOT / "pacs_console" / "ui"
BOOL_SIGNALS = ("clicked", "triggered", "toggled")


def _classes(root: Path) -> dict[str, tuple[ast.ClassDef, Path]]:
    found: dict[str, tuple[ast.ClassDef, Path]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, (node, path))
    return found


def _method(classes, cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == name:
            return item
    for base in cls.bases:
        base_name = base.id if isinstance(base, ast.Name) else None
        if base_name in classes:
            found = _method(classes, classes[base_name][0], name)
            if found is not None:
                return found
    return None


def _self_attr(node: ast.AST) -> str | None:
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "self"):
        return node.attr
    return None


def _loop_bindings(func: ast.FunctionDef) -> dict[str, list[str]]:
    """Loop variables bound to ``self.m`` in a literal table: ``for name, slot, tip in ((...),)``."""
    bound: dict[str, list[str]] = {}
    for loop in ast.walk(func):
        if not isinstance(loop, ast.For) or not isinstance(loop.iter, (ast.Tuple, ast.List)):
            continue
        targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
        for index, target in enumerate(targets):
            if not isinstance(target, ast.Name):
                continue
            for row in loop.iter.elts:
                value = row.elts[index] if isinstance(row, ast.Tuple) and len(targets) > 1 else row
                attr = _self_attr(value)
                if attr:
                    bound.setdefault(target.id, []).append(attr)
    return bound


def _problem(signal: str, slot: ast.FunctionDef) -> str | None:
    args = slot.args
    positional = [*args.posonlyargs, *args.args][1:]  # beyond self
    if signal == "toggled":
        if not positional:
            return None
        first = positional[0]
        is_bool = isinstance(first.annotation, ast.Name) and first.annotation.id == "bool"
        optional = len(positional) - len(args.defaults) <= 0
        if len(positional) > 1 or not is_bool or optional:
            return "toggled(bool) needs a slot taking exactly one `bool`"
        return None
    if positional:
        names = ", ".join(a.arg for a in positional)
        return f"{signal}(bool) would pass False into `{names}`"
    return None


def bool_signal_misconnections(root: Path = UI) -> list[str]:
    classes = _classes(root)
    found = []
    for cls, path in classes.values():
        for func in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            loops = _loop_bindings(func)
            for call in ast.walk(func):
                if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "connect" and len(call.args) == 1
                        and isinstance(call.func.value, ast.Attribute)
                        and call.func.value.attr in BOOL_SIGNALS):
                    continue
                signal, target = call.func.value.attr, call.args[0]
                names = ([_self_attr(target)] if _self_attr(target)
                         else loops.get(target.id, []) if isinstance(target, ast.Name) else [])
                for name in names:
                    slot = _method(classes, cls, name)
                    problem = slot is not None and _problem(signal, slot)
                    if problem:
                        where = path.relative_to(root.parent)
                        found.append(f"{where}:{call.lineno} {cls.name}.{name}: {problem}")
    return found


def test_no_bool_signal_lands_in_a_slot_with_parameters():
    assert bool_signal_misconnections() == []


def test_the_check_sees_the_shapes_it_guards_against(tmp_path):
    """The checker itself: it must catch a direct connection and one through a loop table."""
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "bad.py").write_text(
        "class Panel(Base):\n"
        "    def __init__(self):\n"
        "        self.new_button.clicked.connect(self.new_item)\n"
        "        for name, slot in (('Add', self.add), ('Quit', self.quit)):\n"
        "            button.clicked.connect(slot)\n"
        "        self.box.toggled.connect(self.set_on)\n"
        "        self.ok.clicked.connect(self.fine)\n"
        "    def new_item(self, template=None): ...\n"
        "    def quit(self): ...\n"
        "    def set_on(self, on: bool) -> None: ...\n"
        "    def fine(self): ...\n"
        "class Base:\n"
        "    def add(self, row): ...\n", encoding="utf-8")
    found = bool_signal_misconnections(ui)
    assert [f.split(" ", 1)[1] for f in found] == [
        "Panel.new_item: clicked(bool) would pass False into `template`",
        "Panel.add: clicked(bool) would pass False into `row`"]
