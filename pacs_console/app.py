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


def _start_up(ctx, demo: bool, demo_port: int | None = None):
    """Off the GUI thread, alone: open the database, then start the demo PACS if asked (its
    failure is returned, not raised, so the database being ready is never in doubt)."""
    ctx.prepare()
    if not demo:
        return None
    try:
        # Generating the synthetic studies runs here too, so the window shows at once.
        return ctx.start_demo(port=demo_port)
    except Exception as exc:  # noqa: BLE001 - shown in the status bar and logged
        log.exception("Demo PACS could not start")
        return exc


def configure_application(app) -> None:
    """Names, icon and style every console window runs with."""
    from PySide6.QtGui import QIcon

    app.setApplicationName("PACS Console")
    app.setOrganizationName("PACS Console")
    app.setWindowIcon(QIcon(str(resource_path("icons", "pacs-console.png"))))
    app.setStyle("Fusion")  # Fusion follows the OS light/dark scheme on every platform


def start_window(paths, *, demo: bool = False, demo_port: int | None = None):
    """Build the main window on ``paths`` and start it as ``pacs-console [--demo]`` does.

    The window shows at once; on the first event-loop turn one background task opens the
    database (alone, so no module is first imported from two threads) and starts the demo PACS
    if asked (on ``demo_port``; None tries the well-known port first). Until it is done, the
    background work the panels queue waits. When the demo answers, the status bar shows it and
    the console's own Storage SCP starts, so retrieves land somewhere. Returns the window
    (``window.ctx`` is its Context); the caller runs the event loop and closes the context.
    """
    from PySide6.QtCore import QTimer

    from pacs_console.core.context import Context
    from pacs_console.ui import workers
    from pacs_console.ui.main_window import MainWindow

    ctx = Context.open(paths)
    workers.hold()
    window = MainWindow(ctx)
    window.show()

    def started(running) -> None:
        if running is None:  # no demo asked for
            return
        if isinstance(running, Exception):
            window.status.set_demo("failed")
            window.status.showMessage(f"Demo PACS could not start: {running}", 30000)
            return
        window.demo_started(running)
        if ctx.scp is None or not ctx.scp.running:
            window.status.toggle_scp()
        log.info("Demo PACS %s on %s:%s", running.ae_title, running.host, running.port)

    def failed(exc: Exception) -> None:
        window.status.showMessage(f"The database could not be opened: {exc}", 60000)
        if demo:
            window.status.set_demo("failed")

    if demo:
        window.status.set_demo("starting…")
    QTimer.singleShot(0, lambda: workers.start(
        _start_up, ctx, demo, demo_port, on_result=started, on_error=failed,
        on_finished=workers.release, before_held=True))
    return window


def run_gui(args) -> int:
    from pacs_console.logs import setup_logging

    paths = app_paths(args.data_dir).ensure()
    setup_logging(paths.logs, verbose=args.verbose)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from pacs_console.ui import workers

    tune_interpreter_for_gui()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    window = start_window(paths, demo=args.demo)
    # Everything loaded so far (Qt wrappers, modules) lives as long as the app: moving it out of
    # the collector's reach keeps full collections (100+ ms with pydicom loaded) off the GUI.
    gc.freeze()
    if os.environ.get("PACS_CONSOLE_REPORT_SHOWN"):
        # Start-up benchmark hook: the first event-loop turn after show() means painted.
        QTimer.singleShot(0, lambda: print("WINDOW_SHOWN", flush=True))
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    try:
        return app.exec()
    finally:
        workers.cancel_all()
        window.ctx.close()
