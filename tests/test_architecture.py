"""The core stays Qt-free: the import-linter contract passes and core imports load no Qt."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_import_linter_contract_holds():
    # Beside the running interpreter first: CI runs from a venv that may not be on PATH.
    beside = Path(sys.executable).with_name("lint-imports")
    lint = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert lint, "import-linter is not installed"
    proc = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "core never imports Qt KEPT" in proc.stdout


def test_importing_every_core_module_loads_no_qt():
    code = (
        "import importlib, pkgutil, sys\n"
        "import pacs_console.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'pacs_console.core.'):\n"
        "    if '.migrations' in m.name: continue\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_modules_have_docstrings_and_stay_small():
    for path in (ROOT / "pacs_console").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name == "__init__.py" and not text.strip():
            continue
        assert text.lstrip().startswith(('"""', "'''")), f"{path} lacks a one-line docstring"
        assert text.count("\n") <= 450, f"{path} has {text.count(chr(10))} lines; split it"


def test_no_import_cycles_inside_the_package():
    """Every import inside pacs_console (module level or inside a function, TYPE_CHECKING
    included) forms a graph with no cycle: following one call never loops back."""
    import grimp

    graph = grimp.build_graph("pacs_console")
    modules = sorted(graph.modules)
    edges = {m: sorted(set(graph.find_modules_directly_imported_by(m)) & set(modules))
             for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's strongly connected components, iteratively
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for module in modules:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_architecture_map_names_every_package():
    """docs/architecture.md is the map: every package under pacs_console is named in it."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.parent for p in (ROOT / "pacs_console").rglob("__init__.py")
                      if "migrations" not in p.parts)
    missing = [str(p.relative_to(ROOT / "pacs_console")) for p in packages
               if p != ROOT / "pacs_console" and f"{p.name}/" not in text]
    assert not missing, f"packages missing from docs/architecture.md: {missing}"


def test_private_names_are_never_imported_across_modules():
    """A name starting with one underscore is its module's own: another module that needs it
    gets a public name (or the code moves where both can use it)."""
    import ast

    found = []
    for path in (ROOT / "pacs_console").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("pacs_console")):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module} {private}")
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_no_class_has_more_than_25_methods():
    """A class a newcomer can hold in mind: every class in pacs_console defines at most 25
    methods in its body (properties and Qt overrides count); a bigger one is split in parts."""
    import ast

    too_big = []
    for path in sorted((ROOT / "pacs_console").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = [item.name for item in node.body
                           if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
                if len(methods) > 25:
                    too_big.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} has "
                                   f"{len(methods)} methods")
    assert not too_big, "split these classes into parts:\n" + "\n".join(too_big)
