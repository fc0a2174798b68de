"""Views that stay current: another process logs incidents into a 100,000-incident database
while the window shows the log. Measured: how long until each shows, and the longest GUI stall."""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from tests.bench.qt_loop import Heartbeat, pump
from tests.bench.runner import Case

CHANGES = 8
_state: dict = {}
WRITER = """
import sys, time
from pacs_console.core.db.engine import Database
from pacs_console.core.incidents.service import create_incident
db = Database(__import__('pathlib').Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    time.sleep(0.4)
    create_incident(db, title=f"Live view bench {n}", severity="high", actor="bench")
    print(time.time(), flush=True)
"""


def _setup() -> None:
    from PySide6.QtWidgets import QApplication

    from pacs_console.app import tune_interpreter_for_gui
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths
    from pacs_console.ui.main_window import MainWindow
    from tests.bench import incidents

    tune_interpreter_for_gui()
    app = QApplication.instance() or QApplication([])
    incidents._setup()  # seeds (once, cached) the 100,000-incident database
    source = incidents.CACHE / "pacs-console.sqlite3"
    paths = app_paths(tempfile.mkdtemp(prefix="pacs-bench-live-")).ensure()
    shutil.copy(source, paths.database)
    ctx = Context.open(paths)
    ctx.db  # noqa: B018 - open (and migrate) outside the timed runs
    window = MainWindow(ctx)
    window.resize(1366, 768)
    window.show()
    window.show_panel("Incidents")
    panel = window.panels["Incidents"]
    _wait(lambda: panel.model.rowCount() > 0, 30)
    gc.freeze()  # as the app does once its window shows
    _state.update(app=app, ctx=ctx, window=window, panel=panel)


def _teardown() -> None:
    _state["window"].close()
    _state["ctx"].close()


def _shown(panel) -> int:
    found = re.match(r"([\d,]+) incident", panel.count_label.text())
    return int(found.group(1).replace(",", "")) if found else 0


def _wait(check, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("the window never caught up")
        pump()
        time.sleep(0.001)


def _run() -> dict[str, float]:
    panel = _state["panel"]
    before = _shown(panel)
    heartbeat = Heartbeat()
    commits: list[float] = []
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(_state["ctx"].paths.database),
                              str(CHANGES)], stdout=subprocess.PIPE, text=True)
    reader = threading.Thread(target=lambda: commits.extend(float(line) for line in child.stdout),
                              daemon=True)
    reader.start()
    seen: dict[int, float] = {}
    heartbeat.start()
    deadline = time.monotonic() + 60
    while len(seen) < CHANGES and time.monotonic() < deadline:
        pump()
        shown = _shown(panel) - before
        now = time.time()
        for k in range(1, shown + 1):
            seen.setdefault(k, now)
        time.sleep(0.001)
    heartbeat.stop()
    child.wait(30)
    reader.join(5)
    if len(seen) < CHANGES or len(commits) < CHANGES:
        raise RuntimeError(f"saw {len(seen)} of {CHANGES} changes ({len(commits)} committed)")
    latencies = [seen[k + 1] - commits[k] for k in range(CHANGES)]
    return {"max_stall_ms": heartbeat.max_stall_ms,
            "worst_latency_s": max(latencies), "median_latency_s": sorted(latencies)[CHANGES // 2]}


def cases() -> list[Case]:
    return [
        Case("live views: incidents logged by another process into 100,000 (longest GUI stall)",
             _run, "max_stall_ms", target=50.0, unit="ms", repeat=3, setup=_setup,
             teardown=_teardown),
    ]
