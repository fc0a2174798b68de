"""GUI heartbeat while 5,000 C-FIND matches stream into the Tests panel's query table."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

from tests.bench.qt_loop import Heartbeat, pump, pump_until
from tests.bench.runner import Case

STUDIES = 5000
_state: dict = {}


def make_studies(count: int = STUDIES) -> list:
    from pydicom import Dataset
    from pydicom.uid import generate_uid

    items = []
    for i in range(count):
        ds = Dataset()
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        ds.SOPInstanceUID = generate_uid()
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.PatientName = f"Patient^{i:05d}"
        ds.PatientID = f"BENCH{i:05d}"
        ds.StudyDate = "20260101"
        ds.AccessionNumber = f"A{i:07d}"
        ds.Modality = "CT"
        ds.StudyDescription = "Benchmark study"
        items.append(ds)
    return items


def _setup() -> None:
    from PySide6.QtWidgets import QApplication

    from pacs_console.app import tune_interpreter_for_gui
    from pacs_console.core.context import Context
    from pacs_console.core.db.nodes import save_node
    from pacs_console.paths import app_paths
    from pacs_console.ui.panels.tests import TestsPanel

    tune_interpreter_for_gui()  # as the real app does
    app = QApplication.instance() or QApplication([])
    ctx = Context.open(app_paths(tempfile.mkdtemp(prefix="pacs-bench-find-")))
    # The PACS runs in its own process, as a real one would: in-process, its Python threads
    # would compete with the GUI thread for the GIL and the figure would measure that instead.
    server = subprocess.Popen([sys.executable, "-m", "tests.bench.demo_server", str(STUDIES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    save_node(ctx.db, "Bench", "DEMOPACS", "127.0.0.1", port)
    panel = TestsPanel(ctx)
    panel.show()
    panel.refresh()
    while panel.table.rowCount() == 0:
        pump()
    _state.update(app=app, ctx=ctx, server=server, panel=panel)


def _teardown() -> None:
    _state["panel"].close()
    _state["server"].stdin.close()
    _state["server"].wait(timeout=30)
    _state["ctx"].close()


def _run() -> dict[str, float]:
    _app, panel = _state["app"], _state["panel"]
    query = panel.operation_tabs["Query"]
    heartbeat = Heartbeat()
    heartbeat.start()
    start = time.perf_counter()
    query.search()
    pump_until(lambda: query.worker is None)
    elapsed = time.perf_counter() - start
    heartbeat.stop()
    if query.results.rowCount() != STUDIES:
        raise RuntimeError(f"expected {STUDIES} matches, got {query.results.rowCount()}")
    return {"max_stall_ms": heartbeat.max_stall_ms, "find_s": elapsed}


def cases() -> list[Case]:
    return [Case(f"GUI stall while {STUDIES:,} C-FIND matches stream in", _run, "max_stall_ms",
                 target=50.0, unit="ms", repeat=3, setup=_setup, teardown=_teardown)]
