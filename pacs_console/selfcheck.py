"""--self-check: one line per check of this installation; non-zero exit when any fails."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from typing import TextIO

from pacs_console.core.models import Check
from pacs_console.paths import app_paths, resource_path

REPORT_FONT = ("fonts", "DejaVuSans.ttf")
# Letters in Twi, Ga and Ewe names that Helvetica cannot print.
REQUIRED_GLYPHS = "ɛɔƐƆŋ"


def _versions() -> Check:
    from importlib.metadata import version

    import pydicom
    import pynetdicom

    from pacs_console import __version__

    try:
        qt = version("PySide6-Essentials")
    except Exception:  # noqa: BLE001 - full PySide6 instead of Essentials
        qt = version("PySide6")
    return Check("versions", True,
                 f"pacs-console {__version__}, Python {platform.python_version()}, PySide6 {qt}, "
                 f"pydicom {pydicom.__version__}, pynetdicom {pynetdicom.__version__}")


def _data_dir(data_dir: str | None) -> Check:
    paths = app_paths(data_dir)
    try:
        paths.ensure()
        with tempfile.NamedTemporaryFile(dir=paths.data, prefix=".write-test-"):
            pass
    except OSError as exc:
        return Check("data dir", False, f"{paths.data} is not writable: {exc}")
    return Check("data dir", True, f"{paths.data} writable (settings {paths.config}, logs {paths.logs})")


def _database(data_dir: str | None) -> Check:
    from pacs_console.core.db.engine import Database, head_revision

    paths = app_paths(data_dir).ensure()
    try:
        db = Database(paths.database)
        try:
            if not db.is_current():
                return Check("database", False, f"{paths.database} not at migration {head_revision()}")
            if not db.integrity_ok():
                return Check("database", False, f"{paths.database} fails PRAGMA integrity_check")
        finally:
            db.close()
    except Exception as exc:  # noqa: BLE001 - report, don't crash the check run
        return Check("database", False, f"{paths.database}: {exc}")
    return Check("database", True, f"{paths.database} at latest migration {head_revision()}")


# Qt platforms that draw on a screen (the unset default included) versus headless ones.
_SCREEN_PLATFORMS = ("", "xcb", "wayland", "wayland-egl")
NO_DISPLAY = ("no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the window cannot "
              "open here (run it in a desktop session, or over ssh -X; QT_QPA_PLATFORM=offscreen "
              "for headless checks); the command line works without a display")


def display_problem(environ=None, platform_name: str | None = None) -> str | None:
    """Why the window cannot open for want of a display (Linux and BSD), or None."""
    environ = os.environ if environ is None else environ
    platform_name = sys.platform if platform_name is None else platform_name
    if platform_name.startswith(("win", "darwin", "cygwin")):
        return None
    requested = environ.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip().lower()
    if requested not in _SCREEN_PLATFORMS:
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY


def _qt_platform() -> Check:
    no_display = display_problem()
    if no_display:
        return Check("Qt platform", False, no_display)
    # A missing platform plugin makes Qt abort the process, so it is probed in a child.
    if getattr(sys, "frozen", False):
        cmd = [sys.executable, "--qt-probe"]
    else:
        cmd = [sys.executable, "-m", "pacs_console", "--qt-probe"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("Qt platform", False, f"probe did not run: {exc}")
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip()
        tail = output.splitlines()[-3:]
        if "could not connect to display" in output.lower():
            return Check("Qt platform", False, f"{NO_DISPLAY} | " + " | ".join(tail))
        return Check("Qt platform", False,
                     "no usable Qt platform plugin: " + " | ".join(tail) +
                     " (Linux: install libxcb-cursor0, or set QT_QPA_PLATFORM=offscreen)")
    return Check("Qt platform", True, f"plugin {proc.stdout.strip()}")


def qt_probe() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    print(app.platformName())
    return 0


def _decoders() -> Iterator[Check]:
    from pydicom import uid as u
    from pydicom.pixels import get_decoder

    from pacs_console.core.imaging.codecs import register

    register()  # 12-bit JPEG Extended without GPL code

    syntaxes = [u.RLELossless, u.JPEGBaseline8Bit, u.JPEGExtended12Bit, u.JPEGLossless,
                u.JPEGLosslessSV1, u.JPEGLSLossless, u.JPEGLSNearLossless, u.JPEG2000Lossless,
                u.JPEG2000, u.HTJ2KLossless, u.HTJ2K]
    for syntax in syntaxes:
        decoder = get_decoder(syntax)
        name = f"decoder {syntax.name}"
        if decoder.is_available:
            yield Check(name, True, "via " + ", ".join(sorted(decoder.available_plugins)))
        else:
            missing = "; ".join(f"{k}: {', '.join(v)}" for k, v in decoder.missing_dependencies.items()
                                ) if hasattr(decoder, "missing_dependencies") else ""
            yield Check(name, False, f"no plugin installed ({missing or 'install pylibjpeg plugins'})")


def _keyring() -> Check:
    from pacs_console.core.secrets import keyring_status

    status = keyring_status()
    detail = f"{status.name}: {status.reason}"
    if not status.secure:
        detail += " (secrets will be asked once per session and kept in memory only)"
    return Check("keyring", status.secure, detail)


def _fonts() -> Check:
    path = resource_path(*REPORT_FONT)
    if not path.exists():
        return Check("report fonts", False, f"{path} missing")
    from reportlab.pdfbase.ttfonts import TTFont

    font = TTFont("ReportSans", str(path))
    missing = [ch for ch in REQUIRED_GLYPHS if ord(ch) not in font.face.charToGlyph]
    if missing:
        return Check("report fonts", False, f"{path.name} lacks {''.join(missing)}")
    return Check("report fonts", True, f"{path.name} covers {REQUIRED_GLYPHS}")


def checks(data_dir: str | None) -> Iterator[Check]:
    steps: list[Callable[[], Check | Iterator[Check]]] = [
        _versions, lambda: _data_dir(data_dir), lambda: _database(data_dir), _qt_platform,
        _decoders, _keyring, _fonts,
    ]
    for step in steps:
        try:
            outcome = step()
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            yield Check(getattr(step, "__name__", "check").strip("_"), False, f"crashed: {exc!r}")
            continue
        if isinstance(outcome, Check):
            yield outcome
        else:
            yield from outcome


def run_self_check(data_dir: str | None, out: TextIO) -> int:
    failures = 0
    for check in checks(data_dir):
        failures += not check.ok
        out.write(f"[{' OK ' if check.ok else 'FAIL'}] {check.name}: {check.detail}\n")
    out.write(f"{'all checks passed' if not failures else f'{failures} check(s) failed'}\n")
    out.flush()
    return 0 if not failures else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run_self_check(os.environ.get("PACS_CONSOLE_DATA_DIR"), sys.stdout))
