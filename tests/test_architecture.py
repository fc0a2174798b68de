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
