"""Viewer benchmarks on a 10,000-image study (512², 5 series of 2,000 slices): the first image of
a series after a click on it, and scrolling a 2,000-slice series, read from the image view's own
frame timing (``ImageView.painted``: when each new frame reached the screen).

The study is indexed once in setup, as a first open does (what that costs is the ``cli: index
10,000`` case); each sample opens it in a fresh Viewer panel, waits until the tree is up, then
clicks every series and scrolls one with the Down key, as a person does.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import peers_env as env
from tests.bench.runner import Case
from tests.bench.viewer import close_panel

IMAGES, SERIES, SIZE = 10_000, 5, 512
SCROLL_SLICES = 300  # Down presses per sample (of the 2,000), each after the last one's frame
SCROLL_RATE_HZ = 60  # and no faster than this: frames per second above it are not asked for
_state: dict = {}

_INDEX = """
import sys
from pacs_console.core.context import Context
from pacs_console.core.imaging.index import ImageIndex, index_source
from pacs_console.paths import app_paths
ctx = Context.open(app_paths(sys.argv[1]))
index = ImageIndex.for_cache(ctx.paths.cache)
gen = index_source(index, sys.argv[2], ctx.paths.cache)
while True:
    try:
        next(gen)
    except StopIteration as stop:
        assert stop.value.ok == int(sys.argv[3]), stop.value
        break
"""


def _setup() -> None:
    if "data" in _state:
        return
    folder = env.large_study(IMAGES, SERIES, SIZE)
    data = env.scratch("pacs-bench-viewer10k-")
    subprocess.run([sys.executable, "-c", _INDEX, str(data), str(folder), str(IMAGES)],
                   check=True, cwd=env.ROOT, env=env.PY_ENV)
    _state.update(folder=folder, data=data)


def _teardown() -> None:
    from pacs_console.core.imaging.thumbs import shutdown_pool

    shutdown_pool()


def _wait(loop, done, limit_s: float = 120.0) -> float:
    """Process events until ``done()``; the seconds it took (``limit_s`` when it never did)."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > limit_s:
            return limit_s
        loop.processEvents()
        time.sleep(0.0005)
    return time.perf_counter() - start


def _click(loop, tree, item) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    tree.scrollToItem(item)
    loop.processEvents()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     tree.visualItemRect(item).center())


def _gui() -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from pacs_console.app import tune_interpreter_for_gui
    from pacs_console.core.context import Context
    from pacs_console.paths import app_paths
    from pacs_console.ui.panels.viewer import ViewerPanel

    tune_interpreter_for_gui()  # as the real app does
    app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist for widgets
    loop = QEventLoop()
    data = Path(tempfile.mkdtemp(prefix="pacs-bench-v10k-"))
    shutil.copytree(_state["data"], data, dirs_exist_ok=True)  # the indexed study, not its clicks
    ctx = Context.open(app_paths(data))
    panel = ViewerPanel(ctx)
    panel.resize(1100, 700)
    panel.show()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    try:
        panel.open_source(str(_state["folder"]))
        _wait(loop, lambda: len(panel.series_items) == SERIES and panel.busy == 0
              and panel.series.view.frame is not None)
        _wait(loop, lambda: len(panel.series_tiles) == SERIES, 30.0)
        gc.collect()
        gc.freeze()  # as the app does once its window is up
        view, tree = panel.series.view, panel.tree
        timer.start()
        # A click on each series (the first one last, so every click changes the series).
        first_ms = []
        for uid in [*list(panel.series_items)[1:], next(iter(panel.series_items))]:
            before = len(view.painted)
            start = time.perf_counter()
            _click(loop, tree, panel.series_items[uid])
            waited = _wait(loop, lambda before=before: len(view.painted) > before
                           and panel.series.current == 0, 10.0)
            first_ms.append((view.painted[-1][0] - start) * 1000 if waited < 10.0 else 10_000.0)
        # Scroll the first series (2,000 slices) with the Down key.
        view.setFocus()
        loop.processEvents()
        before, start = len(view.painted), time.perf_counter()
        for n in range(SCROLL_SLICES):
            painted = len(view.painted)
            QTest.keyClick(view, Qt.Key.Key_Down)
            _wait(loop, lambda painted=painted: len(view.painted) > painted, 5.0)
            spare = (n + 1) / SCROLL_RATE_HZ - (time.perf_counter() - start)
            if spare > 0:  # never faster than a key held down could ask
                _wait(loop, lambda: False, spare)
        assert panel.series.current == SCROLL_SLICES, panel.series.current
        scroll = list(view.painted)[before:]
        seconds = scroll[-1][0] - start if scroll else float("inf")
        frame_gaps = [b[0] - a[0] for a, b in zip(scroll, scroll[1:], strict=False)]
        gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
        return {"first_image_ms": max(first_ms), "first_image_median_ms": sorted(first_ms)[2],
                "scroll_fps": len(scroll) / seconds if seconds > 0 else 0.0,
                "scroll_frames": float(len(scroll)),
                "scroll_max_frame_gap_ms": max(frame_gaps) * 1000 if frame_gaps else 0.0,
                "max_stall_ms": max(0.0, max(gaps) * 1000 - 5) if gaps else 0.0}
    finally:
        gc.unfreeze()
        close_panel(timer, panel, loop, ctx, data)


def cases() -> list[Case]:
    gui = {"setup": _setup, "teardown": _teardown}
    return [
        Case("viewer 10,000 x 512²: first image of a series after clicking it (slowest of 5)",
             _gui, "first_image_ms", 300.0, unit="ms", **gui),
        Case("viewer 10,000 x 512²: scrolling a 2,000-slice series, frames per second", _gui,
             "scroll_fps", 30.0, lower_is_better=False, unit="fps", **gui),
        Case("viewer 10,000 x 512²: longest GUI stall while clicking and scrolling", _gui,
             "max_stall_ms", 50.0, unit="ms", **gui),
    ]
