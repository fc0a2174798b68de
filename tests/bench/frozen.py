"""Frozen app benchmarks: start to main window, and --version, of the PyInstaller build."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.runner import Case

ROOT = Path(__file__).resolve().parents[2]
_DATA = tempfile.mkdtemp(prefix="pacs-bench-frozen-")


def frozen_exe() -> Path:
    """The build made by packaging/build.py (PACS_CONSOLE_FROZEN overrides, e.g. an install)."""
    override = os.environ.get("PACS_CONSOLE_FROZEN")
    if override:
        return Path(override)
    return ROOT / "dist" / "pacs-console" / ("pacs-console.exe" if sys.platform == "win32"
                                             else "pacs-console")


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def _window_shown() -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([str(frozen_exe()), "--data-dir", _DATA, "--quit-after", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_env(PACS_CONSOLE_REPORT_SHOWN="1"))
    line = proc.stdout.readline()
    shown = time.perf_counter() - start
    proc.wait(timeout=60)
    if "WINDOW_SHOWN" not in line:
        raise RuntimeError(f"the frozen window never reported being shown (exit {proc.returncode})")
    # The same measurement from source, as the reference the frozen build is compared with.
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir", _DATA,
                             "--quit-after", "0.3"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
                            env={**_env(PACS_CONSOLE_REPORT_SHOWN="1"),
                                 "PYTHONPATH": str(ROOT)})
    proc.stdout.readline()
    source = time.perf_counter() - start
    proc.wait(timeout=60)
    return {"frozen_window_shown_s": shown, "source_window_shown_s": source}


def _version() -> dict[str, float]:
    start = time.perf_counter()
    subprocess.run([str(frozen_exe()), "--version"], check=True, capture_output=True, env=_env())
    ours = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return {"frozen_version_s": ours, "python_bare_s": time.perf_counter() - start}


def cases() -> list[Case]:
    exe = frozen_exe()
    skip = "" if exe.exists() else (f"no frozen build at {exe.relative_to(ROOT) if exe.is_relative_to(ROOT) else exe}; "
                                    "run python packaging/build.py")
    return [
        Case("frozen: process start to main window shown", _window_shown,
             "frozen_window_shown_s", target=2.0, peer_metric="source_window_shown_s",
             peer_name="same app from source", skip=skip),
        Case("frozen: --version", _version, "frozen_version_s", target=0.5,
             peer_metric="python_bare_s", peer_name="bare python -c pass", skip=skip),
    ]
