"""Viewer benchmarks on a 1,000-image CT study in 20 series, against a plain pydicom loop."""

from __future__ import annotations

import atexit
import gc
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.runner import Case

IMAGES, SERIES, SIZE = 1000, 20, 512
_state: dict = {}


def _setup() -> None:
    if "folder" in _state:
        return
    root = Path(tempfile.mkdtemp(prefix="pacs-bench-viewer-"))
    atexit.register(shutil.rmtree, root, True)  # 500 MB of pixels: never leave them behind
    folder = root / "study"
    # Generated in a child process: 1,000 datasets held here would inflate this process's
    # peak memory and its garbage-collection pauses, which are what the GUI cases measure.
    subprocess.run([sys.executable, "-c",
                    "import sys; from pacs_console.core.dicom.synth.studies import generate_study, "
                    "write_study; write_study(generate_study('CT', images=int(sys.argv[1]), "
                    "series=int(sys.argv[2]), size=int(sys.argv[3]), seed=77), sys.argv[4])",
                    str(IMAGES), str(SERIES), str(SIZE), str(folder)], check=True)
    _state.update(root=root, folder=folder)


def _teardown() -> None:
    from pacs_console.core.imaging.thumbs import shutdown_pool

    shutdown_pool()


def _plain_loop(paths) -> float:
    """The peer: single-threaded pydicom read, pixel_array and a 4x downscale per file."""
    import pydicom

    start = time.perf_counter()
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.pixel_array[::4, ::4].copy()
    return time.perf_counter() - start


def _header_loop(paths) -> float:
    """The index's peer: the same headers read by a plain pydicom loop, pixels skipped."""
    import pydicom

    start = time.perf_counter()
    for path in paths:
        pydicom.dcmread(path, stop_before_pixels=True)
    return time.perf_counter() - start


def _index() -> dict[str, float]:
    from pacs_console.core.imaging.index import ImageIndex, index_source
    from pacs_console.core.models import drain

    cache = Path(tempfile.mkdtemp(prefix="pacs-bench-idx-"))
    try:
        index = ImageIndex(cache / "index.sqlite3")
        start = time.perf_counter()
        result = drain(index_source(index, _state["folder"], cache))
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = drain(index_source(index, _state["folder"], cache))
        reopen = time.perf_counter() - start
        assert result.ok == IMAGES and again.unchanged == IMAGES
        paths = sorted(_state["folder"].iterdir())
        return {"index_s": first, "reindex_unchanged_s": reopen, "header_loop_s":
                _header_loop(paths)}
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _thumbs() -> dict[str, float]:
    from pacs_console.core.imaging.index import ImageIndex, index_source
    from pacs_console.core.imaging.thumbs import ThumbCache, ThumbJob, generate_thumbnails
    from pacs_console.core.models import drain

    cache = Path(tempfile.mkdtemp(prefix="pacs-bench-th-"))
    try:
        index = ImageIndex(cache / "index.sqlite3")
        result = drain(index_source(index, _state["folder"], cache))
        study = index.studies([result.source])[0]
        reps = [s.representative for s in index.series(study.study_uid, [result.source])]
        jobs = [ThumbJob(r.sop_uid, r.path, r.sop_uid, r.mtime_ns) for r in reps]
        start = time.perf_counter()
        summary = drain(generate_thumbnails(jobs, ThumbCache(cache / "thumbs")))
        series_s = time.perf_counter() - start
        assert summary.done == SERIES and summary.failed == 0
        every = [ThumbJob(r.sop_uid, r.path, r.sop_uid, r.mtime_ns)
                 for s in index.series(study.study_uid, [result.source])
                 for r in index.instances(s.series_uid, [result.source])]
        start = time.perf_counter()
        drain(generate_thumbnails(every, ThumbCache(cache / "thumbs-all")))
        all_s = time.perf_counter() - start
        return {"series_thumbs_s": series_s, "all_1000_thumbs_s": all_s,
                "plain_loop_series_s": _plain_loop([r.path for r in reps]),
                "plain_loop_all_s": _plain_loop([j.path for j in every])}
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _gui() -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from pacs_console.app import tune_interpreter_for_gui
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths
    from pacs_console.ui.panels.viewer import ViewerPanel

    tune_interpreter_for_gui()  # as the real app does
    app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist for widgets
    # PySide6 6.12's static processEvents() (and QTest.qWait) drop a reference to None on every
    # call, which aborts a long polling loop; an event loop instance's method does not.
    loop = QEventLoop()
    data = Path(tempfile.mkdtemp(prefix="pacs-bench-gui-"))
    ctx = Context.open(app_paths(data))
    panel = ViewerPanel(ctx)
    panel.resize(1100, 700)
    panel.show()
    gc.collect()
    gc.freeze()  # as the app does once its window is up
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    try:
        start = time.perf_counter()
        panel.open_source(str(_state["folder"]))
        first = None
        while time.perf_counter() - start < 60:
            loop.processEvents()
            if first is None and panel.series_tiles:
                first = time.perf_counter() - start
            if first is not None and panel.series.view.frame is not None and panel.busy == 0:
                break
            time.sleep(0.001)
        shown = time.perf_counter() - start
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        return {"first_thumb_ms": (first or 60) * 1000, "image_shown_ms": shown * 1000,
                "max_stall_ms": max(0.0, max(gaps) * 1000 - 5) if gaps else 0.0,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "peak_child_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
    finally:
        close_panel(timer, panel, loop, ctx, data)


def close_panel(timer, panel, loop, ctx, data: Path) -> None:
    """End a GUI sample: the tick timer, the panel's work and window, the context, its data."""
    timer.stop()
    panel.cancel_work()
    panel.close()
    panel.deleteLater()
    loop.processEvents()
    ctx.close()
    shutil.rmtree(data, ignore_errors=True)


def cases() -> list[Case]:
    return [
        Case("viewer: index 1,000 CT images in 20 series", _index, "index_s", target=2.0,
             peer_metric="header_loop_s", peer_name="pydicom header-only loop",
             repeat=3, setup=_setup),
        Case("viewer: 20 series thumbnails after indexing", _thumbs, "series_thumbs_s",
             target=1.0, peer_metric="plain_loop_series_s", peer_name="pydicom loop, same files",
             repeat=3, setup=_setup, teardown=_teardown),
        Case("viewer: first thumbnail painted after opening (GUI)", _gui, "first_thumb_ms",
             target=300.0, unit="ms", repeat=3, setup=_setup, teardown=_teardown),
        Case("viewer: GUI stall while opening and thumbnailing", _gui, "max_stall_ms",
             target=50.0, unit="ms", repeat=3, setup=_setup, teardown=_teardown),
        Case("viewer: peak memory while opening (GUI process)", _gui, "peak_rss_mb",
             target=500.0, unit="MB", repeat=1, setup=_setup, teardown=_teardown),
    ]
