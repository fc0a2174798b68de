"""Child process for tests/ui/test_layout.py: the real main window on a 1366×768 offscreen screen,
used with clicks and keys like a person, measured, and the measurements printed as JSON.

Qt fixes the screen size when it starts, and the test session's QApplication already runs on
an 800×600 offscreen screen, so the measuring happens here: ``python -m tests.ui.layout_probe
DATA_DIR`` with ``QT_QPA_PLATFORM=offscreen:configfile=...`` (tests.ui.screens.offscreen_env).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QSplitter,
    QTableView,
    QTableWidget,
    QWidget,
)

UID = re.compile(r"\b\d+(\.\d+){3,}\b")


def _visible(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0


def clipped(root: QWidget) -> list[str]:
    """Plain single-line labels and header sections whose text is wider than their room."""
    found = []
    for label in root.findChildren(QLabel):
        text = label.text()
        if (not _visible(label) or label.wordWrap() or not text or "<" in text
                or label.textFormat() == Qt.TextFormat.RichText or "\n" in text):
            continue
        room = label.contentsRect().width() - 2 * label.margin()
        if label.fontMetrics().horizontalAdvance(text) > room + 1:
            found.append(f"label {text!r}: {label.fontMetrics().horizontalAdvance(text)} > {room}")
    for view in root.findChildren(QAbstractItemView):
        if not _visible(view) or not isinstance(view, QTableView):
            continue
        header = view.horizontalHeader()
        if header.isHidden():
            continue
        model = view.model()
        metrics = header.fontMetrics()
        for column in range(model.columnCount()):
            if header.isSectionHidden(column):
                continue
            text = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            need = metrics.horizontalAdvance(text) + 8  # the style's own padding, at least
            start = header.sectionViewportPosition(column)
            if not text or start >= header.width():
                continue  # empty, or scrolled out of sight entirely
            shown = min(header.sectionSize(column), header.width() - start)
            if shown < need:  # too narrow, or cut by the edge of the view ("eported (UTC")
                found.append(f"header {text!r}: {shown} px shown < {need}")
    return found


def status_clipped(bar: QWidget) -> list[str]:
    """The status bar's message and permanent widgets, each shown whole: a label or button whose
    text is wider than its room, or a message shown elided (its full text only in the tooltip)."""
    from PySide6.QtWidgets import QAbstractButton

    found = []
    for widget in bar.findChildren(QWidget):
        if not _visible(widget) or not isinstance(widget, (QLabel, QAbstractButton)):
            continue
        full = getattr(widget, "full", None)
        if full is not None and widget.text() != full:
            found.append(f"status {full!r} shown elided as {widget.text()!r}")
            continue
        text = widget.text()
        room = widget.contentsRect().width()
        if isinstance(widget, QAbstractButton):
            room -= 8  # the button's own padding, at least
        if text and widget.fontMetrics().horizontalAdvance(text) > room + 1:
            found.append(f"status {text!r}: {widget.fontMetrics().horizontalAdvance(text)} > "
                         f"{room}")
    return found


def panel_text(panel: QWidget) -> dict:
    def named(name):
        return [w.text() for w in panel.findChildren(QLabel, name) if _visible(w)]

    headings = [w.text() for w in panel.findChildren(QLabel)
                if _visible(w) and w.text().startswith("<h2>")]
    empty = named("empty-state")
    labels = [w.text() for w in panel.findChildren(QLabel) if _visible(w) and w.text()]
    return {"headings": headings, "purpose": named("panel-purpose"), "empty": empty,
            "labels": labels}


def address_book(console, tests) -> dict:
    """How much height the address book takes above the tabs, collapsed and opened."""
    def tabs_top() -> int:
        return tests.tabs.mapTo(tests, tests.tabs.rect().topLeft()).y()

    seen = {"opened_top": tabs_top()}
    toggle = tests.findChild(QWidget, "address-book-toggle")
    seen["toggle"] = toggle is not None and toggle.isVisible()
    if seen["toggle"]:
        table = tests.findChild(QTableView, "address-book")
        seen["opened_rows"] = table.model().rowCount() if table is not None and \
            table.isVisible() else 0
        console.click(toggle)  # collapse to the strip
        console.settle(0.3)
        seen["tabs_top"] = tabs_top()
        console.click(toggle)
        console.settle(0.3)
        seen["tabs_top_again"] = tabs_top()
    return seen


def visible_rows(view: QTableView) -> int:
    height = view.verticalHeader().defaultSectionSize()
    if view.model().rowCount():
        height = view.rowHeight(0)
    return view.viewport().height() // max(height, 1)


def plot_info(plot) -> dict:
    axes = {}
    for side in ("left", "bottom"):
        axis = plot.plot.getAxis(side)
        axes[side] = axis.labelString()
    return {"height": plot.plot.height(), "axes": axes}


def table_text(widget) -> str:
    if isinstance(widget, QTableWidget):
        return "\n".join(" | ".join(widget.item(r, c).text() if widget.item(r, c) else ""
                                    for c in range(widget.columnCount()))
                         for r in range(widget.rowCount()))
    return widget.toPlainText()


def drop_folder(widget, folder: Path) -> None:
    """Drag a folder from the file manager and drop it on ``widget``."""
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    centre = widget.rect().center()
    enter = QDragEnterEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def viewer(console, folder: Path) -> dict:
    from pacs_console.core.dicom.synth.studies import generate_study, write_study

    write_study(generate_study("CT", images=4, series=1, size=64, seed=7), folder)
    panel = console.choose_nav("Viewer")
    drop_folder(panel, folder)
    console.wait_for(lambda: panel.busy == 0 and panel.tree.topLevelItemCount() > 0, 60,
                     "the dropped study listed")
    console.wait_for(lambda: panel.tags.model.rowCount() > 20, 30, "the tags shown")
    console.settle(0.5)
    table = panel.tags.table
    model = table.model()
    widths = sum(table.columnWidth(c) for c in range(model.columnCount()))
    values = [model.index(r, 3).data() for r in range(model.rowCount())
              if model.index(r, 2).data() == "UI"]
    log = panel.log
    return {"tag_columns_width": widths, "tag_viewport": table.viewport().width(),
            "tag_hscroll": table.horizontalScrollBar().isVisible(), "ui_values": values,
            "log_visible": bool(log is not None and log.isVisible()),
            "image_height": panel.series.view.height(),
            "below_image": panel.height() - panel.series.view.mapTo(
                panel, panel.series.view.rect().bottomLeft()).y()}


def _start(folder: Path, demo: bool):
    """``pacs-console [--demo] --data-dir FOLDER`` (app.start_window), the Storage SCP on any
    free port: the window exactly as it opens, measured as it is."""
    from pacs_console.app import configure_application, start_window
    from pacs_console.core.settings import Settings, save_settings
    from pacs_console.paths import app_paths
    from tests.ui.acceptance.window import Console, wait_for_demo

    paths = app_paths(folder).ensure()
    save_settings(paths.settings_file, Settings(scp_port=0))
    configure_application(QApplication.instance())
    window = start_window(paths, demo=demo, demo_port=0)
    console = Console(window, window.ctx, data_dir=folder)
    if demo:
        wait_for_demo(console, 120)
    return console


# What a field engineer's log holds: titles as people write them, a site with its full name.
SITE = "Tamale Teaching Hospital"
TITLES = ("Slow retrieves from the archive after 16:00",
          "CT cannot send studies to the archive",
          "Reading room monitor calibration overdue")


def _records_from_the_command_line(folder: Path) -> None:
    """A site and incidents logged with the CLI (another process) before the window opens."""
    import os
    import subprocess

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "pacs_console", "--data-dir", str(folder), *args],
                       check=True, capture_output=True, timeout=120, env=dict(os.environ))

    cli("site", "add", SITE)
    for title in TITLES:
        cli("incident", "new", "--severity", "high", "--title", title, "--site", SITE)


def tooltip_at(view, index) -> str:
    """What a person sees when the mouse rests on the cell."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    QToolTip.hideText()
    pos = view.visualRect(index).center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(
        QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def cut_cells(view) -> list[dict]:
    """Every visible cell whose text is wider than its column: its header, its text, and
    whether hovering it shows the whole text."""
    model, found = view.model(), []
    metrics = view.fontMetrics()
    for row in range(min(model.rowCount(), 30)):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            text = str(index.data() or "")
            rect = view.visualRect(index)
            if not text or view.isColumnHidden(column) or rect.width() <= 0:
                continue
            if metrics.horizontalAdvance(text) > rect.width() - 8:  # the cell's own margins
                found.append({"header": str(model.headerData(column, Qt.Orientation.Horizontal)),
                              "text": text, "width": rect.width(),
                              "tooltip": text in tooltip_at(view, index)})
    return found


def record_panels(console, out: dict) -> None:
    """The Incidents log and the Sync outbox with those records: cut columns, clipped text."""
    incidents = console.choose_nav("Incidents")
    log = console.find(QTableView, parent=incidents)
    console.wait_for(lambda: log.model().rowCount() >= len(TITLES), 30, "the incidents listed")
    console.settle(0.5)
    out["cells"] = {"Incidents": cut_cells(log)}
    console.click_row(log, 0)
    console.wait_for(lambda: any(label.isVisible() and "<h3>#" in label.text()
                                 for label in incidents.findChildren(QLabel)), 10, "the detail")
    out["incident_detail"] = [label.text() for label in incidents.findChildren(QLabel)
                              if _visible(label) and label.text()]
    share = console.window.panels["Incidents"]
    out["incident_split"] = {"table": log.height(), "panel": share.height()}
    out["clipped"]["Incidents/log"] = clipped(incidents)
    sync = console.choose_nav("Sync")
    outbox = console.find(QTableView, "outbox-table", sync)
    console.wait_for(lambda: outbox.model().rowCount() >= len(TITLES), 30, "the outbox listed")
    console.settle(0.5)
    out["cells"]["Sync"] = cut_cells(outbox)
    out["clipped"]["Sync/outbox"] = clipped(sync)


def _idle(console) -> None:
    """Until the background work the window started is done (slow on a loaded machine)."""
    from pacs_console.ui import workers

    console.wait_for(lambda: not workers._ACTIVE, 30, "background work done")  # noqa: SLF001


def fresh_panels(console, out: dict) -> None:
    """A fresh folder without the demo: every panel's heading, purpose and empty state."""
    from pacs_console.ui.main_window import PANELS

    window = console.window
    console.settle(1.0)
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    out["screen"] = [screen.x(), screen.y(), screen.width(), screen.height()]
    out["frame"] = [frame.x(), frame.y(), frame.width(), frame.height()]
    hint = window.minimumSizeHint()
    out["minimum"] = [hint.width(), hint.height()]
    for name in PANELS:
        started = time.monotonic()
        panel = console.choose_nav(name)
        _idle(console)
        out.setdefault("loaded_s", {})[name] = round(time.monotonic() - started, 2)
        console.settle(0.5)
        out["panels"][name] = panel_text(panel)
        out["clipped"][name] = clipped(panel)


def tests_panel(console, out: dict) -> None:
    """With the demo PACS: the tests a person runs, then what they see."""
    bar = console.window.statusBar()
    out["clipped"]["Status bar"] = status_clipped(bar)
    out["status"] = [w.text() for w in bar.findChildren(QWidget)
                     if _visible(w) and hasattr(w, "text") and callable(w.text)]
    tests = console.choose_nav("Tests")
    console.click_row(tests.table, [r[0] for r in console.rows(tests.table)].index("Demo PACS"))
    console.choose_tab(tests.tabs, "Verify")
    verify = tests.tabs.currentWidget()
    console.type_into(console.find(name="echo-count", parent=verify), "4")
    console.type_into(console.find(name="echo-interval", parent=verify), "0.2")
    console.click_button("Start continuous", verify)
    stats = console.find(name="echo-stats", parent=verify)
    console.wait_text(stats, "round trip min", 60)
    console.wait_for(lambda: console.button("C-ECHO once", verify).isEnabled(), 10, "idle")
    console.settle(0.5)
    out["plots"] = {"Verify": plot_info(verify.plot)}
    out["book"] = address_book(console, tests)
    out["clipped"]["Tests/Verify"] = clipped(tests)
    tabs = {"Verify": verify}
    for title in ("Retrieve", "Store"):
        console.choose_tab(tests.tabs, title)
        tabs[title] = tests.tabs.currentWidget()
        console.settle(0.3)
        out["plots"][title] = plot_info(tabs[title].plot)
        out["clipped"][f"Tests/{title}"] = clipped(tests)
    out["resizable"] = {title: isinstance(tab.log.parentWidget(), QSplitter)
                        for title, tab in tabs.items()}
    console.choose_tab(tests.tabs, "Query")
    query = tests.tabs.currentWidget()
    console.click_button("Search", query)
    status = console.find(name="query-status", parent=query)
    view = console.find(QTableView, parent=query)
    console.wait_for(lambda: console.button("Search", query).isEnabled()
                     and "match" in console.text(status).lower()
                     and "so far" not in console.text(status), 60, "the search done",
                     observe=lambda: console.text(status))
    console.settle(0.5)
    model = view.model()
    out["query"] = {"rows": model.rowCount(), "visible_rows": visible_rows(view),
                    "headers": [model.headerData(c, Qt.Orientation.Horizontal)
                                for c in range(model.columnCount())]}
    out["clipped"]["Tests/Query"] = clipped(tests)
    console.choose_tab(tests.tabs, "Capabilities")
    probe = tests.tabs.currentWidget()
    console.click_button("Probe capabilities", probe)
    console.wait_text(console.find(name="probe-status", parent=probe), "SOP classes accepted",
                      180)
    console.wait_for(lambda: console.button("Probe capabilities", probe).isEnabled(), 10, "idle")
    console.settle(0.5)
    out["capabilities"] = {"table": table_text(probe.table),
                           "association": table_text(probe.association)}
    out["clipped"]["Tests/Capabilities"] = clipped(tests)


def measure(data_dir: Path) -> dict:
    from tests.ui.acceptance.window import close_console

    QApplication.instance() or QApplication(["layout-probe"])
    out: dict = {"panels": {}, "clipped": {}}
    fresh = _start(data_dir / "fresh", demo=False)
    try:
        fresh_panels(fresh, out)
    finally:
        close_console(fresh)
    _records_from_the_command_line(data_dir / "demo")
    console = _start(data_dir / "demo", demo=True)
    try:
        record_panels(console, out)
        tests_panel(console, out)
        out["viewer"] = viewer(console, data_dir / "cd")
        out["clipped"]["Viewer/study"] = clipped(console.window.panels["Viewer"])
    finally:
        close_console(console)
    return out


def main(argv: list[str]) -> int:
    result = measure(Path(argv[0]))
    print("LAYOUT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
