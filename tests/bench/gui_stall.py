"""GUI heartbeat: the longest GUI-thread stall while the demo PACS serves a C-MOVE to the console."""

from __future__ import annotations

import tempfile
import time

from tests.bench.qt_loop import Heartbeat, pump_until, settle
from tests.bench.runner import Case

_state: dict = {}


def _setup() -> None:
    from PySide6.QtWidgets import QApplication

    from pacs_console.app import tune_interpreter_for_gui
    from pacs_console.core.context import Context
    from pacs_console.core.dicom.servers.demo import DemoPacs
    from pacs_console.core.dicom.synth.studies import generate_study
    from pacs_console.core.settings import Settings
    from pacs_console.paths import app_paths
    from pacs_console.ui.main_window import MainWindow

    tune_interpreter_for_gui()  # as the real app does
    app = QApplication.instance() or QApplication([])
    ctx = Context.open(app_paths(tempfile.mkdtemp(prefix="pacs-bench-gui-")))
    ctx.settings = Settings(scp_port=0)  # any free port: read back from scp.port
    scp = ctx.storage_scp()
    scp.host = "127.0.0.1"
    scp.start()
    study = generate_study("CT", images=100, size=512, seed=11)
    demo = DemoPacs(studies=[study],
                    resolve_destination=lambda ae: ("127.0.0.1", scp.port) if ae == "PACSCONSOLE" else None,
                    notify=ctx.arrivals).start()
    window = MainWindow(ctx)
    window.show()
    _state.update(app=app, ctx=ctx, demo=demo, window=window,
                  study_uid=str(study[0].StudyInstanceUID), size=sum(len(ds.PixelData) for ds in study))


def _teardown() -> None:
    _state["window"].close()
    _state["demo"].stop()
    _state["ctx"].close()


def _move(demo, study_uid: str) -> int:
    from pydicom import Dataset
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove

    from pacs_console.core.dicom.wire.ae import make_ae

    ae = make_ae("PACSCONSOLE", requested=[StudyRootQueryRetrieveInformationModelMove])
    assoc = ae.associate(demo.host, demo.port, ae_title=demo.ae_title)
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = study_uid
    completed = 0
    for status, _ in assoc.send_c_move(query, "PACSCONSOLE", StudyRootQueryRetrieveInformationModelMove):
        if status and "NumberOfCompletedSuboperations" in status:
            completed = int(status.NumberOfCompletedSuboperations)
    assoc.release()
    return completed


def _run() -> dict[str, float]:
    from pacs_console.ui import workers

    _app, demo = _state["app"], _state["demo"]
    heartbeat = Heartbeat()
    done: list = []
    heartbeat.start()
    start = time.perf_counter()
    workers.start(_move, demo, _state["study_uid"], on_result=done.append,
                  on_error=lambda exc: done.append(exc))
    pump_until(lambda: bool(done))
    elapsed = time.perf_counter() - start
    settle(20)  # let the bridge drain the last arrivals
    heartbeat.stop()
    if isinstance(done[0], Exception) or not done[0]:
        raise RuntimeError(f"C-MOVE failed: {done[0]!r}")
    return {"max_stall_ms": heartbeat.max_stall_ms, "move_s": elapsed,
            "move_mb_s": _state["size"] / 1e6 / elapsed}


def cases() -> list[Case]:
    return [Case("GUI stall while the demo PACS serves a C-MOVE (100 x 512² CT)", _run,
                 "max_stall_ms", target=50.0, unit="ms", repeat=5, setup=_setup,
                 teardown=_teardown)]
