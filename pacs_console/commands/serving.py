"""Shared by the long-running subcommands (demo-pacs, scp): serve until Ctrl+C, SIGTERM or EOF."""

from __future__ import annotations

import signal
import sys
import threading


def add_serving_options(parser, handler) -> None:
    """The options every command that serves until stopped ends with (--no-stdin, --json for
    the listening address); ``handler`` runs it."""
    parser.add_argument("--no-stdin", action="store_true",
                        help="keep serving when standard input closes (background use)")
    parser.add_argument("--json", action="store_true",
                        help="print the listening address as one JSON document")
    parser.set_defaults(handler=handler, serves=True)


def _wait_for_stdin_eof(stop: threading.Event) -> None:
    try:
        while sys.stdin.readline():
            pass
    except (OSError, ValueError):
        pass
    stop.set()


def serve_until_stopped(*, watch_stdin: bool) -> None:
    """Block until Ctrl+C, SIGTERM or (with ``watch_stdin``) the end of standard input."""
    stop = threading.Event()
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if watch_stdin and sys.stdin is not None:
        threading.Thread(target=_wait_for_stdin_eof, args=(stop,), daemon=True,
                         name="serve-stdin").start()
    try:
        # Short waits keep the main thread responsive to Ctrl+C on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
