"""Helpers for pacs_console.spec: what to exclude, metadata to copy, migrations, version info."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

# Never bundled. scipy comes in through pyqtgraph's hook (+86 MB) though nothing here uses it;
# keyrings.alt would silently make keyring write secrets to a plaintext file.
EXCLUDES = [
    # pylibjpeg-libjpeg is GPL-3.0: never in the proprietary bundle, even if installed.
    "libjpeg",
    "tkinter", "_tkinter", "matplotlib", "scipy", "IPython", "jupyter_client", "notebook",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.QtWebEngineQuick",
    "PySide6.QtWebChannel", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtQuickWidgets",
    "PySide6.Qt3DCore", "PySide6.QtMultimedia", "PySide6.QtPdf",
    "PyQt5", "PyQt6", "PySide2", "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter",
    "OpenGL", "keyrings.alt", "keyrings", "pytest", "_pytest", "hypothesis", "pytestqt",
    "importlinter", "grimp", "ruff", "PyInstaller", "setuptools", "pip", "PySide6.QtTest",
    # Online-only extras of httpx (its CLI) and pyHanko (aiohttp fetchers, remote signers): a
    # field laptop signs and verifies offline.
    # (aiohttp stays: pyHanko's timestamp module imports it unconditionally.)
    "rich", "pygments", "markdown_it", "click", "requests",
    # Qt's network stack (and the Kerberos libraries it links): nothing here uses QtNetwork.
    "PySide6.QtNetwork",
    # Unused parts of big libraries: AVIF images (libavif, 5 MB), lxml beyond etree, numpy's
    # build tools, the standard library's test and IDE packages.
    "PIL.AvifImagePlugin", "PIL._avif", "lxml.objectify", "lxml.html", "lxml.isoschematron",
    "lxml.cssselect", "numpy.f2py", "numpy.distutils", "lib2to3", "pydoc_data", "idlelib",
    "test", "sphinx", "docutils",
]
# Binaries and data dropped after analysis (path fragments, '/' separated). The GTK platform
# theme links the whole GTK stack of the build machine; WebEngine is never used.
EXCLUDED_BINARIES = [
    "platformthemes/libqgtk3", "libQt6WebEngine", "QtWebEngineProcess", "libQt6Pdf",
    "libQt6Qml", "libQt6Quick", "qtwebengine_", "PySide6/Qt/translations/",
    # What libqgtk3 alone pulled in (nothing else links them; packaging/build.py's ldd check
    # proves it on every build).
    "libgtk-3.so", "libgdk-3.so", "libgdk_pixbuf-2.0.so", "libatk-1.0.so", "libatk-bridge-2.0.so",
    "libatspi.so", "libcairo.so", "libcairo-gobject.so", "libpango-1.0.so", "libpangocairo-1.0.so",
    "libpangoft2-1.0.so", "libepoxy.so", "libpixman-1.so", "libfribidi.so", "libthai.so",
    "libdatrie.so", "libXcomposite.so", "libXdamage.so", "libXcursor.so", "libXinerama.so",
    "libXrandr.so", "libXi.so", "libcloudproviders.so", "libtracker-sparql",
    "libjson-glib",
    # Qt plugins a laptop never uses: embedded/kiosk platforms, rare image formats, network
    # reachability probes (the console checks reachability itself).
    "platforms/libqeglfs.so", "platforms/libqlinuxfb.so", "platforms/libqvnc.so",
    "platforms/libqvkkhrdisplay.so", "platforms/libqminimalegl.so", "egldeviceintegrations/",
    "libQt6EglFSDeviceIntegration", "libQt6EglFsKmsSupport", "imageformats/libqtiff.so",
    "imageformats/libqwebp.so", "imageformats/libqicns.so", "imageformats/libqtga.so",
    "imageformats/libqwbmp.so", "networkinformation/", "libavif",
    "libQt6Network.so", "plugins/tls/", "generic/libqtuiotouchplugin.so", "libgssapi_krb5.so",
    "libkrb5.so", "libk5crypto.so", "libkrb5support.so", "libcom_err.so", "libkeyutils.so",
]
# Unstripped shared objects (a source-built Python, several plugin wheels) shrink by half when
# stripped; auditwheel-repaired folders (*.libs) are left alone since patchelf'd files can break.
STRIP_SKIP = (".libs/", "PySide6/Qt/")
# Distributions whose metadata must travel: entry points (keyring backends, pylibjpeg plugins,
# pydicom plugins) and version look-ups (--self-check, pynetdicom, pyHanko).
METADATA_PACKAGES = [
    "keyring", "pylibjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle",
    "pyjpegls", "pydicom", "pynetdicom", "PySide6-Essentials", "pyHanko",
    "pyhanko-certvalidator", "reportlab", "pacs-console",
]


def app_version(root: Path) -> str:
    """pacs_console.__version__ without importing the package (the spec runs in PyInstaller)."""
    text = (root / "pacs_console" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE)
    if not match:
        raise SystemExit("pacs_console/__init__.py has no __version__")
    return match.group(1)


def migration_datas(root: Path) -> list[tuple[str, str]]:
    """env.py, script.py.mako and versions/*.py as files: Alembic loads them from disk."""
    base = root / "pacs_console" / "core" / "db" / "migrations"
    datas = []
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".mako"):
            datas.append((str(path), str(path.parent.relative_to(root))))
    return datas


def drop_binaries(entries, fragments: list[str]):
    """The TOC without entries whose destination path contains any of ``fragments``."""
    kept = []
    for entry in entries:
        dest = str(entry[0]).replace("\\", "/")
        if not any(fragment in dest for fragment in fragments):
            kept.append(entry)
    return kept


def version_tuple(version: str) -> tuple[int, int, int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", version)[:4]]
    return tuple((numbers + [0, 0, 0, 0])[:4])  # type: ignore[return-value]


def windows_version_file(root: Path, version: str, workpath: str) -> str:
    """Fill packaging/windows/version_info.txt with the package version; returns the file."""
    template = (root / "packaging" / "windows" / "version_info.txt").read_text(encoding="utf-8")
    numbers = version_tuple(version)
    text = (template.replace("{VERSION_TUPLE}", repr(numbers))
            .replace("{VERSION}", version))
    out = Path(workpath) / "version_info.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return str(out)


def strip_binaries(entries, workpath: str):
    """Linux: the TOC with debug symbols stripped from copies in workpath (cached by mtime)."""
    tool = shutil.which("strip")
    if not sys.platform.startswith("linux") or tool is None:
        return entries
    out_dir = Path(workpath) / "stripped"
    kept = []
    for dest, src, typecode in entries:
        name = str(dest).replace("\\", "/")
        if typecode not in ("BINARY", "EXTENSION") or any(s in name for s in STRIP_SKIP):
            kept.append((dest, src, typecode))
            continue
        target = out_dir / name
        if not target.exists() or target.stat().st_mtime < Path(src).stat().st_mtime:
            target.parent.mkdir(parents=True, exist_ok=True)
            done = subprocess.run([tool, "--strip-unneeded", "-o", str(target), str(src)],
                                  capture_output=True)
            if done.returncode != 0:
                target.unlink(missing_ok=True)
        use = target if target.exists() and target.stat().st_size < Path(src).stat().st_size else src
        kept.append((dest, str(use), typecode))
    return kept
