"""Rotating file log with the patient-data filter of core/phi.py; pynetdicom, httpx and httpcore
capped at WARNING unless verbose; uncaught exceptions logged and printed redacted."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from pacs_console.core import phi

LOG_FILE_NAME = "pacs-console.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

REDACTED = phi.REDACTED
redact = phi.redact_text  # the one redaction (core/phi.py); kept here for the log's callers


class PhiFilter(logging.Filter):
    """Redacts patient names, IDs and birth dates from every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class PhiFormatter(logging.Formatter):
    """Redacts the whole formatted record, the traceback and stack included (crash output)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def crash_text(exc_type, exc, tb) -> str:
    """A traceback with patient data taken out (exception messages often quote a value)."""
    return redact("".join(traceback.format_exception(exc_type, exc, tb)))


class _RotatingFileOnFirstRecord(logging.Handler):
    """The rotating log file, opened with its first record: a command that logs nothing (an
    echo that worked) never imports logging.handlers (pickle, queue and more, ~3 ms a start)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._file is None:
            import logging.handlers

            try:
                self._file = logging.handlers.RotatingFileHandler(
                    self.path, maxBytes=5_000_000, backupCount=5, encoding="utf-8")
            except OSError:  # as any handler's emit: reported on stderr, never raised
                self.handleError(record)
                return
        self._file.setFormatter(self.formatter)
        self._file.emit(record)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


_previous_hooks: dict[str, object] = {}


def _excepthook(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    text = crash_text(exc_type, exc, tb)
    logging.getLogger("pacs_console").critical("Uncaught exception:\n%s", text)
    sys.stderr.write(text)
    previous = _previous_hooks.get("sys")
    if previous not in (None, sys.__excepthook__, _excepthook):
        previous(exc_type, exc, tb)  # e.g. a test runner's hook; the default would print PHI


def _thread_excepthook(args) -> None:
    import threading

    if args.exc_type is SystemExit:
        return
    text = crash_text(args.exc_type, args.exc_value, args.exc_traceback)
    logging.getLogger("pacs_console").critical("Uncaught exception in a thread:\n%s", text)
    previous = _previous_hooks.get("thread")
    if previous not in (None, threading.__excepthook__, _thread_excepthook):
        previous(args)
    else:
        sys.stderr.write(text)


def setup_logging(log_dir: Path, *, verbose: bool = False, console: bool = False) -> Path:
    """Configure the root logger once; returns the log file path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_pacs_console", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [_RotatingFileOnFirstRecord(path)]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler._pacs_console = True  # type: ignore[attr-defined]
        handler.setFormatter(PhiFormatter(_FORMAT))
        handler.addFilter(PhiFilter())
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # pynetdicom logs every PDU at INFO/DEBUG: noise in the field log unless asked for.
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if verbose else logging.WARNING)
    # Alembic announces each of its plugins at INFO on every start; only migrations matter.
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    # httpx logs every request with its full URL at INFO: a QIDO search URL carries the
    # patient's name. Its query strings are redacted anyway; the lines are noise unless asked.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    import threading

    if sys.excepthook is not _excepthook:
        _previous_hooks["sys"], sys.excepthook = sys.excepthook, _excepthook
    if threading.excepthook is not _thread_excepthook:
        _previous_hooks["thread"], threading.excepthook = threading.excepthook, _thread_excepthook
    return path
