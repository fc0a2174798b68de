"""Composition root for the GUI: paths, logging, context, QApplication, main window."""

from __future__ import annotations

import gc
import logging
import os
import sys

from pacs_console.paths import app_paths, resource_path

log = logging.getLogger(__name__)


def tune_interpreter_for_gui() -> None:
    """Hand the GIL over more often (default 5 ms): pynetdicom's worker threads are pure Python,
    and with the default a busy transfer can keep the GUI thread waiting for several slices."""
    sys.setswitchinterval(0.001)


def _start_up(ctx, demo: bool):
    """Off the GUI thread, alone: open the database, then start the demo PACS if asked (its
    failure is returned, not raised, so the database being ready is never in doubt)."""
    ctx.prepare()
    if not demo:
        return None
    try:
        # Generating the synthetic studies runs here too, so the window shows at once.
        return ctx.start_demo()
    except Exception as exc:  # noqa: BLE001 - shown in the status bar and logged
        log.exception("Demo PACS could not start")
        return exc


def run_gui(args) -> int:
    from pacs_console.logs import setup_logging

    paths = app_paths(args.data_dir).ensure()
    setup_logging(paths.logs, verbose=args.verbose)
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from pacs_console.core.context import Context
    from pacs_console.ui import workers
    from pacs_console.ui.main_window import MainWindow

    tune_interpreter_for_gui()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("PACS Console")
    app.setOrganizationName("PACS Console")
    app.setWindowIcon(QIcon(str(resource_path("icons", "pacs-console.png"))))
    app.setStyle("Fusion")  # Fusion follows the OS light/dark scheme on every platform
    ctx = Context.open(paths)
    # Until the database is open, background work the window starts waits (see _start_up).
    workers.hold()
    window = MainWindow(ctx)
    window.show()
    # Everything loaded so far (Qt wrappers, modules) lives as long as the app: moving it out of
    # the collector's reach keeps full collections (100+ ms with pydicom loaded) off the GUI.
    gc.freeze()
    if os.environ.get("PACS_CONSOLE_REPORT_SHOWN"):
        # Start-up benchmark hook: the first event-loop turn after show() means painted.
        QTimer.singleShot(0, lambda: print("WINDOW_SHOWN", flush=True))

    def started(demo) -> None:
        if demo is None:  # no --demo
            return
        if isinstance(demo, Exception):
            window.status.set_demo("failed")
            window.status.showMessage(f"Demo PACS could not start: {demo}", 30000)
            return
        window.demo_started(demo)
        # With the demo, retrieves must land somewhere: start the console's own SCP too.
        if ctx.scp is None or not ctx.scp.running:
            window.status.toggle_scp()
        log.info("Demo PACS %s on %s:%s", demo.ae_title, demo.host, demo.port)

    def failed(exc: Exception) -> None:
        window.status.showMessage(f"The database could not be opened: {exc}", 60000)
        if args.demo:
            window.status.set_demo("failed")

    if args.demo:
        window.status.set_demo("starting…")
    # On the first event-loop turn (the window is on screen), one background task opens the
    # database and starts the demo; the work the panels queued meanwhile runs after it.
    QTimer.singleShot(0, lambda: workers.start(
        _start_up, ctx, args.demo, on_result=started,
        on_error=failed, on_finished=workers.release, before_held=True))
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    try:
        return app.exec()
    finally:
        workers.cancel_all()
        ctx.close()
