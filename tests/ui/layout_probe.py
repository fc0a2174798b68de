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
from PySide6.QtTest import QTest
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


def wait(app, predicate, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.02)
    return False


def settle(app, seconds: float = 0.3) -> None:
    wait(app, lambda: False, seconds)


def click(widget) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def click_nav(app, window, name: str) -> None:
    from pacs_console.ui.main_window import PANELS

    item = window.nav.item(PANELS.index(name))
    QTest.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.nav.visualItemRect(item).center())
    settle(app)


def click_tab(app, tabs, title: str) -> None:
    bar = tabs.tabBar()
    index = [tabs.tabText(i) for i in range(tabs.count())].index(title)
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    settle(app)


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


def address_book(app, tests) -> dict:
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
        click(toggle)  # collapse to the strip
        settle(app, 0.3)
        seen["tabs_top"] = tabs_top()
        click(toggle)
        settle(app, 0.3)
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


def viewer(app, window, folder: Path) -> dict:
    from pacs_console.core.dicom.synth.studies import generate_study, write_study

    write_study(generate_study("CT", images=4, series=1, size=64, seed=7), folder)
    click_nav(app, window, "Viewer")
    panel = window.panels["Viewer"]
    drop_folder(panel, folder)
    wait(app, lambda: panel.busy == 0 and panel.tree.topLevelItemCount() > 0, 60)
    wait(app, lambda: panel.tags.model.rowCount() > 20, 30)
    settle(app, 0.5)
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


def measure(data_dir: Path) -> dict:
    from pacs_console.core.context import Context
    from pacs_console.core.settings import Settings, save_settings
    from pacs_console.paths import app_paths
    from pacs_console.ui import workers
    from pacs_console.ui.main_window import PANELS, MainWindow
    from tests.ui.acceptance.window import free_port

    app = QApplication.instance() or QApplication(["layout-probe"])
    app.setStyle("Fusion")
    paths = app_paths(data_dir).ensure()
    save_settings(paths.settings_file, Settings(scp_port=free_port()))  # no fixed port
    ctx = Context.open(paths)
    out: dict = {"panels": {}, "clipped": {}}
    window = MainWindow(ctx)
    window.show()
    settle(app, 1.0)
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    out["screen"] = [screen.x(), screen.y(), screen.width(), screen.height()]
    out["frame"] = [frame.x(), frame.y(), frame.width(), frame.height()]
    hint = window.minimumSizeHint()
    out["minimum"] = [hint.width(), hint.height()]
    # A fresh folder: every panel's heading, purpose and empty state.
    for name in PANELS:
        click_nav(app, window, name)
        # What the panel loads in the background first (slow on a loaded machine).
        started = time.monotonic()
        wait(app, lambda: not workers._ACTIVE, 20)
        out.setdefault("loaded_s", {})[name] = round(time.monotonic() - started, 2)
        settle(app, 0.5)
        out["panels"][name] = panel_text(window.panels[name])
        out["clipped"][name] = clipped(window.panels[name])
    # With the demo PACS: the tests a person runs, then what they see.
    demo = ctx.start_demo(port=0)
    if getattr(demo, "_ae", None) is not None:  # issue 14 item 4 is fixed on its own
        demo._ae.maximum_associations = max(demo._ae.maximum_associations, 64)
    window.demo_started(demo)
    # The status bar at its fullest: the Storage SCP started with a click, the demo running.
    bar = window.statusBar()
    click(window.status.scp_button)
    wait(app, lambda: "listening" in window.status.scp_button.text(), 20)
    settle(app, 0.3)
    out["clipped"]["Status bar"] = status_clipped(bar)
    out["status"] = [w.text() for w in bar.findChildren(QWidget)
                     if _visible(w) and hasattr(w, "text") and callable(w.text)]
    tests = window.panels["Tests"]
    click_nav(app, window, "Tests")
    wait(app, lambda: tests.selected_node() is not None, 20)
    click_tab(app, tests.tabs, "Verify")
    verify = tests.verify
    verify.count.selectAll()
    QTest.keyClicks(verify.count, "4")
    verify.interval.selectAll()
    QTest.keyClicks(verify.interval, "0.2")
    click(verify.series_button)
    wait(app, lambda: not verify.running, 60)
    settle(app, 0.5)
    out["plots"] = {"Verify": plot_info(verify.plot)}
    out["book"] = address_book(app, tests)
    out["resizable"] = {title: isinstance(tab.log.parentWidget(), QSplitter) for title, tab in
                        (("Verify", verify), ("Retrieve", tests.operation_tabs["Retrieve"]),
                         ("Store", tests.operation_tabs["Store"]))}
    out["clipped"]["Tests/Verify"] = clipped(tests)
    for title in ("Retrieve", "Store"):
        click_tab(app, tests.tabs, title)
        out["plots"][title] = plot_info(tests.operation_tabs[title].plot)
        out["clipped"][f"Tests/{title}"] = clipped(tests)
    query = tests.operation_tabs["Query"]
    click_tab(app, tests.tabs, "Query")
    click(query.search_button)
    wait(app, lambda: query.worker is None and query.results.rowCount() > 0, 60)
    settle(app, 0.5)
    model = query.view.model()
    out["query"] = {"rows": model.rowCount(), "visible_rows": visible_rows(query.view),
                    "headers": [model.headerData(c, Qt.Orientation.Horizontal)
                                for c in range(model.columnCount())]}
    out["clipped"]["Tests/Query"] = clipped(tests)
    probe = tests.operation_tabs["Capabilities"]
    click_tab(app, tests.tabs, "Capabilities")
    click(probe.start_button)
    wait(app, lambda: probe.worker is None and probe.table.rowCount() > 0, 120)
    settle(app, 0.5)
    out["capabilities"] = {"table": table_text(probe.table),
                           "association": table_text(probe.association)}
    out["clipped"]["Tests/Capabilities"] = clipped(tests)
    out["viewer"] = viewer(app, window, data_dir.parent / "cd")
    out["clipped"]["Viewer/study"] = clipped(window.panels["Viewer"])
    window.close()
    workers.cancel_all()
    ctx.close()
    return out


def main(argv: list[str]) -> int:
    result = measure(Path(argv[0]))
    print("LAYOUT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
