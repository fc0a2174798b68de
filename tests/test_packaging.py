"""The PyInstaller spec's static properties, checked without building (the build is CI's job)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from pacs_console.commands import COMMAND_MODULES
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import spec_support  # noqa: E402 - lives in packaging/, not a package

SPEC = ROOT / "pacs_console.spec"


@pytest.fixture(scope="module")
def spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"))


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) == name]


def _literal_first_args(tree: ast.Module, name: str) -> set[str]:
    return {c.args[0].value for c in _calls(tree, name)
            if c.args and isinstance(c.args[0], ast.Constant)}


def test_excludes_what_the_issue_names():
    for module in ("scipy", "tkinter", "matplotlib", "PySide6.QtWebEngineCore",
                   "PySide6.QtWebEngineWidgets", "keyrings.alt"):
        assert module in spec_support.EXCLUDES, module
    assert any("platformthemes/libqgtk3" in f for f in spec_support.EXCLUDED_BINARIES)
    assert any("libQt6WebEngine" in f for f in spec_support.EXCLUDED_BINARIES)


def test_hidden_imports_cover_every_command_module(spec_tree):
    calls = [c for c in _calls(spec_tree, "collect_submodules")
             if c.args and getattr(c.args[0], "value", None) == "pacs_console"]
    assert calls, "the spec must collect pacs_console's submodules (commands load by name)"
    keyword = {k.arg: k.value for k in calls[0].keywords}
    accept = eval(compile(ast.Expression(keyword["filter"]), str(SPEC), "eval")) \
        if "filter" in keyword else (lambda _name: True)
    for name in COMMAND_MODULES:
        assert accept(f"pacs_console.commands.{name}"), name
    assert "demo" in COMMAND_MODULES


def test_runtime_discovered_packages_are_collected(spec_tree):
    collected = _literal_first_args(spec_tree, "collect_submodules")
    for package in ("keyring.backends", "pynetdicom", "pydicom.pixels", "pyhanko",
                    "holidays.countries", "zeroconf"):
        assert package in collected, package
    source = SPEC.read_text(encoding="utf-8")
    for module in ('"openjpeg"', '"rle"', '"jpeg_ls"', '"httpx"', '"imagecodecs._jpeg8"',
                   '"pacs_console.core.db.migrations.env"'):
        assert module in source, module
    # keyring finds its backends, pylibjpeg its plugins, through entry points in metadata.
    for dist in ("keyring", "pylibjpeg", "pylibjpeg-openjpeg",
                 "pylibjpeg-rle", "pyjpegls", "PySide6-Essentials"):
        assert dist in spec_support.METADATA_PACKAGES, dist
    # pylibjpeg-libjpeg is GPL-3.0: not collected, excluded even when installed.
    assert '"libjpeg"' not in source and "libjpeg" in spec_support.EXCLUDES
    assert "pylibjpeg-libjpeg" not in spec_support.METADATA_PACKAGES
    assert "copy_metadata" in source


def test_resources_and_migrations_travel_as_files(spec_tree):
    source = SPEC.read_text(encoding="utf-8")
    assert '(str(ROOT / "resources"), "resources")' in source
    datas = spec_support.migration_datas(ROOT)
    names = {Path(src).name for src, _ in datas}
    versions = ROOT / "pacs_console" / "core" / "db" / "migrations" / "versions"
    assert "env.py" in names and "script.py.mako" in names
    for migration in versions.glob("0*.py"):
        assert migration.name in names, migration.name
    assert all(dest.replace("\\", "/").startswith("pacs_console/core/db/migrations")
               for _, dest in datas)


def test_one_folder_windowed_named_from_the_package(spec_tree):
    exes = _calls(spec_tree, "EXE")
    gui = {k.arg: k.value for k in exes[0].keywords}
    assert isinstance(gui["console"], ast.Constant) and gui["console"].value is False
    assert "exclude_binaries=True" in SPEC.read_text(encoding="utf-8")  # one folder, not one file
    assert _calls(spec_tree, "COLLECT")
    assert any(getattr(k.value, "value", None) is True for k in exes[1].keywords
               if k.arg == "console"), "Windows needs the console-mode pacs-console-cli twin"
    from pacs_console import __version__

    assert spec_support.app_version(ROOT) == __version__
    assert "SPECPATH" in SPEC.read_text(encoding="utf-8")


def test_windows_version_file_is_filled_from_the_package(tmp_path):
    out = spec_support.windows_version_file(ROOT, "1.2.3", str(tmp_path))
    text = Path(out).read_text(encoding="utf-8")
    assert "filevers=(1, 2, 3, 0)" in text and "'1.2.3'" in text and "{VERSION" not in text
    # PyInstaller evaluates the file as one Python expression (its loader needs pefile, Windows).
    tree = ast.parse(text, mode="eval")
    assert tree.body.func.id == "VSVersionInfo"


def test_linux_desktop_entry_and_installer_agree():
    desktop = (ROOT / "packaging" / "linux" / "pacs-console.desktop").read_text()
    assert "Exec=pacs-console" in desktop and "Icon=pacs-console" in desktop
    assert "Terminal=false" in desktop
    install = (ROOT / "packaging" / "linux" / "install.sh").read_text()
    assert "pacs-console.desktop" in install and "--uninstall" in install
    iss = (ROOT / "packaging" / "windows" / "pacs-console.iss").read_text()
    assert "pacs-console-cli.exe" in iss and "PrivilegesRequired=lowest" in iss


def test_the_smoke_test_has_no_skip_path():
    """Every step is required: a missing part fails the build with its name."""
    source = (ROOT / "packaging" / "smoke.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    assert "Skip" not in classes and "SKIP" not in source and "skipped" not in source
    names = [step.elts[0].value for step in next(
        n.value for n in tree.body if isinstance(n, ast.AnnAssign)
        and getattr(n.target, "id", "") == "STEPS").elts]
    for step in ("signed report", "real Orthanc: echo + store",
                 "--self-check with a Secret Service", "licences"):
        assert step in names, step
