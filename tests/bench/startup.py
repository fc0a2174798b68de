"""Start-up benchmarks: process start to main window shown, and --version."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from tests.bench.runner import Case

_DATA = tempfile.mkdtemp(prefix="pacs-bench-startup-")


def _window_shown() -> dict[str, float]:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "PACS_CONSOLE_REPORT_SHOWN": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pacs_console", "--data-dir", _DATA,
                             "--quit-after", "0.3"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)
    line = proc.stdout.readline()
    shown = time.perf_counter() - start
    proc.wait(timeout=30)
    if "WINDOW_SHOWN" not in line:
        raise RuntimeError(f"the window never reported being shown (exit {proc.returncode})")
    return {"window_shown_s": shown}


def _version() -> dict[str, float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pacs_console", "--version"], check=True,
                   capture_output=True)
    ours = time.perf_counter() - start
    # The interpreter alone, as the floor any Python tool pays, measured in the same run.
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - start
    return {"version_s": ours, "python_bare_s": bare}


def cases() -> list[Case]:
    return [
        Case("start-up: process start to main window shown", _window_shown, "window_shown_s",
             target=1.0),
        Case("start-up: --version", _version, "version_s", target=0.3,
             peer_metric="python_bare_s", peer_name="bare python -c pass"),
    ]
